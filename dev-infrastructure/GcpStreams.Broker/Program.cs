using GcpStreams.Broker;
using Microsoft.Extensions.Logging;

// make broker: the embedded broker and the schema registry as one long-lived process (README, "Several instances: make broker")
BrokerSettings settings;
try
{
    settings = BrokerSettings.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"gcp-broker: {e.Message}");
    Console.Error.WriteLine(BrokerSettings.Usage);
    return 2;
}

using var loggers = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    }));

using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // stop cleanly below
    stopping.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stopping.Cancel();
});

StandaloneBroker broker;
try
{
    broker = await StandaloneBroker.StartAsync(settings, loggers);
}
catch (System.Net.Sockets.SocketException e)
{
    Console.Error.WriteLine($"gcp-broker: cannot listen ({e.Message}): is --port {settings.Port} or --registry-port {settings.RegistryPort} taken?");
    return 1;
}
catch (IOException e)
{
    Console.Error.WriteLine($"gcp-broker: cannot listen ({e.Message}): is --registry-port {settings.RegistryPort} taken?");
    return 1;
}

await using (broker)
{
    foreach (var line in broker.Banner())
    {
        Console.Out.WriteLine(line);
    }

    Console.Out.Flush();
    try
    {
        await Task.Delay(Timeout.Infinite, stopping.Token);
    }
    catch (OperationCanceledException)
    {
        Console.Out.WriteLine("gcp-broker stopping: the topics and schemas it kept are gone.");
    }
}

return 0;
