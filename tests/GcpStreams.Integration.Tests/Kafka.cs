using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>Reading topics back the way downstream teams do: a read_committed consumer from the beginning.</summary>
internal static class Kafka
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Reads the whole stream (from offset 0 to the current end of every partition), decoded.</summary>
    public static List<(string Key, C.GiftCertificateEvent Event)> ReadStream(string bootstrapServers, ISchemaRegistryClient registry)
    {
        var codec = new Codec(registry);
        return [.. ReadTopic(bootstrapServers, Topics.Stream.Name).Select(m => (Encoding.UTF8.GetString(m.Key), codec.Decode(Topics.Stream, m.Value)))];
    }

    /// <summary>
    /// The stream with each event id once, as a consumer that folds by event id reads it. The embedded broker shows the writes of
    /// a transaction that never committed (an instance stopped in the middle of one), which the task's next owner decides and
    /// commits again: the same event, byte for byte — asserted here, so a second, different event under an id still fails.
    /// </summary>
    public static List<(string Key, C.GiftCertificateEvent Event)> ReadStreamOnce(string bootstrapServers, ISchemaRegistryClient registry)
    {
        var codec = new Codec(registry);
        var first = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var events = new List<(string Key, C.GiftCertificateEvent Event)>();
        foreach (var message in ReadTopic(bootstrapServers, Topics.Stream.Name))
        {
            var e = codec.Decode(Topics.Stream, message.Value);
            if (first.TryGetValue(e.eventId, out var earlier))
            {
                Assert.That(message.Value, Is.EqualTo(earlier), $"event {e.eventId} ({e.eventType}) came again with other content");
                continue;
            }

            first[e.eventId] = message.Value;
            events.Add((Encoding.UTF8.GetString(message.Key), e));
        }

        return events;
    }

    /// <summary>Every topic on the broker, internal ones (repartition, changelog) included.</summary>
    public static List<string> TopicNames(string bootstrapServers)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        return [.. admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).Order(StringComparer.Ordinal)];
    }

    /// <summary>The sum over a topic's partitions of a consumer group's committed offsets (partitions without one count 0).</summary>
    public static async Task<long> CommittedOffsetAsync(string bootstrapServers, string group, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var result = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)]);
        return result.Single().Partitions.Sum(p => p.Offset.Value > 0 ? p.Offset.Value : 0);
    }

    /// <summary>Reads a whole topic (from offset 0 to the current end of every partition), as raw records.</summary>
    public static List<Message<byte[], byte[]>> ReadTopic(string bootstrapServers, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "it-reader-" + Guid.NewGuid().ToString("N"),
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var ends = partitions.ToDictionary(tp => tp.Partition.Value, tp => consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var records = new List<Message<byte[], byte[]>>();
        var deadline = DateTime.UtcNow + Timeout;
        var remaining = partitions.Where(tp => ends[tp.Partition.Value] > 0).ToList();
        while (remaining.Count > 0 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } record)
            {
                records.Add(record.Message);
            }

            // the position moves past transaction markers too, which are never delivered as records
            remaining.RemoveAll(tp => consumer.Position(tp).Value >= ends[tp.Partition.Value]);
        }

        Assert.That(remaining, Is.Empty, $"{topic} could not be read to its end in time");
        return records;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (no fixed sleeps as synchronization).</summary>
    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(50);
        }
    }
}
