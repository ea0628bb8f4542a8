using Confluent.Kafka;
using GcpStreams.Client;

namespace GcpStreams.Api.ReadModel;

/// <summary>Settings of <see cref="CertificateReadModel"/>.</summary>
public sealed class ReadModelOptions
{
    /// <summary>Kafka bootstrap servers (required).</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>The compacted state topic (key certificateId, Avro CertificateState).</summary>
    public string StateTopic { get; set; } = Topics.State.Name;

    /// <summary>The event stream (key certificateId or poolId, Avro GiftCertificateEvent).</summary>
    public string StreamTopic { get; set; } = Topics.Stream.Name;

    /// <summary>The consumer's <c>fetch.wait.max.ms</c>: 5 ms by default (the embedded broker answers an empty fetch only after it).</summary>
    public int FetchWaitMaxMs { get; set; } = 5;

    /// <summary>How long a metadata or watermark request may take before it is retried.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First wait before retrying when the topics cannot be described; doubles up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between retries.</summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many of the latest event ids <see cref="ReadModelStore.WaitForEventAsync"/> finds without a certificate hint.</summary>
    public int RecentEventCapacity { get; set; } = 100_000;

    /// <summary>
    /// The RocksDB directory of this instance's read model (README "Storage layout"); it keeps the consumer's positions, so a
    /// restart reads only what is new. Null: a temporary directory, deleted when the model is disposed. Never shared: a second
    /// model on the same directory fails at start (RocksDB's LOCK).
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>Forget what <see cref="Directory"/> holds at start (embedded mode: the broker is new at every start).</summary>
    public bool ResetOnStart { get; set; }

    /// <summary>RocksDB's block cache in MiB (data, index and filter blocks), 8-4096; 64 by default.</summary>
    public int BlockCacheMiB { get; set; } = 64;

    /// <summary>One RocksDB memtable in MiB, 1-1024 (at most two exist at once); 16 by default.</summary>
    public int WriteBufferMiB { get; set; } = 16;

    /// <summary>Most records applied in one RocksDB write batch (with their positions), 1-100 000; 1 000 by default.</summary>
    public int MaxBatchRecords { get; set; } = 1_000;

    /// <summary>The storage settings of the store, validated.</summary>
    public ReadModelStorage Storage()
    {
        Within(nameof(BlockCacheMiB), BlockCacheMiB, 8, 4096);
        Within(nameof(WriteBufferMiB), WriteBufferMiB, 1, 1024);
        Within(nameof(MaxBatchRecords), MaxBatchRecords, 1, 100_000);
        return new ReadModelStorage(Directory, (long)BlockCacheMiB << 20, (long)WriteBufferMiB << 20, 2, ResetOnStart);
    }

    private static void Within(string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"ReadModel: {name} must be between {min} and {max}.");
        }
    }

    /// <summary>Any other consumer setting (security, client.rack, ...), applied last; keys are librdkafka names.</summary>
    public IDictionary<string, string> ConsumerSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The consumer configuration: manual assignment from the beginning, read_committed, nothing committed.</summary>
    public ConsumerConfig ConsumerConfig()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            throw new InvalidOperationException("ReadModel: BootstrapServers is required.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(FetchWaitMaxMs);
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            // required by the client, never used: partitions are assigned by hand, nothing joins or commits
            GroupId = "gcp-read-model-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = FetchWaitMaxMs,
            EnablePartitionEof = true,
            AllowAutoCreateTopics = false,
        };
        foreach (var (key, value) in ConsumerSettings)
        {
            config.Set(key, value);
        }

        return config;
    }
}
