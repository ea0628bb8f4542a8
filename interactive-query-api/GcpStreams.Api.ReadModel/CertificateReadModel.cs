using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using GcpStreams.Client;
using GcpStreams.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// The global read model of one API instance, as a hosted <see cref="BackgroundService"/>: one Confluent consumer reads
/// <c>GiftCertificates.State</c> and <c>GiftCertificates.Stream</c> (every partition assigned by hand, no group membership,
/// nothing committed to Kafka, read_committed) into a <see cref="ReadModelStore"/> — a RocksDB database of the instance that
/// keeps the positions with the data, so a restart resumes where it stopped — and any instance answers any lookup, search,
/// history or pool query without routing.
/// </summary>
/// <remarks>
/// <para>Lifecycle: <see cref="BackgroundService.StartAsync"/> starts the consumer on its own thread and returns at once;
/// the thread describes the topics (retrying with backoff until they exist), records the end offset of every partition,
/// checks the stored positions against the cluster (or empties the database and starts from the beginning, logging why),
/// assigns the partitions from there and applies what it fetches in batches (one RocksDB write each, with the positions)
/// until stopped. <see cref="WhenCaughtUp"/> completes when the
/// consumer's position has reached every recorded end offset (the position, not the last record's offset: under
/// exactly-once the last offset of a partition is a transaction marker that is never delivered). A partition EOF
/// at or past the end counts too. <see cref="BackgroundService.StopAsync"/> or <see cref="Dispose"/> stop the thread,
/// close the consumer and complete pending waits with false.</para>
/// <para>Records that cannot be decoded or make no sense (no key, key not the certificate id, no event id) are skipped,
/// logged with their coordinates and counted in <see cref="UndecodableRecords"/>; the loop never stops for them.</para>
/// <para>Metrics (meter <c>GcpStreams.Api.ReadModel</c>): <c>gcp.read_model.undecodable_records</c>,
/// <c>gcp.read_model.state_records</c>, <c>gcp.read_model.stream_events</c>, <c>gcp.read_model.certificates</c>,
/// <c>gcp.read_model.caught_up</c>, <c>gcp.read_model.lag_records</c> (per topic: records between the consumer's position and the
/// end of the partitions, from the offsets the consumer last fetched).</para>
/// </remarks>
public sealed class CertificateReadModel : BackgroundService
{
    /// <summary>The name of the meter the model reports on.</summary>
    public const string MeterName = "GcpStreams.Api.ReadModel";

    private readonly ReadModelOptions options;
    private readonly Codec codec;
    private readonly ILogger logger;
    private readonly TaskCompletionSource caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Meter meter;
    private readonly Lock endGate = new();
    private Dictionary<TopicPartition, long> endOffsets = [];
    private long undecodable;
    private long stateRecords;
    private long streamEvents;
    private long duplicateEvents;
    private int disposed;
    private volatile IConsumer<byte[]?, byte[]?>? active;

    /// <summary>Creates the model; nothing is read until it is started.</summary>
    public CertificateReadModel(ReadModelOptions options, Codec codec, ILogger<CertificateReadModel>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(codec);
        _ = options.ConsumerConfig(); // validate now, not on the consumer thread
        this.options = options;
        this.codec = codec;
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        Store = new ReadModelStore(options.RecentEventCapacity, time, options.Storage());
        if (Store.WipedBecause is { } why)
        {
            this.logger.LogWarning("Read model: {Directory} was emptied ({Reason}); it is rebuilt from the beginning of the topics", Store.Directory, why);
        }
        meter = new Meter(MeterName);
        meter.CreateObservableCounter("gcp.read_model.undecodable_records", () => UndecodableRecords, description: "Records skipped because they could not be decoded.");
        meter.CreateObservableCounter("gcp.read_model.state_records", () => StateRecords, description: "GiftCertificates.State records applied (tombstones included).");
        meter.CreateObservableCounter("gcp.read_model.stream_events", () => StreamEvents, description: "GiftCertificates.Stream events applied.");
        meter.CreateObservableGauge("gcp.read_model.certificates", () => Store.Count, description: "Certificates in the read model.");
        meter.CreateObservableGauge("gcp.read_model.caught_up", () => IsCaughtUp ? 1 : 0, description: "1 once the start-up backlog is read.");
        meter.CreateObservableGauge("gcp.read_model.lag_records", Lag, description: "Records the read model is behind the end of GiftCertificates.State and GiftCertificates.Stream, per topic.");
    }

    /// <summary>The data: queries and read-your-writes waits.</summary>
    public ReadModelStore Store { get; }

    /// <summary>True once every partition was read up to its end offset recorded at start.</summary>
    public bool IsCaughtUp => caughtUp.Task.IsCompletedSuccessfully;

