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
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(240);

    private static readonly PoolChoice[] Pools =
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
            var traffic = new Traffic(shop, instances, expected, tally, random.Next());
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
            var end = await StreamTopic.WaitQuietAsync(broker.BootstrapServers, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(3), token);
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] stream quiet at {end} records");
            var events = StreamTopic.ReadAll(broker.BootstrapServers, registry, TimeSpan.FromMinutes(3));
            AuditReport report;
            lock (expected)
            {
                report = StreamAudit.Check(events, expected);
            }

            foreach (var line in report.Lines())
            {
                Console.WriteLine(line);
            }

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
        foreach (var arg in new[] { "ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl })
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

    /// <summary>The customers: one journey each, started at a steady rate until cancelled.</summary>
    private sealed class Traffic(Shop shop, ServiceInstance[] instances, Expectations expected, Tally tally, int seed)
    {
        private readonly Random random = new(seed);

        /// <summary>Starts customers until <paramref name="token"/> is cancelled, then waits for them; returns how many did not finish.</summary>
        public async Task<int> RunAsync(double rate, CancellationToken token)
        {
            var journeys = new List<Task<bool>>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; !token.IsCancellationRequested; i++)
            {
                var due = TimeSpan.FromSeconds(i / rate);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed, token).ContinueWith(_ => { }, TaskScheduler.Default); // pacing
                }

                if (token.IsCancellationRequested)
                {
                    break;
                }

                int journeySeed;
                PoolChoice pool;
                lock (random)
                {
                    journeySeed = random.Next();
                    pool = Pools[random.Next(Pools.Length)];
                }

                journeys.Add(Task.Run(() => JourneyAsync(pool, new Random(journeySeed))));
            }

            var done = await Task.WhenAll(journeys);
            return done.Count(d => !d);
        }

        private async Task<bool> JourneyAsync(PoolChoice pool, Random r)
        {
            try
            {
                await CustomerAsync(pool, r);
                return true;
            }
            catch (Exception e) when (e is TimeoutException or ApiUnavailableException or HttpRequestException or Confluent.Kafka.KafkaException or InvalidOperationException)
            {
                tally.Add($"failed ({e.GetType().Name})");
                Console.WriteLine($"  journey failed: {e.Message}");
                return false;
            }
        }

        private async Task CustomerAsync(PoolChoice pool, Random r)
        {
            var orderId = "order-" + Guid.NewGuid().ToString("N")[..12];
            var key = "reliability-" + orderId;
            lock (expected)
            {
                expected.Reservations[key] = false;
            }

            var answer = await AnyInstanceAsync("reserve", api => api.ReserveAsync(pool, orderId, 1800, key, CancellationToken.None));
            lock (expected)
            {
                expected.Reservations[key] = true;
            }

            if (!answer.Done)
            {
                tally.Add($"reserve refused ({answer.Refusal})");
                return;
            }

            var id = answer.CertificateId!;
            tally.Add("reserved");
            var issued = shop.WaitForEventAsync(id, "certificate.issued", AnswerTimeout, CancellationToken.None);
            lock (expected)
            {
                expected.PaidCertificates.Add(id);
            }

            await shop.ProduceAsync(Topics.SalesOrders, orderId, TeamRecords.Order(orderId, id, pool.PoolId, pool.Channel, pool.NominalMinor, pool.Currency), CancellationToken.None);
            await issued;
            tally.Add("issued");
            var balance = pool.NominalMinor;
            string? lastCapture = null;
            long lastAmount = 0;
            for (var visit = r.Next(1, 4); visit > 0 && balance > 0; visit--)
            {
                var amount = Math.Max(1, (long)(balance * r.Next(10, 60) / 100.0));
                if (r.NextDouble() < 0.3)
                {
                    var auth = await PayAsync(pool, C.PaymentOperation.AUTHORIZE, id, amount, null);
                    lastCapture = await PayAsync(pool, C.PaymentOperation.CAPTURE, id, amount / 2, auth);
                    await PayAsync(pool, C.PaymentOperation.VOID, id, 0, auth);
                    lastAmount = amount / 2;
                    tally.Add("authorize+capture+void");
                }
                else
                {
                    lastCapture = await PayAsync(pool, C.PaymentOperation.CAPTURE, id, amount, null);
                    lastAmount = amount;
                    tally.Add("capture");
                }

                balance -= lastAmount;
            }

            if (lastCapture is not null && r.NextDouble() < 0.2)
            {
                await PayAsync(pool, C.PaymentOperation.REFUND, id, lastAmount, lastCapture);
                tally.Add("refund");
            }

            if (r.NextDouble() < 0.15)
            {
                var locked = await AnyInstanceAsync("lock", api => api.LockAsync(id, "customer reported loss", CancellationToken.None), retried: "LOCKED");
                await PayAsync(pool, C.PaymentOperation.CAPTURE, id, 1, null); // refused while locked
                var unlocked = await AnyInstanceAsync("unlock", api => api.UnlockAsync(id, "card found", CancellationToken.None), retried: "INVALID_STATUS");
                tally.Add(locked.Done && unlocked.Done ? "lock+unlock" : $"lock/unlock refused ({locked.Refusal ?? unlocked.Refusal})");
            }

            tally.Add("customers done");
        }

        private async Task<string> PayAsync(PoolChoice pool, C.PaymentOperation operation, string certificateId, long amount, string? parent)
        {
            var payment = TeamRecords.Payment(operation, certificateId, amount, parent, pool.Channel, pool.Currency);
            lock (expected)
            {
                expected.PaymentEventIds.Add(payment.eventId);
            }

            var outcome = shop.WaitForOutcomeAsync(payment.eventId, AnswerTimeout, CancellationToken.None);
            await shop.ProduceAsync(Topics.Payments, payment.paymentId, payment, CancellationToken.None);
            if ((await outcome).payload is C.OperationRejected rejected)
            {
                tally.Add($"{operation.ToString().ToLowerInvariant()} refused ({rejected.reason})");
            }

            return payment.paymentId;
        }

        /// <summary>
        /// Calls the API on a live instance; when it gives no final answer (killed meanwhile, 503/504 after its retries) the same
        /// call (the same Idempotency-Key for a reservation) goes to a live instance again, until <see cref="AnswerTimeout"/>.
        /// A refusal <paramref name="retried"/> after such a retry counts as done (the first try was carried out).
        /// </summary>
        private async Task<ApiAnswer> AnyInstanceAsync(string what, Func<GcpApi, Task<ApiAnswer>> call, string? retried = null)
        {
            var deadline = DateTime.UtcNow + AnswerTimeout;
            var tries = 0;
            Exception? last = null;
            while (DateTime.UtcNow < deadline)
            {
                GcpApi? api;
                lock (random)
                {
                    var live = instances.Where(i => i.Api is not null).ToList();
                    api = live.Count == 0 ? null : live[random.Next(live.Count)].Api;
                }

                if (api is null)
                {
                    await Task.Delay(500); // every instance is restarting
                    continue;
                }

                tries++;
                try
                {
                    var answer = await call(api);
                    if (tries > 1)
                    {
                        tally.Add($"{what} answered after a retry");
                        if (retried is not null && answer.Refusal == retried)
                        {
                            return answer with { Refusal = null };
                        }
                    }

                    return answer;
                }
                catch (Exception e) when (e is ApiUnavailableException or HttpRequestException or ObjectDisposedException or TaskCanceledException)
                {
                    last = e;
                    tally.Add($"{what} retryable");
                }
            }

            throw new TimeoutException($"{what}: no answer within {AnswerTimeout.TotalSeconds:F0} s ({tries} tries; last: {last?.Message})");
        }
    }
}
