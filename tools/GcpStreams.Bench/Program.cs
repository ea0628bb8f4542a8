using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using GcpStreams.Topology;
using GcpStreams.Traffic;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

// gcp-bench [--certificates 400] [--throughput 10000] [--rate 200] [--seconds 20]
// Hosts the whole service on the embedded broker with exactly-once, issues certificates through the real flow, then
// (1) blasts capture payments as fast as they can be produced and times until the last outcome is on the stream,
// (2) sends captures at a fixed moderate rate and measures each one's end-to-end latency: produced on All_Payments ->
//     its outcome event visible to a read_committed consumer of GiftCertificates.Stream.
var options = ParseArgs(args);
var root = Directory.CreateTempSubdirectory("gcp-bench-").FullName;
var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
{
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Kafka:Mode"] = "Embedded",
        ["Kafka:StateDir"] = Path.Combine(root, "state"),
        ["Gcp:NumberingKey"] = GcpOptions.DevelopmentNumberingKey,
        ["Gcp:CvcKeys:1"] = GcpOptions.DevelopmentCvcKey,
    });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
});
await app.StartAsync();
var stream = app.Services.GetRequiredService<StreamService>();
await stream.WhenRunning.WaitAsync(TimeSpan.FromMinutes(2));
var kafka = app.Services.GetRequiredService<KafkaEnvironment>();
var kafkaOptions = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KafkaOptions>>().Value;
var shop = new Shop(kafka.BootstrapServers, app.Services.GetRequiredService<Confluent.SchemaRegistry.ISchemaRegistryClient>(), app.Services.GetRequiredService<CommandSigning>().Signer);
var timeout = TimeSpan.FromSeconds(60);
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(15));

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"GcpStreams benchmark: embedded broker, {kafkaOptions.ProcessingGuarantee}, commit {kafkaOptions.CommitIntervalMs} ms, poll {kafkaOptions.PollMs} ms, fetch.wait.max.ms {kafkaOptions.FetchWaitMaxMs}, {kafkaOptions.NumStreamThreads} stream thread(s), {kafkaOptions.Partitions} partitions, {Environment.ProcessorCount} cores"));

// setup: pools, then certificates issued through reserve -> paid order
var certificates = new List<string>();
var pools = Enumerable.Range(0, 4).Select(i => $"bench-pool-{i}").ToArray();
for (var i = 0; i < pools.Length; i++)
{
    await shop.SendCommandAsync(pools[i], new C.LoadPool { poolId = pools[i], channel = C.Channel.POS, nominalMinor = 10_000_000, currency = "RUB", count = options.Certificates / pools.Length + 1, lowWatermark = 0, series = 100 + i, importedNumbers = [] }, timeout, cancel.Token);
}

var setup = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, options.Certificates), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancel.Token }, async (i, token) =>
{
    var pool = pools[i % pools.Length];
    var orderId = $"bench-order-{i}";
    var reply = await shop.SendCommandAsync(pool, new C.ReserveCertificate { poolId = pool, channel = C.Channel.POS, nominalMinor = 10_000_000, currency = "RUB", orderId = orderId, holdSeconds = 1800 }, timeout, token);
    if (reply.outcome != C.ReplyOutcome.ACCEPTED)
    {
        throw new InvalidOperationException($"setup: reservation {i} in {pool} refused: {reply.reason} {reply.message}");
    }

    await shop.ProduceAsync(Topics.SalesOrders, orderId, TeamRecords.Order(orderId, reply.certificateId, pool, C.Channel.POS, 10_000_000), token);
    await shop.WaitForEventAsync(reply.certificateId, "certificate.issued", timeout, token);
    lock (certificates)
    {
        certificates.Add(reply.certificateId);
    }
});
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"setup: {certificates.Count} certificates reserved, paid and issued in {setup.Elapsed.TotalSeconds:F1} s"));

var random = new Random(42);
C.Payment Capture() => TeamRecords.Payment(C.PaymentOperation.CAPTURE, certificates[random.Next(certificates.Count)], 1, null, C.Channel.POS);

// (1) sustained throughput: everything produced at once, timed until the last outcome is visible
var batch = Enumerable.Range(0, options.Throughput).Select(_ => Capture()).ToList();
var outcomes = batch.Select(p => shop.WaitForOutcomeAsync(p.eventId, TimeSpan.FromMinutes(10), cancel.Token)).ToList();
var blast = Stopwatch.StartNew();
await Task.WhenAll(batch.Select(p => shop.ProduceAsync(Topics.Payments, p.paymentId, p, cancel.Token)));
var produced = blast.Elapsed;
await Task.WhenAll(outcomes);
var drained = blast.Elapsed;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"throughput: {options.Throughput} payments produced in {produced.TotalSeconds:F2} s, all {options.Throughput} outcomes on the stream after {drained.TotalSeconds:F2} s = {options.Throughput / drained.TotalSeconds:F0} input events/s end to end"));

// (2) latency at a fixed moderate rate
var latencies = new ConcurrentBag<double>();
var paced = Stopwatch.StartNew();
var total = (int)(options.Rate * options.Seconds);
var inflight = new List<Task>();
for (var i = 0; i < total; i++)
{
    var due = TimeSpan.FromSeconds(i / options.Rate);
    if (due > paced.Elapsed)
    {
        await Task.Delay(due - paced.Elapsed, cancel.Token); // pacing the load, not synchronizing
    }

    var payment = Capture();
    var outcome = shop.WaitForOutcomeAsync(payment.eventId, timeout, cancel.Token);
    var sent = Stopwatch.GetTimestamp();
    inflight.Add(Task.Run(async () =>
    {
        await shop.ProduceAsync(Topics.Payments, payment.paymentId, payment, cancel.Token);
        await outcome;
        latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
    }));
}

await Task.WhenAll(inflight);
var sorted = latencies.Order().ToArray();
double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"latency at {options.Rate:F0}/s for {options.Seconds} s ({sorted.Length} payments, produced -> outcome visible): p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms, max {sorted[^1]:F1} ms"));
using var process = Process.GetCurrentProcess();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"memory (service + load generator in one process): working set {process.WorkingSet64 / 1048576.0:F0} MiB, peak {process.PeakWorkingSet64 / 1048576.0:F0} MiB, GC heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB"));

await shop.DisposeAsync(); // its consumers before the broker they read from
await app.StopAsync();
await app.DisposeAsync();
Directory.Delete(root, recursive: true);
return 0;

static (int Certificates, int Throughput, double Rate, int Seconds) ParseArgs(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        values[args[i].TrimStart('-')] = args[i + 1];
    }

    int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    return (Int("certificates", 400), Int("throughput", 10_000), Int("rate", 200), Int("seconds", 20));
}
