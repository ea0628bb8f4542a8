using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using GcpStreams.Bench;
using GcpStreams.Client;
using GcpStreams.Embedded;
using GcpStreams.Topology;
using GcpStreams.Traffic;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

// gcp-bench [--certificates 400] [--throughput 10000] [--warmup 2000] [--raw 40000] [--rate 200] [--seconds 20]
// Hosts the whole service on the embedded broker with exactly-once, issues certificates through the real flow, then
// (1) warms up: a smaller batch through the full topology and through the raw pipe, untimed (JIT, caches, connections);
// (2) blasts capture payments as fast as they can be produced and times until the last outcome is on the stream;
// (3) runs the raw pipe (RawPipe.cs: a transactional consume -> produce loop, no Streamiz) over the same kind of records on
//     the same broker (more of them: it is so fast that the throughput batch would time a single commit), for the ratio;
// (4) sends captures at a fixed moderate rate and measures each one's end-to-end latency: produced on All_Payments ->
//     its outcome event delivered to a read_committed consumer of GiftCertificates.Stream.
// Outcomes are counted by their event-type header, never decoded (EventCounter in tools/GcpStreams.Traffic), so the load generator takes as
// little CPU from the stream thread as it can.
var arenas = NativeHeap.LimitArenas(); // first, as the service's Program does (the bench hosts the service in this process)
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
var registry = app.Services.GetRequiredService<Confluent.SchemaRegistry.ISchemaRegistryClient>();
var shop = new Shop(kafka.BootstrapServers, registry, app.Services.GetRequiredService<CommandSigning>().Signer);
var timeout = TimeSpan.FromSeconds(60);
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(15));
var partitions = kafkaOptions.Partitions;
var latencyPayments = (int)(options.Rate * options.Seconds);

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"GcpStreams benchmark: embedded broker, {kafkaOptions.ProcessingGuarantee}, commit {kafkaOptions.CommitIntervalMs} ms, poll {kafkaOptions.PollMs} ms, fetch.wait.max.ms {kafkaOptions.FetchWaitMaxMs}, {kafkaOptions.NumStreamThreads} stream thread(s), {partitions} partitions, {Environment.ProcessorCount} cores; {arenas}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"plan: {options.Certificates} certificates; warm-up {options.Warmup:N0} payments (full topology) and {options.Warmup:N0} records (raw pipe), untimed; throughput {options.Throughput:N0} payments, then the raw pipe over {options.Raw:N0} such records; latency {options.Rate:F0}/s for {options.Seconds} s ({latencyPayments:N0} payments)"));

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
await shop.DisposeAsync(); // its event consumer decodes every stream event: gone before anything is measured

// the load generator from here on: one producer of pre-encoded payments, one counter of outcomes by header (disposed
// at the end, before the broker)
var codec = new Codec(registry);
var payments = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
{
    BootstrapServers = kafka.BootstrapServers,
    Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
    EnableIdempotence = true,
    LingerMs = 1,
}).Build();
var outcomes = new EventCounter(kafka.BootstrapServers, partitions, GcpStreams.Domain.EventTypes.Redeemed, GcpStreams.Domain.EventTypes.OperationRejected);
var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "gcp-bench-probe" }).Build();
var failedDeliveries = 0;
void Delivered(DeliveryReport<byte[], byte[]> report)
{
    if (report.Error.IsError)
    {
        Interlocked.Increment(ref failedDeliveries);
    }
}

var random = new Random(42);
Message<byte[], byte[]> Encoded(C.Payment p) => new() { Key = Encoding.UTF8.GetBytes(p.paymentId), Value = codec.Encode(Topics.Payments, p) };
List<Message<byte[], byte[]>> Captures(int count) =>
    [.. Enumerable.Range(0, count).Select(_ => Encoded(TeamRecords.Payment(C.PaymentOperation.CAPTURE, certificates[random.Next(certificates.Count)], 1, null, C.Channel.POS)))];

void ProduceAll(string topic, List<Message<byte[], byte[]>> batch)
{
    foreach (var message in batch)
    {
        payments.Produce(topic, message, Delivered);
    }

    payments.Flush(cancel.Token);
    if (Volatile.Read(ref failedDeliveries) > 0)
    {
        throw new InvalidOperationException($"{failedDeliveries} payment(s) could not be produced");
    }
}

