using System.Diagnostics;
using System.Globalization;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Traffic;

namespace GcpStreams.Reliability;

/// <summary>
/// Soak: the broker and <see cref="SuiteOptions.Instances"/> attached instances (1 unless given), the kill phase's customers
/// (<see cref="CustomerTraffic"/>) at a steady <see cref="SuiteOptions.Rate"/> for <see cref="SuiteOptions.Minutes"/> minutes,
/// nothing killed. Every <see cref="SuiteOptions.SampleSeconds"/> a sample: each instance's RSS (<c>/proc/PID/status</c>), the
/// interval's reservation and payment latencies (p50, p99), the CPU the broker and each instance used in it (<c>/proc/PID/stat</c>:
/// which side a latency trend comes from), the broker's largest partition against its 5 MiB. At the end a
/// table, the verdict (<see cref="SoakVerdict"/>) and <c>soak.csv</c>; then the stream is audited as in the kill phase.
/// </summary>
internal static class SoakPhase
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(240);

    /// <summary>
    /// The instances' RocksDB caches at their smallest (block caches 8 MiB, memtables 1 MiB; defaults 64 and 4 MiB for the stores,
    /// 64 and 16 MiB for the read model). At a soak's rate the default caches take hours to fill, and filling looks like growth:
    /// sized down, they are full within the warm-up, so what still grows after it is not a bounded cache.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string> SmallCaches = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Kafka__StoreBlockCacheMiB"] = "8",
        ["Kafka__StoreWriteBufferMiB"] = "1",
        ["ReadModel__BlockCacheMiB"] = "8",
        ["ReadModel__WriteBufferMiB"] = "1",
    };

    public static async Task<bool> RunAsync(SuiteOptions options, string dir, CancellationToken token)
    {
        Directory.CreateDirectory(dir);
        var random = new Random(options.Seed);
        var clock = Stopwatch.StartNew();
        var instanceCount = options.Instances ?? 1;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"== soak phase: {options.Minutes} min at {options.Rate} customers/s, {instanceCount} instance(s), a sample every {options.SampleSeconds} s, seed {options.Seed}, logs in {dir}"));
        await using var broker = await BrokerProcess.StartAsync(Path.Combine(dir, "broker.log"), TimeSpan.FromSeconds(120));
        Console.WriteLine($"broker: {broker.BootstrapServers} {broker.RegistryUrl}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var instances = Enumerable.Range(0, instanceCount).Select(i => new ServiceInstance(((char)('a' + i)).ToString(), broker, dir, SmallCaches)).ToArray();
        Console.WriteLine("instances' RocksDB caches sized down so they fill within the warm-up (what grows after it is not a bounded cache): "
            + string.Join(", ", SmallCaches.Select(s => $"{s.Key.Replace("__", ":", StringComparison.Ordinal)} {s.Value}")));
        try
        {
            await Task.WhenAll(instances.Select(i => i.StartAsync(http, ReadyTimeout, token)));
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] instances ready: {string.Join(", ", instances.Select(i => $"{i.Name} {i.Url}"))}");
            var pools = KillPhase.Pools;
            var perPool = PoolSizeFor(options.Rate, options.Minutes, pools.Length);
            var series = 81;
            foreach (var pool in pools)
            {
                await AdminHttp.LoadPoolAsync(http, instances[0].Url!, pool.PoolId, pool.Channel.ToString(), pool.NominalMinor, perPool, series++, token);
            }

            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] {pools.Length} pools of {perPool} certificates loaded");
            using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = broker.RegistryUrl });
            using var sizes = new PartitionSizes(broker.BootstrapServers);
            var expected = new Expectations();
            var tally = new Tally();
            var latencies = new Latencies();
            await using var shop = new Shop(broker.BootstrapServers, registry, new RecordSigner(System.Security.Cryptography.RandomNumberGenerator.GetBytes(RecordSigner.MinKeyBytes)));
            var traffic = new CustomerTraffic(shop, instances, pools, expected, tally, random.Next(), latencies);
            using var stopTraffic = CancellationTokenSource.CreateLinkedTokenSource(token);
            var trafficClock = Stopwatch.StartNew();
            var running = traffic.RunAsync(options.Rate, stopTraffic.Token);
            var samples = new List<SoakSample>();
            var cpu = new CpuMeter([broker.ProcessId, .. instances.Select(i => i.ProcessId)]);
            Console.WriteLine(SoakSample.RowHeader);
            using (var every = new PeriodicTimer(TimeSpan.FromSeconds(options.SampleSeconds)))
            {
                while (trafficClock.Elapsed < TimeSpan.FromMinutes(options.Minutes) && await every.WaitForNextTickAsync(token))
                {
                    // on a thread of its own: a sample blocks (reading the partitions' sizes from the broker) for up to seconds, which on
                    // a thread-pool thread starves the traffic's continuations and shows in the very latencies it measures
                    var elapsed = trafficClock.Elapsed;
                    var sample = await Task.Factory.StartNew(() => Sample(elapsed, instances, latencies, sizes, cpu.Cores()), CancellationToken.None,
                        TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    samples.Add(sample);
                    Console.WriteLine(sample.Row());
                }
            }

            await stopTraffic.CancelAsync(); // no new customers; those under way finish
            var unfinished = await running;
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] traffic done: {string.Join(" | ", tally.Snapshot().Select(kv => $"{kv.Key} {kv.Value}"))}; journeys not finished {unfinished}");
            foreach (var instance in instances)
            {
                var retries = instance.Api?.Retries ?? new Dictionary<string, long>();
                Console.WriteLine($"API retries of instance {instance.Name}: {(retries.Count == 0 ? "none" : string.Join(" | ", retries.Select(r => $"{r.Key} ×{r.Value}")))}");
            }

            var csv = Path.Combine(dir, "soak.csv");
            await File.WriteAllLinesAsync(csv, samples.Select(s => s.Csv()).Prepend(SoakSample.CsvHeader), token);
            var trends = SoakVerdict.Judge(samples, options.Minutes);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak verdict (after a warm-up of {SoakVerdict.WarmUp(options.Minutes):F1} min; p99s of the latencies pooled over {SoakVerdict.P99Window(options.Minutes):F1}-minute windows; flat: the fitted rise at most {SoakVerdict.RelativeBound:P0} of the mean, at least {SoakVerdict.RssFloorMiB} MiB for RSS and {SoakVerdict.P99FloorMs} ms for a p99):"));
            foreach (var trend in trends)
            {
                Console.WriteLine("  " + trend);
            }

            var verdict = SoakVerdict.Of(trends);
            var largest = samples.Count == 0 ? null : samples.MaxBy(s => s.LargestPartitionMiB);
            Console.WriteLine($"soak: {verdict}; samples in {csv}");
            Console.WriteLine(largest is null ? "largest partition: -" : string.Create(CultureInfo.InvariantCulture,
                $"largest partition: {largest.LargestPartition} {largest.LargestPartitionMiB:F2} MiB of 5 MiB at {largest.Minutes:F1} min; partitions trimmed by the broker at the end: {samples[^1].PartitionsTrimmed}; log-start warnings {broker.LogStartWarnings}"));

            var (_, report) = await StreamAudit.AuditQuietStreamAsync(broker.BootstrapServers, registry, expected, clock, token);

            var trimmed = samples.Count == 0 ? 0 : samples[^1].PartitionsTrimmed;
            if (trimmed > 0 || broker.LogStartWarnings > 0)
            {
                Console.WriteLine("soak: OVERSIZED — the embedded broker dropped the oldest records of a partition (5 MiB per partition): lower --rate or --minutes");
            }

            var ok = verdict == "flat" && trimmed == 0 && broker.LogStartWarnings == 0 && report.Ok && unfinished == 0;
            Console.WriteLine($"soak phase: {clock.Elapsed.TotalMinutes:F1} min, seed {options.Seed}: {(ok ? "ok" : "VIOLATIONS")}");
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

    /// <summary>
    /// Certificates per pool for the whole run: every customer takes one from a pool chosen at random, with a quarter to spare
    /// (at most a load's 10,000).
    /// </summary>
    internal static int PoolSizeFor(double rate, double minutes, int pools) =>
        (int)Math.Min(10_000, Math.Ceiling(rate * 60 * minutes / pools * 1.25) + 20);

    private static SoakSample Sample(TimeSpan at, ServiceInstance[] instances, Latencies latencies, PartitionSizes sizes, IReadOnlyList<double> cores)
    {
        var reservations = latencies.Drain(Latencies.Reservation);
        var payments = latencies.Drain(Latencies.Payment);
        var (partition, mib, trimmed) = sizes.Largest();
        return new SoakSample(
            at.TotalMinutes,
            [.. instances.Select(i => i.ProcessId is { } pid ? RssMiB(pid) : double.NaN)],
            reservations.Length, Latencies.Percentile(reservations, 50), Latencies.Percentile(reservations, 99),
            payments.Length, Latencies.Percentile(payments, 50), Latencies.Percentile(payments, 99),
            partition, mib, trimmed, cores[0], [.. cores.Skip(1)])
        {
            ReservationLatencies = reservations,
            PaymentLatencies = payments,
        };
    }

    /// <summary>The resident set of a process, from <c>VmRSS</c> in <c>/proc/PID/status</c> (kB); NaN once it is gone.</summary>
    internal static double RssMiB(int pid)
    {
        try
        {
            return ParseVmRssMiB(File.ReadAllLines($"/proc/{pid}/status"));
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    internal static double ParseVmRssMiB(IEnumerable<string> status) => ParseStatusMiB(status, "VmRSS:");

    /// <summary>A size field of <c>/proc/PID/status</c> (<c>VmRSS:</c>, <c>VmHWM:</c>, in kB) in MiB; NaN when it is missing.</summary>
    internal static double ParseStatusMiB(IEnumerable<string> status, string field)
    {
        var line = status.FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        if (line is null)
        {
            return double.NaN;
        }

        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture) / 1024.0;
    }
}

