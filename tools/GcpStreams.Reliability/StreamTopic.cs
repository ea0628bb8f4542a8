using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;

namespace GcpStreams.Reliability;

/// <summary>GiftCertificates.Stream read whole (committed records only), and its end offsets.</summary>
internal static class StreamTopic
{
    private static ConsumerConfig Config(string bootstrap) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = $"gcp-reliability-{Guid.NewGuid():N}", // never committed: only assigned partitions
        EnableAutoCommit = false,
        IsolationLevel = IsolationLevel.ReadCommitted,
        FetchWaitMaxMs = 5, // the embedded broker answers an empty fetch only after it
        AllowAutoCreateTopics = false,
    };

    /// <summary>The sum of the topic's high watermarks (moves while anything is still written).</summary>
    public static long End(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(Config(bootstrap)).SetLogHandler((_, _) => { }).Build();
        return Partitions(consumer, bootstrap).Sum(p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>Waits until the stream's end has not moved for <paramref name="quiet"/> (at most <paramref name="timeout"/>).</summary>
    public static async Task<long> WaitQuietAsync(string bootstrap, TimeSpan quiet, TimeSpan timeout, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = End(bootstrap);
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), token); // polling the end offsets
            var now = End(bootstrap);
            if (now != last)
            {
                last = now;
                since = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - since >= quiet)
            {
                return now;
            }
        }

        return last;
    }

    /// <summary>The whole stream, committed records only, read to its end as it was when the read began (gcp-ops' reader).</summary>
    public static List<StreamEvent> ReadAll(string bootstrap, ISchemaRegistryClient registry, TimeSpan timeout)
    {
        var codec = new Codec(registry);
        return
        [
            .. new GcpStreams.Ops.TopicReader(bootstrap, timeout).Read(Topics.Stream.Name)
                .Where(r => r.Message.Value is not null)
                .Select(r => (Event: codec.Decode(Topics.Stream, r.Message.Value!), Content: Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(r.Message.Value!))))
                .Select(d => new StreamEvent(d.Event.eventId, d.Event.eventType, d.Event.certificateId, d.Event.causationId,
                    d.Event.payload is GcpStreams.Contracts.Alert alert ? $"{alert.kind} {alert.message}" : null, d.Content)),
        ];
    }

    private static List<TopicPartition> Partitions(IConsumer<byte[], byte[]> consumer, string bootstrap)
    {
        _ = bootstrap;
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return [.. admin.GetMetadata(Topics.Stream.Name, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(Topics.Stream.Name, p.PartitionId))];
    }
}