// the whole batch at once; timed until the counter has seen one outcome per payment
async Task<(TimeSpan Produced, TimeSpan Drained)> Blast(List<Message<byte[], byte[]>> batch)
{
    var drained = outcomes.WhenCountReaches(outcomes.Count + batch.Count);
    var start = Stopwatch.GetTimestamp();
    ProduceAll(Topics.Payments.Name, batch);
    var produced = Stopwatch.GetElapsedTime(start);
    var end = await drained.WaitAsync(TimeSpan.FromMinutes(10), cancel.Token);
    return (produced, Stopwatch.GetElapsedTime(start, end));
}

var warmupBatch = Captures(options.Warmup);
var batch = Captures(options.Throughput);
var runPayments = options.Warmup + options.Throughput + latencyPayments;
var paymentBytes = batch.Average(m => m.Key.Length + m.Value.Length);
var perPartitionBytes = runPayments / partitions * paymentBytes;
var wellUnder = perPartitionBytes < EmbeddedKafkaCluster.MaxPartitionBytes / 4 && runPayments / partitions < EmbeddedKafkaCluster.MaxPartitionBatches / 4;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"payments: Avro CAPTURE records of {batch.Average(m => m.Value.Length):F0} B + {batch.Average(m => m.Key.Length):F0} B key, encoded before anything is timed"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"broker logs: the mock keeps at most {EmbeddedKafkaCluster.MaxPartitionBytes / 1048576} MiB / {EmbeddedKafkaCluster.MaxPartitionBatches:N0} batches per partition and scans a partition's log linearly on every fetch (rd_kafka_mock_msgset_find), so the run is sized to keep logs short: {runPayments:N0} payments in the whole run, ~{runPayments / partitions:N0} records (~{perPartitionBytes / 1048576:F1} MiB) per partition of {Topics.Payments} and one outcome each on {Topics.Stream} ({(wellUnder ? "well under the limits" : "NOT well under the limits: lower --throughput, --warmup or --rate x --seconds")}); sizes after the throughput phase below"));

// (1) warm-up, untimed: everything below runs warm
var (_, warmupDrained) = await Blast(warmupBatch);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up: {options.Warmup:N0} payments through the full topology in {warmupDrained.TotalSeconds:F2} s (not recorded)"));

// (2) sustained throughput: everything produced at once, timed until the last outcome is visible
var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
var cpuBefore = ThreadCpu.Now();
var (produced, drained) = await Blast(batch);
var cpu = ThreadCpu.Now().Since(cpuBefore);
var allocatedPerEvent = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)options.Throughput;
var throughput = options.Throughput / drained.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"throughput: {options.Throughput:N0} payments produced in {produced.TotalSeconds:F2} s, all {options.Throughput:N0} outcomes on the stream after {drained.TotalSeconds:F2} s = {throughput:F0} input events/s end to end"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"allocated: {allocatedPerEvent / 1024:F1} KB per input event during the timed throughput phase (whole process: service, read model and load generator)"));
var cpuPerEvent = cpu.Sum(c => c.Seconds) / options.Throughput * 1e6;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"cpu: {cpuPerEvent:F0} µs per input event during the timed throughput phase ({cpu.Sum(c => c.Seconds) / drained.TotalSeconds:F2} cores busy on average); by thread: {string.Join(", ", cpu.Take(10).Select(c => $"{c.Group} {c.Seconds / options.Throughput * 1e6:F0} µs"))}"));
Console.WriteLine($"logs after it: {LogSize(Topics.Payments.Name)}; {LogSize(Topics.Stream.Name)}");

// (3) the raw pipe over the same records, on the same broker: warm-up, then timed
kafka.CreateTopics([new RequiredTopic(RawPipe.Input, TopicKind.Regular), new RequiredTopic(RawPipe.Output, TopicKind.Regular)], partitions);
double rawThroughput;
using (var pipe = new RawPipe(kafka.BootstrapServers, partitions, kafkaOptions.CommitIntervalMs, kafkaOptions.PollMs, kafkaOptions.LingerMs))
{
    ProduceAll(RawPipe.Input, warmupBatch);
    pipe.Run(options.Warmup, cancel.Token);
    ProduceAll(RawPipe.Input, Captures(options.Raw));
    var rawAllocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var piped = pipe.Run(options.Raw, cancel.Token);
    var rawAllocatedPerRecord = (GC.GetTotalAllocatedBytes(precise: true) - rawAllocatedBefore) / (double)options.Raw;
    rawThroughput = options.Raw / piped.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"raw pipe: {options.Raw:N0} records consumed -> produced under transactions (commit every {kafkaOptions.CommitIntervalMs} ms) in {piped.TotalSeconds:F3} s = {rawThroughput:F0} records/s, {rawAllocatedPerRecord / 1024:F2} KB allocated per record (after a warm-up of {options.Warmup:N0})"));
    Console.WriteLine($"raw pipe logs: {LogSize(RawPipe.Input)}; {LogSize(RawPipe.Output)}");
}