    /// <summary>Completes when caught up; faults if the consumer failed fatally before.</summary>
    public Task WhenCaughtUp => caughtUp.Task;

    /// <summary>The end offset (high watermark) of every partition of both topics, recorded at start; empty before.</summary>
    public IReadOnlyDictionary<TopicPartition, long> EndOffsets
    {
        get
        {
            lock (endGate)
            {
                return endOffsets;
            }
        }
    }

    /// <summary>Records skipped because they could not be decoded (or had no key, or a key other than their certificate id).</summary>
    public long UndecodableRecords => Interlocked.Read(ref undecodable);

    /// <summary>GiftCertificates.State records applied, tombstones included.</summary>
    public long StateRecords => Interlocked.Read(ref stateRecords);

    /// <summary>GiftCertificates.Stream events applied (duplicates excluded).</summary>
    public long StreamEvents => Interlocked.Read(ref streamEvents);

    /// <summary>GiftCertificates.Stream events whose id had been applied already (replays), ignored.</summary>
    public long DuplicateEvents => Interlocked.Read(ref duplicateEvents);

    /// <inheritdoc cref="ReadModelStore.Get"/>
    public CertificateState? Get(string certificateId) => Store.Get(certificateId);

    /// <inheritdoc cref="ReadModelStore.Search"/>
    public CertificatePage Search(CertificateFilter filter, int pageSize, string? cursor = null, int maxScan = CertificateIndex.DefaultMaxScan) =>
        Store.Search(filter, pageSize, cursor, maxScan);

    /// <inheritdoc cref="ReadModelStore.GetHistory"/>
    public IReadOnlyList<HistoryEntry> GetHistory(string certificateId) => Store.GetHistory(certificateId);

    /// <inheritdoc cref="ReadModelStore.GetPools"/>
    public IReadOnlyList<PoolView> GetPools() => Store.GetPools();

    /// <inheritdoc cref="ReadModelStore.GetPool"/>
    public PoolView? GetPool(string poolId) => Store.GetPool(poolId);

