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