/// <summary>
/// The CPU each process used since the previous reading, in cores (1.0 = one core busy the whole interval), from <c>utime</c> and
/// <c>stime</c> in <c>/proc/PID/stat</c>; NaN for a process that is gone (or has no id).
/// </summary>
internal sealed class CpuMeter
{
    /// <summary>Clock ticks per second of <c>/proc/PID/stat</c> (USER_HZ: 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    private readonly int?[] processes;
    private readonly double[] previous;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private TimeSpan previousAt;

    public CpuMeter(IReadOnlyList<int?> processes)
    {
        this.processes = [.. processes];
        previous = [.. this.processes.Select(Seconds)];
    }

    /// <summary>Cores used by each process since the last call (or since the meter started).</summary>
    public IReadOnlyList<double> Cores()
    {
        var now = clock.Elapsed;
        var elapsed = (now - previousAt).TotalSeconds;
        previousAt = now;
        var cores = new double[processes.Length];
        for (var i = 0; i < processes.Length; i++)
        {
            var seconds = Seconds(processes[i]);
            cores[i] = elapsed > 0 ? (seconds - previous[i]) / elapsed : double.NaN;
            previous[i] = seconds;
        }

        return cores;
    }

    private static double Seconds(int? pid)
    {
        try
        {
            return pid is { } id ? ParseStatSeconds(File.ReadAllText($"/proc/{id}/stat")) : double.NaN;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>utime + stime of a <c>/proc/PID/stat</c> line, in seconds (fields 14 and 15, counted after the command's closing parenthesis).</summary>
    internal static double ParseStatSeconds(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }
}
