using System.Diagnostics;
using System.Globalization;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Reliability;

/// <summary>
/// The service's memory with many issued certificates (issue 11: RSS ≤ 1 GB with 1,000,000 — its state stores and its read
/// model, in one process): the broker and one attached instance with its default settings; pools of 10,000 loaded over HTTP;
/// then <see cref="SuiteOptions.Certificates"/> certificates reserved (reserve commands on the command topic, signed with the key the
/// instance is given, as the integration tests send them; <see cref="InFlight"/> at a time) and each paid by an order on
/// the Orders topic as its reply comes. Issues are counted as they come, by the event-type header on GiftCertificates.Stream
/// (<see cref="EventCounter"/>): the embedded broker keeps only the last 5 MiB of a partition, so nothing can be counted
/// afterwards. Every <see cref="SuiteOptions.SampleSeconds"/> a line: issued, rate, the instance's RSS. At the end: RSS, the peak
/// (VmHWM), the state directory on disk, and a sample of the certificates looked up over HTTP (the read model has them).
/// </summary>
internal static class MemoryPhase
{
    private const int PoolSize = Domain.Pools.PoolSettings.DefaultMaxLoadBatch;
    private const int InFlight = 256;
    private const long Nominal = 100_000;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(5);

    public static async Task<bool> RunAsync(SuiteOptions options, string dir, CancellationToken token)
    {
        Directory.CreateDirectory(dir);
        var n = options.Certificates;
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"== memory phase: {n:N0} certificates issued through one attached instance (default settings), logs in {dir}");
        await using var broker = await BrokerProcess.StartAsync(Path.Combine(dir, "broker.log"), TimeSpan.FromSeconds(120));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        var signingKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(RecordSigner.MinKeyBytes);
        await using var instance = new ServiceInstance("a", broker, dir, new Dictionary<string, string> { ["Gcp__CommandSigningKey"] = Convert.ToBase64String(signingKey) });
        await instance.StartAsync(http, ReadyTimeout, token);
        var pid = instance.ProcessId ?? throw new InvalidOperationException("the instance is not running");
        var started = Sample(pid);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:F0}s] instance ready, RSS {started.Rss:F0} MiB"));

        var pools = Enumerable.Range(0, (n + PoolSize - 1) / PoolSize).Select(i => $"mem-pool-{i:D4}").ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, pools.Length), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = token }, async (i, t) =>
            await AdminHttp.LoadPoolAsync(http, instance.Url!, pools[i], C.Channel.POS.ToString(), Nominal, PoolSize, series: 1_000 + i, t));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{clock.Elapsed.TotalSeconds,6:F0}s] {pools.Length} pools of {PoolSize:N0} loaded, RSS {Sample(pid).Rss:F0} MiB"));

        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = broker.RegistryUrl });
        var codec = new Codec(registry);
        await using var commands = new CommandChannel(broker.BootstrapServers, codec, "memory-" + Guid.NewGuid().ToString("N")[..8],
            new RecordSigner(signingKey));
        using var issued = new EventCounter(broker.BootstrapServers, Partitions(broker.BootstrapServers), EventTypes.Issued);
        var ids = new string[n];
        var refused = 0;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(token);
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.SampleSeconds));
            var last = (Count: 0L, At: clock.Elapsed);
            while (await timer.WaitForNextTickAsync(sampling.Token).ConfigureAwait(false))
            {
                var now = (Count: issued.Count, At: clock.Elapsed);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{now.At.TotalSeconds,6:F0}s] issued {now.Count,9:N0} ({(now.Count - last.Count) / (now.At - last.At).TotalSeconds,6:F0}/s), RSS {Sample(pid).Rss,6:F0} MiB"));
                last = now;
            }
        }, CancellationToken.None);

        var issuing = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = InFlight, CancellationToken = token }, async (i, t) =>
        {
            var pool = pools[i / PoolSize];
            var orderId = string.Create(CultureInfo.InvariantCulture, $"mem-order-{i}");
            var reply = await commands.SendAsync(pool, new C.ReserveCertificate { poolId = pool, channel = C.Channel.POS, nominalMinor = Nominal, currency = "RUB", orderId = orderId, holdSeconds = 1800 },
                "memory-phase", correlationId: null, idempotencyKey: null, ReplyTimeout, t);
            if (reply.outcome != C.ReplyOutcome.ACCEPTED)
            {
                if (Interlocked.Increment(ref refused) == 1)
                {
                    Console.WriteLine($"reservation refused: {reply.reason} {reply.message}");
                }

                return;
            }

            ids[i] = reply.certificateId;
            await commands.ProduceAsync(Topics.SalesOrders, orderId, TeamRecords.Order(orderId, reply.certificateId, pool, C.Channel.POS, Nominal), t);
        });
        var expected = n - refused;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            deadline.CancelAfter(TimeSpan.FromMinutes(10));
            await issued.WhenCountReaches(expected).WaitAsync(deadline.Token);
        }

        var rate = expected / issuing.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler.ContinueWith(_ => { }, TaskScheduler.Default);

        // the read model catches up with the stream: every certificate of a sample answers
        var sample = ids.Where(id => id is not null).OrderBy(_ => Random.Shared.Next()).Take(1_000).ToList();
        var found = 0;
        var lookup = Stopwatch.StartNew();
        while (true)
        {
            found = 0;
            foreach (var id in sample)
            {
                found += await instance.Api!.CertificateExistsAsync(id, token) ? 1 : 0;
            }

            if (found == sample.Count || lookup.Elapsed > TimeSpan.FromMinutes(5))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(2), token); // polling the read model
        }

        var end = Sample(pid);
        var disk = DirectoryBytes(Path.Combine(dir, "a-state")) / 1048576.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"certificates issued     {issued.Count:N0} of {n:N0} ({refused} reservations refused) in {issuing.Elapsed.TotalSeconds:F0} s: {rate:F0}/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"instance RSS            {end.Rss:F0} MiB (at start {started.Rss:F0} MiB; peak VmHWM {end.Peak:F0} MiB)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"state dir on disk       {disk:F0} MiB (the stores and the read model, RocksDB)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read model              {found} of a sample of {sample.Count} issued certificates found over HTTP"));
        Console.WriteLine($"broker log-start warnings {broker.LogStartWarnings} (expected: the run outgrows the embedded broker's 5 MiB per partition; nothing is restored from it)");
        var ok = issued.Count >= n - refused && refused == 0 && found == sample.Count && end.Rss <= 1024;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory phase: {clock.Elapsed.TotalMinutes:F1} min: {(ok ? "ok" : "NOT MET")} (RSS ≤ 1,024 MiB with every certificate issued and found)"));
        return ok;
    }

    private static (double Rss, double Peak) Sample(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        return (SoakPhase.ParseStatusMiB(status, "VmRSS:"), SoakPhase.ParseStatusMiB(status, "VmHWM:"));
    }

    private static int Partitions(string bootstrap)
    {
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = bootstrap }).Build();
        return admin.GetMetadata(Topics.Stream.Name, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
    }

    private static long DirectoryBytes(string path) =>
        Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
}
