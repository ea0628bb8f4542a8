using Confluent.Kafka;

namespace GcpStreams.Replay;

/// <summary>Watermarks, committed offsets and partition counts, through plain Kafka requests every broker answers (the mock too).</summary>
public sealed class KafkaOffsets(string bootstrapServers, TimeSpan timeout) : IDisposable
{
    private readonly IConsumer<byte[], byte[]> consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrapServers,
        GroupId = $"gcp-replay-offsets-{Guid.NewGuid():N}", // never joins, never commits
        EnableAutoCommit = false,
        AllowAutoCreateTopics = false,
    }).SetLogHandler((_, _) => { }).Build();

    private readonly Dictionary<string, IConsumer<byte[], byte[]>> groupReaders = new(StringComparer.Ordinal);

    public string BootstrapServers => bootstrapServers;

    public TimeSpan Timeout => timeout;

    private readonly Dictionary<string, IReadOnlyList<TopicPartition>> partitions = new(StringComparer.Ordinal);

    /// <summary>The partitions of <paramref name="topic"/> (asked once, then remembered), or an empty list when it does not exist.</summary>
    public IReadOnlyList<TopicPartition> Partitions(string topic)
    {
        if (partitions.TryGetValue(topic, out var known))
        {
            return known;
        }

        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.Code != ErrorCode.NoError)
        {
            return [];
        }

        return partitions[topic] = [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
    }

    /// <summary>Log start and end of every partition of the topics.</summary>
    public Dictionary<TopicPartition, WatermarkOffsets> Watermarks(IEnumerable<string> topics)
    {
        var marks = new Dictionary<TopicPartition, WatermarkOffsets>();
        foreach (var partition in topics.SelectMany(Partitions))
        {
            marks[partition] = consumer.QueryWatermarkOffsets(partition, timeout);
        }

        return marks;
    }

    /// <summary>The offsets <paramref name="group"/> committed for the partitions (OffsetFetch: no membership needed); missing ones absent.</summary>
    public Dictionary<TopicPartition, long> Committed(string group, IEnumerable<TopicPartition> partitions)
    {
        if (!groupReaders.TryGetValue(group, out var reader))
        {
            groupReaders[group] = reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = group, // only asks for the group's committed offsets: never subscribes, never commits
                EnableAutoCommit = false,
                AllowAutoCreateTopics = false,
            }).SetLogHandler((_, _) => { }).Build();
        }

        return reader.Committed(partitions, timeout).Where(c => c.Offset.Value >= 0).ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
    }

    /// <summary>The first offset of each partition whose timestamp is at or after <paramref name="at"/> (the end when none is).</summary>
    public Dictionary<TopicPartition, long> OffsetsForTime(IEnumerable<TopicPartition> partitions, DateTimeOffset at)
    {
        var list = partitions.ToList();
        var found = consumer.OffsetsForTimes(list.Select(p => new TopicPartitionTimestamp(p, new Timestamp(at.UtcDateTime))), timeout);
        var result = new Dictionary<TopicPartition, long>();
        foreach (var f in found)
        {
            result[f.TopicPartition] = f.Offset.Value >= 0 ? f.Offset.Value : consumer.QueryWatermarkOffsets(f.TopicPartition, timeout).High.Value;
        }

        return result;
    }

    public void Dispose()
    {
        consumer.Dispose();
        foreach (var reader in groupReaders.Values)
        {
            reader.Dispose();
        }
    }
}
