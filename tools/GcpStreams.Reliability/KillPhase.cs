using System.Diagnostics;
using System.Globalization;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Reliability;

/// <summary>
/// kill -9 cycles: the broker and two attached instances; customers (reservations over HTTP with an Idempotency-Key and
/// retries on any live instance, paid orders, authorize/capture/void/refund payments, lock and unlock) arrive at a steady
/// rate; each cycle waits a random time (seeded), SIGKILLs a random instance and starts it again on its state dir. Then the
/// traffic ends, the stream goes quiet, and the stream is audited (<see cref="StreamAudit"/>) and gcp-ops ledger-check run.
/// </summary>
internal static class KillPhase
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(240);

    internal static readonly PoolChoice[] Pools =
    [
        new("rel-pos-1000", C.Channel.POS, 100_000, "RUB"),
        new("rel-pos-5000", C.Channel.POS, 500_000, "RUB"),
        new("rel-web-3000", C.Channel.INTERNET_STORE, 300_000, "RUB"),
        new("rel-web-10000", C.Channel.INTERNET_STORE, 1_000_000, "RUB"),
    ];

    /// <summary>
    /// Certificates per pool: a pool's load writes one changelog record per certificate, and the embedded broker keeps at most
    /// 5 MiB per partition; 3,000 a pool filled gcp-streams-pools-changelog within two minutes (docs/reliability.md).
    /// </summary>
    private const int PoolSize = 300;

    public static async Task<bool> RunAsync(SuiteOptions options, string dir, CancellationToken token)
    {
        Directory.CreateDirectory(dir);
        var random = new Random(options.Seed);
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"== kill phase: {options.Cycles} kill -9 cycles, seed {options.Seed}, {options.Rate} customers/s, logs in {dir}");
        await using var broker = await BrokerProcess.StartAsync(Path.Combine(dir, "broker.log"), TimeSpan.FromSeconds(120));
        Console.WriteLine($"broker: {broker.BootstrapServers} {broker.RegistryUrl}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var instances = new[] { new ServiceInstance("a", broker, dir), new ServiceInstance("b", broker, dir) };
        try
        {
            await Task.WhenAll(instances.Select(i => i.StartAsync(http, ReadyTimeout, token)));
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] instances ready: {string.Join(", ", instances.Select(i => $"{i.Name} {i.Url}"))}");
            var series = 61;
            foreach (var pool in Pools)
            {
                await AdminHttp.LoadPoolAsync(http, instances[0].Url!, pool.PoolId, pool.Channel.ToString(), pool.NominalMinor, PoolSize, series++, token);
            }

            using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = broker.RegistryUrl });
            var expected = new Expectations();
            var tally = new Tally();
            await using var shop = new Shop(broker.BootstrapServers, registry, new RecordSigner(System.Security.Cryptography.RandomNumberGenerator.GetBytes(RecordSigner.MinKeyBytes)));
            var traffic = new CustomerTraffic(shop, instances, Pools, expected, tally, random.Next());
            using var stopTraffic = CancellationTokenSource.CreateLinkedTokenSource(token);
            var trafficClock = Stopwatch.StartNew();
            var running = traffic.RunAsync(options.Rate, stopTraffic.Token);
            var restarts = new List<TimeSpan>();
            var stuck = new List<string>();
            for (var cycle = 1; cycle <= options.Cycles; cycle++)
            {
                var wait = TimeSpan.FromMilliseconds(random.Next(2_000, 12_000));
                var victim = instances[random.Next(instances.Length)];
                await Task.Delay(wait, token); // the random point of the kill
                await victim.KillAsync();
                var restart = Stopwatch.StartNew();
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] cycle {cycle}: kill -9 {victim.Name} after {wait.TotalSeconds:F1} s | {Progress(tally)}");
                try
                {
                    await victim.StartAsync(http, ReadyTimeout, token);
                }
                catch (TimeoutException e)
                {
                    // a stuck instance: a finding; the cycles end here and the traffic and the audit go on with the others
                    stuck.Add($"cycle {cycle}: {e.Message}");
                    Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] VIOLATION cycle {cycle}: {e.Message}");
                    break;
                }

                restarts.Add(restart.Elapsed);
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] cycle {cycle}: {victim.Name} ready again after {restart.Elapsed.TotalSeconds:F1} s");
            }

            if (trafficClock.Elapsed < TimeSpan.FromSeconds(options.TrafficSeconds))
            {
                await Task.Delay(TimeSpan.FromSeconds(options.TrafficSeconds) - trafficClock.Elapsed, token); // traffic for at least --traffic-seconds
            }

            await stopTraffic.CancelAsync(); // no new customers; those under way finish
            var unfinished = await running;
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] traffic done: {Progress(tally)}; journeys not finished {unfinished}");

            // the instances are stopped before the checks: their timers (a notification's delivery SLA, a hold's expiry) write
            // events and State records at any time, and a check that read the stream before such a write and State after it
            // would report State ahead of the stream (the 2 December run's nine "differences" were notification.overdue events
            // written between ledger-check's two reads)
            await Task.WhenAll(instances.Select(i => i.StopAsync()));
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] instances stopped (SIGTERM): nothing writes while the stream is checked");
            var (events, report) = await StreamAudit.AuditQuietStreamAsync(broker.BootstrapServers, registry, expected, clock, token);

            var ledger = await LedgerCheckAsync(broker, dir, token);
            Console.WriteLine($"ledger check            exit {ledger}");
            Console.WriteLine("events by type          " + string.Join(", ", events.GroupBy(e => e.EventType, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));
            Console.WriteLine("alerts by kind          " + string.Join(", ", events.Where(e => e.Detail is not null).GroupBy(e => e.Detail!.Split(' ')[0], StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));
            Console.WriteLine("customers               " + Progress(tally));
            if (restarts.Count > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"restart to ready        min {restarts.Min().TotalSeconds:F1} s, median {restarts.Order().ElementAt(restarts.Count / 2).TotalSeconds:F1} s, max {restarts.Max().TotalSeconds:F1} s"));
            }

            Console.WriteLine($"broker log-start warnings {broker.LogStartWarnings}");
            Console.WriteLine($"instances stuck          {stuck.Count}{string.Concat(stuck.Select(s => "\n  " + s))}");
            var ok = report.Ok && ledger == 0 && unfinished == 0 && stuck.Count == 0;
            Console.WriteLine($"kill phase: {clock.Elapsed.TotalMinutes:F1} min, seed {options.Seed}: {(ok ? "ok" : "VIOLATIONS")}");
            return ok;
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    private static string Progress(Tally tally) => string.Join(" | ", tally.Snapshot().Select(kv => $"{kv.Key} {kv.Value}"));

    /// <summary>gcp-ops ledger-check against the broker; its exit code (0: the stream and the state agree).</summary>
    private static async Task<int> LedgerCheckAsync(BrokerProcess broker, string dir, CancellationToken token)
    {
        var start = Children.Dotnet("tools/GcpStreams.Ops/bin/Release/net10.0/gcp-ops.dll");
        foreach (var arg in new[] { "ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl, "--explain", "5" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        process.Start();
        Children.Track(process);
        var output = process.StandardOutput.ReadToEndAsync(token);
        var errors = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        var text = await output + await errors;
        await File.WriteAllTextAsync(Path.Combine(dir, "ledger-check.log"), text, token);
        foreach (var line in text.Split('\n').Where(l => l.Length > 0).Take(20))
        {
            Console.WriteLine("  gcp-ops: " + line);
        }

        return process.ExitCode;
    }
}
