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

    public static List<StreamEvent> ReadAll(string bootstrap, ISchemaRegistryClient registry, TimeSpan timeout)
    {
        var codec = new Codec(registry);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(Config(bootstrap)).SetLogHandler((_, _) => { }).Build();
        var remaining = new Dictionary<TopicPartition, long>();
        foreach (var partition in Partitions(consumer, bootstrap))
        {
            var marks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10));
            if (marks.High.Value > marks.Low.Value)
            {
                remaining[partition] = marks.High.Value;
            }
        }

        var events = new List<StreamEvent>();
        if (remaining.Count == 0)
        {
            return events;
        }

        consumer.Assign(remaining.Keys.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var deadline = DateTime.UtcNow + timeout;
        while (remaining.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Topics.Stream.Name} was not read to its end within {timeout.TotalSeconds:0} s");
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                foreach (var partition in remaining.Keys.ToList())
                {
                    if (consumer.Position(partition).Value >= remaining[partition])
                    {
                        remaining.Remove(partition);
                    }
                }

                continue;
            }

            var e = codec.Decode(Topics.Stream, result.Message.Value);
            events.Add(new StreamEvent(e.eventId, e.eventType, e.certificateId, e.causationId, e.payload is GcpStreams.Contracts.Alert alert ? $"{alert.kind} {alert.message}" : null));
            if (result.Offset.Value + 1 >= remaining.GetValueOrDefault(result.TopicPartition, long.MaxValue))
            {
                remaining.Remove(result.TopicPartition);
            }
        }

        consumer.Close();
        return events;
    }

    private static List<TopicPartition> Partitions(IConsumer<byte[], byte[]> consumer, string bootstrap)
    {
        _ = bootstrap;
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return [.. admin.GetMetadata(Topics.Stream.Name, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(Topics.Stream.Name, p.PartitionId))];
    }
}