    /// <inheritdoc cref="ReadModelStore.WaitForAsync"/>
    public Task<bool> WaitForAsync(string certificateId, long minSequence, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Store.WaitForAsync(certificateId, minSequence, timeout, cancellationToken);

    /// <inheritdoc cref="ReadModelStore.WaitForEventAsync"/>
    public Task<bool> WaitForEventAsync(string eventId, TimeSpan timeout, string? certificateId = null, CancellationToken cancellationToken = default) =>
        Store.WaitForEventAsync(eventId, timeout, certificateId, cancellationToken);

    /// <summary>Stops the consumer thread (waiting for it to close the consumer), completes pending waits with false.</summary>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        base.Dispose(); // cancels the stopping token
        try
        {
            ExecuteTask?.Wait(options.RequestTimeout + TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // already logged by the loop
        }

        caughtUp.TrySetException(new ObjectDisposedException(nameof(CertificateReadModel)));
        Store.Dispose();
        meter.Dispose();
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        try
        {
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(options.ConsumerConfig())
                .SetErrorHandler((_, error) => logger.LogWarning("Read model consumer: {Error}", error))
                .Build();
            active = consumer;
            var partitions = Describe(consumer, stop);
            var watermarks = partitions.ToDictionary(tp => tp, tp => Watermarks(consumer, tp, stop));
            var ends = watermarks.ToDictionary(w => w.Key, w => w.Value.High.Value);
            lock (endGate)
            {
                endOffsets = ends;
            }

            var starts = StartPositions(consumer, partitions, watermarks);
            var remaining = ends.Where(e => e.Value > starts.GetValueOrDefault(e.Key, watermarks[e.Key].Low.Value)).ToDictionary(e => e.Key, e => e.Value);
            consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, starts.TryGetValue(tp, out var next) ? new Offset(next) : Offset.Beginning)));
            logger.LogInformation("Read model: reading {Partitions} partitions of {State} and {Stream} into {Directory}, {Stored} from stored positions, up to {Records} offsets",
                partitions.Count, options.StateTopic, options.StreamTopic, Store.Directory, starts.Count, ends.Values.Sum());
            Reached(remaining, null, 0);
            Loop(consumer, remaining, stop);
            active = null;
            consumer.Close();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // stopping
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "Read model consumer failed");
            caughtUp.TrySetException(e);
            throw;
        }
        finally
        {
            active = null;
            caughtUp.TrySetCanceled(stop.IsCancellationRequested ? stop : CancellationToken.None);
        }
    }

    private void Loop(IConsumer<byte[]?, byte[]?> consumer, Dictionary<TopicPartition, long> remaining, CancellationToken stop)
    {
        var backoff = options.RetryBackoff;
        var changes = new List<ReadModelStore.Change>();
        var read = new Dictionary<TopicPartition, long>();
        var ends = new List<(TopicPartition Partition, long Offset)>();
        while (!stop.IsCancellationRequested)
        {
            ConsumeResult<byte[]?, byte[]?>? record;
            try
            {
                record = consumer.Consume(stop);
                var records = 0;
                while (record is not null)
                {
                    // a batch: what is already fetched, up to MaxBatchRecords, in one RocksDB write with its positions
                    if (record.IsPartitionEOF)
                    {
                        ends.Add((record.TopicPartition, record.Offset.Value));
                    }
                    else
                    {
                        if (Decode(record) is { } change)
                        {
                            changes.Add(change);
                        }

                        read[record.TopicPartition] = record.Offset.Value + 1;
                    }

                    record = ++records >= options.MaxBatchRecords ? null : consumer.Consume(TimeSpan.Zero);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                logger.LogWarning(e, "Read model: consume failed, retrying in {Backoff}", backoff);
                stop.WaitHandle.WaitOne(backoff);
            }

            Commit(consumer, changes, read);
            foreach (var (partition, next) in read)
            {
                Reached(remaining, partition, next);
            }

            foreach (var (partition, offset) in ends)
            {
                Reached(remaining, partition, offset);
            }

            changes.Clear();
            read.Clear();
            ends.Clear();
        }
    }

    /// <summary>Writes a batch and the positions after it; the position moves past transaction markers, which are never delivered as records.</summary>
    private void Commit(IConsumer<byte[]?, byte[]?> consumer, List<ReadModelStore.Change> changes, Dictionary<TopicPartition, long> read)
    {
        if (changes.Count == 0 && read.Count == 0)
        {
            return;
        }

        foreach (var partition in read.Keys.ToList())
        {
            var position = consumer.Position(partition);
            if (!position.IsSpecial && position.Value > read[partition])
            {
                read[partition] = position.Value;
            }
        }

        var results = Store.Apply(changes, read.Select(r => KeyValuePair.Create((r.Key.Topic, r.Key.Partition.Value), r.Value)));
        for (var i = 0; i < changes.Count; i++)
        {
            if (changes[i].Event is null)
            {
                Interlocked.Increment(ref stateRecords);
            }
            else if (results[i])
            {
                Interlocked.Increment(ref streamEvents);
            }
            else
            {
                Interlocked.Increment(ref duplicateEvents);
            }
        }
    }

    /// <summary>
    /// Where to start each partition: the stored positions when the database was built from this cluster and these topics
    /// and every stored position is still inside its partition; otherwise the database is emptied (logged with the reason)
    /// and everything is read from the beginning (an empty map).
    /// </summary>
    private Dictionary<TopicPartition, long> StartPositions(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions,
        Dictionary<TopicPartition, WatermarkOffsets> watermarks)
    {
        var clusterId = ClusterId(consumer);
        var counts = partitions.GroupBy(p => p.Topic).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var stored = Store.ReadOrigin();
        var why = Mismatch(stored, clusterId, counts, watermarks);
        if (why is not null)
        {
            logger.LogWarning("Read model: {Directory} is emptied and rebuilt from the beginning of the topics: {Reason}", Store.Directory, why);
            Store.Reset();
        }

        Store.WriteOrigin(clusterId, counts);
        return why is not null
            ? []
            : partitions.Where(p => stored.Positions.ContainsKey((p.Topic, p.Partition.Value)))
                .ToDictionary(p => p, p => stored.Positions[(p.Topic, p.Partition.Value)]);
    }

    /// <summary>Why the stored positions cannot be used, or null when they can (or there is nothing stored).</summary>
    internal static string? Mismatch(StoredOrigin stored, string? clusterId, IReadOnlyDictionary<string, int> partitions,
        IReadOnlyDictionary<TopicPartition, WatermarkOffsets> watermarks)
    {
        if (!stored.HoldsData)
        {
            return null;
        }

        if (stored.ClusterId is null || stored.Partitions.Count == 0)
        {
            return "it holds data but no record of the cluster and topics it was read from";
        }

        if (!string.IsNullOrEmpty(clusterId) && !string.IsNullOrEmpty(stored.ClusterId) && !string.Equals(clusterId, stored.ClusterId, StringComparison.Ordinal))
        {
            return $"it was read from cluster {stored.ClusterId}, the brokers are cluster {clusterId}";
        }

        foreach (var (topic, count) in partitions)
        {
            if (stored.Partitions.GetValueOrDefault(topic) != count)
            {
                return $"{topic} had {stored.Partitions.GetValueOrDefault(topic)} partitions, it has {count}";
            }
        }

        foreach (var ((topic, partition), next) in stored.Positions)
        {
            if (!watermarks.TryGetValue(new TopicPartition(topic, partition), out var w))
            {
                return $"a position is stored for {topic} [{partition}], which is not read";
            }

            if (next > w.High.Value)
            {
                return $"the stored position {next} of {topic} [{partition}] is beyond its end {w.High.Value} (a new broker, or the topic was recreated)";
            }

            if (next < w.Low.Value)
            {
                return $"the stored position {next} of {topic} [{partition}] is before its log start {w.Low.Value} (retention removed records not read)";
            }
        }

        return null;
    }

    /// <summary>The cluster id the brokers report, or null when they do not say.</summary>
    private string? ClusterId(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            return admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = options.RequestTimeout })
                .GetAwaiter().GetResult().ClusterId;
        }
        catch (Exception e) when (e is KafkaException or TimeoutException)
        {
            logger.LogWarning("Read model: the cluster id is unknown ({Reason}); stored positions are checked against the partitions only", e.Message);
            return null;
        }
    }

    private void Reached(Dictionary<TopicPartition, long> remaining, TopicPartition? partition, long position)
    {
        if (partition is not null && remaining.TryGetValue(partition, out var end) && position >= end)
        {
            remaining.Remove(partition);
        }

        if (remaining.Count == 0 && caughtUp.TrySetResult())
        {
            logger.LogInformation("Read model caught up: {Certificates} certificates, {Events} events, {Undecodable} undecodable records",
                Store.Count, StreamEvents, UndecodableRecords);
        }
    }

    /// <summary>Decodes one record into a change; anything wrong with it is counted and logged, never thrown (null).</summary>
    internal ReadModelStore.Change? Decode(ConsumeResult<byte[]?, byte[]?> record)
    {
        try
        {
            var value = record.Message.Value;
            if (string.Equals(record.Topic, options.StateTopic, StringComparison.Ordinal))
            {
                var key = record.Message.Key is { Length: > 0 } bytes
                    ? Encoding.UTF8.GetString(bytes)
                    : throw new InvalidDataException("A state record without a key.");
                return ReadModelStore.Change.Of(key, value is null ? null : codec.Decode<CertificateState>(record.Topic, value, record.Message.Headers));
            }

            var e = codec.Decode<GiftCertificateEvent>(record.Topic, value ?? throw new InvalidDataException("An event without a value."), record.Message.Headers);
            return ReadModelStore.Change.Of(e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Increment(ref undecodable);
            logger.LogWarning(e, "Read model skipped an undecodable record at {Topic} [{Partition}] @{Offset}",
                record.Topic, record.Partition.Value, record.Offset.Value);
            return null;
        }
    }

    /// <summary>Per topic, the records between the consumer's position and the partitions' ends it last saw (nothing before it is assigned).</summary>
    private IEnumerable<Measurement<long>> Lag()
    {
        var consumer = active;
        var lag = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            foreach (var partition in consumer?.Assignment ?? [])
            {
                var end = consumer!.GetWatermarkOffsets(partition).High; // cached from the last fetch: no request
                var position = consumer.Position(partition);
                var behind = end.IsSpecial ? 0 : Math.Max(0, end.Value - (position.IsSpecial ? 0 : position.Value));
                lag[partition.Topic] = lag.GetValueOrDefault(partition.Topic) + behind;
            }
        }
        catch (Exception e) when (e is KafkaException or ObjectDisposedException or InvalidOperationException)
        {
            return []; // starting or closing
        }

        return lag.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("topic", l.Key)));
    }

    private List<TopicPartition> Describe(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stop)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return Retry(stop, "describe the topics", () =>
        {
            var partitions = new List<TopicPartition>();
            foreach (var topic in new[] { options.StateTopic, options.StreamTopic })
            {
                var metadata = admin.GetMetadata(topic, options.RequestTimeout).Topics.SingleOrDefault(t => t.Topic == topic);
                if (metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0)
                {
                    throw new KafkaException(metadata?.Error ?? new Error(ErrorCode.UnknownTopicOrPart, $"Topic {topic} not found."));
                }

                partitions.AddRange(metadata.Partitions.OrderBy(p => p.PartitionId).Select(p => new TopicPartition(topic, p.PartitionId)));
            }

            return partitions;
        });
    }

    private WatermarkOffsets Watermarks(IConsumer<byte[]?, byte[]?> consumer, TopicPartition partition, CancellationToken stop) =>
        Retry(stop, $"read the offsets of {partition}", () => consumer.QueryWatermarkOffsets(partition, options.RequestTimeout));

    private T Retry<T>(CancellationToken stop, string what, Func<T> attempt)
    {
        var backoff = options.RetryBackoff;
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            try
            {
                return attempt();
            }
            catch (KafkaException e) when (!e.Error.IsFatal)
            {
                logger.LogWarning("Read model: could not {What} ({Reason}); retrying in {Backoff}", what, e.Error.Reason, backoff);
                stop.WaitHandle.WaitOne(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxRetryBackoff.Ticks));
            }
        }
    }
}
