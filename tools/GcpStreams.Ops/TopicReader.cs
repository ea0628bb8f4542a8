using Confluent.Kafka;

namespace GcpStreams.Ops;

/// <summary>Reads whole topics, from each partition's log start to its end as it was when the read began (committed records only).</summary>
public sealed class TopicReader(string bootstrapServers, TimeSpan timeout)
{
    /// <summary>Every topic of the cluster (those whose metadata has no error).</summary>
    public IReadOnlyList<string> TopicNames()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).SetLogHandler((_, _) => { }).Build();
        return [.. admin.GetMetadata(timeout).Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).Order(StringComparer.Ordinal)];
    }

    /// <summary>Every record of a topic, partition by partition in offset order.</summary>
    /// <exception cref="TimeoutException">The topic could not be read to its end within the timeout.</exception>
    public IEnumerable<ConsumeResult<byte[]?, byte[]?>> Read(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"gcp-ops-{Guid.NewGuid():N}", // never committed: only assigned partitions
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5, // the embedded broker answers an empty fetch only after it
            AllowAutoCreateTopics = false,
        }).SetLogHandler((_, _) => { }).Build();
        var deadline = DateTime.UtcNow + timeout;
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, timeout).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var remaining = new Dictionary<TopicPartition, long>();
        foreach (var partition in partitions)
        {
            var marks = consumer.QueryWatermarkOffsets(partition, timeout);
            if (marks.High.Value > marks.Low.Value)
            {
                remaining[partition] = marks.High.Value;
            }
        }

        if (remaining.Count == 0)
        {
            yield break;
        }

        consumer.Assign(remaining.Keys.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        while (remaining.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{topic} was not read to its end within {timeout.TotalSeconds:0} s "
                    + $"(partitions left: {string.Join(", ", remaining.Keys.Select(p => p.Partition.Value))}; an open transaction holds them?)");
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                // read_committed: the end may be a transaction's control record; the position says where the reader is
                foreach (var partition in remaining.Keys.ToList())
                {
                    if (consumer.Position(partition).Value >= remaining[partition])
                    {
                        remaining.Remove(partition);
                    }
                }

                continue;
            }

            yield return result;
            if (result.Offset.Value + 1 >= remaining.GetValueOrDefault(result.TopicPartition, long.MaxValue))
            {
                remaining.Remove(result.TopicPartition);
            }
        }

        consumer.Close();
    }
}
