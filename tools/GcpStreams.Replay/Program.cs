using GcpStreams.Replay;

// make replay (README, docs/operations.md "Replay and rebuild")
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
return await ReplayCommands.RunAsync(args, Console.Out, Console.Error, stop.Token);