// (4) latency at a fixed moderate rate; at most one payment in flight per certificate, so an outcome's key (the
// certificate id) says which payment it answers without decoding it
var latencies = new ConcurrentQueue<double>();
var inflight = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
var free = Channel.CreateUnbounded<string>();
foreach (var certificate in certificates.OrderBy(_ => random.Next()))
{
    free.Writer.TryWrite(certificate);
}

outcomes.OnOutcome = certificateId =>
{
    if (inflight.TryRemove(certificateId, out var sent))
    {
        latencies.Enqueue(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
        free.Writer.TryWrite(certificateId);
    }
};
var allAnswered = outcomes.WhenCountReaches(outcomes.Count + latencyPayments);
var waitedForCertificate = 0;
var paced = Stopwatch.StartNew();
for (var i = 0; i < latencyPayments; i++)
{
    var due = TimeSpan.FromSeconds(i / options.Rate);
    if (due > paced.Elapsed)
    {
        await Task.Delay(due - paced.Elapsed, cancel.Token); // pacing the load, not synchronizing
    }

    if (!free.Reader.TryRead(out var certificateId))
    {
        waitedForCertificate++; // every certificate has a payment in flight: this one leaves late
        certificateId = await free.Reader.ReadAsync(cancel.Token);
    }

    var message = Encoded(TeamRecords.Payment(C.PaymentOperation.CAPTURE, certificateId, 1, null, C.Channel.POS));
    inflight[certificateId] = Stopwatch.GetTimestamp();
    payments.Produce(Topics.Payments.Name, message, Delivered);
}

await allAnswered.WaitAsync(timeout, cancel.Token);
outcomes.OnOutcome = null;
var sorted = latencies.Order().ToArray();
double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"latency at {options.Rate:F0}/s for {options.Seconds} s ({sorted.Length:N0} payments, produced -> outcome visible): p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, p99 {P(0.99):F1} ms, max {sorted[^1]:F1} ms"));
if (waitedForCertificate > 0 || sorted.Length != latencyPayments)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"latency: {waitedForCertificate} payment(s) left late (all {certificates.Count} certificates had one in flight: raise --certificates), {latencyPayments - sorted.Length} not matched"));
}

using var process = Process.GetCurrentProcess();
process.Refresh();
var peakWorkingSet = process.PeakWorkingSet64 / 1048576.0;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"memory (service + load generator in one process): working set {process.WorkingSet64 / 1048576.0:F0} MiB, peak {peakWorkingSet:F0} MiB, GC heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB"));
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"summary: full topology: {throughput:F0} input events/s | raw pipe: {rawThroughput:F0} records/s | ratio raw/full {rawThroughput / throughput:F0}x | alloc {allocatedPerEvent / 1024:F1} KB/event | cpu {cpuPerEvent:F0} µs/event | latency p50/p99 {P(0.50):F1}/{P(0.99):F1} ms at {options.Rate:F0}/s | working set peak {peakWorkingSet:F0} MiB"));

outcomes.Dispose(); // clients before the broker they talk to
probe.Dispose();
payments.Dispose();
await app.StopAsync();
await app.DisposeAsync();
Directory.Delete(root, recursive: true);
return 0;

// records in a topic's log (offsets, transaction markers included); low watermark above 0 = the mock's retention dropped some
string LogSize(string topic)
{
    var marks = Enumerable.Range(0, partitions).Select(p => probe.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10))).ToList();
    var dropped = marks.Any(m => m.Low.Value > 0);
    return string.Create(CultureInfo.InvariantCulture,
        $"{topic} {marks.Sum(m => m.High.Value - m.Low.Value):N0} offsets (largest partition {marks.Max(m => m.High.Value):N0}{(dropped ? ", OLDEST RECORDS DROPPED by the mock's retention" : string.Empty)})");
}

static (int Certificates, int Throughput, int Warmup, int Raw, double Rate, int Seconds) ParseArgs(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        values[args[i].TrimStart('-')] = args[i + 1];
    }

    int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    var throughput = Int("throughput", 10_000);
    return (Int("certificates", 400), throughput, Int("warmup", Math.Max(1_000, throughput / 5)), Int("raw", 40_000), Int("rate", 200), Int("seconds", 20));
}
