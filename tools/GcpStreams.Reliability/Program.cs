using System.Runtime.InteropServices;
using GcpStreams.Reliability;

// make reliability [RELIABILITY_ARGS="--phase kill|reserve|soak|memory|all --cycles 20 --seed N --minutes 30"]: docs/reliability.md
var options = SuiteOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(SuiteOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    cancel.Cancel();
});
AppDomain.CurrentDomain.ProcessExit += (_, _) => Children.KillAll(); // no child outlives the suite
AppDomain.CurrentDomain.UnhandledException += (_, _) => Children.KillAll();

var results = Path.GetFullPath(Path.Combine(GcpStreams.Traffic.Smtp4Dev.RepositoryRoot(), options.Results, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)));
Directory.CreateDirectory(results);
Console.WriteLine($"gcp-reliability: phase {options.Phase}, seed {options.Seed}, logs under {results}");
var ok = true;
try
{
    if (options.Phase is "kill" or "all")
    {
        ok &= await KillPhase.RunAsync(options, Path.Combine(results, "kill"), cancel.Token);
    }

    if (options.Phase is "reserve" or "all")
    {
        ok &= await ReservePhase.RunAsync(options, Path.Combine(results, "reserve"), cancel.Token);
    }

    if (options.Phase is "soak")
    {
        ok &= await SoakPhase.RunAsync(options, Path.Combine(results, "soak"), cancel.Token);
    }

    if (options.Phase is "memory")
    {
        ok &= await MemoryPhase.RunAsync(options, Path.Combine(results, "memory"), cancel.Token);
    }
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.WriteLine("gcp-reliability: cancelled");
    ok = false;
}
finally
{
    Children.KillAll();
}

Console.WriteLine(ok ? "gcp-reliability: PASSED" : "gcp-reliability: FAILED");
return ok ? 0 : 1;
