using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace GcpStreams.Replay;

/// <summary>Reads the records of a topic from each partition's log start up to given end offsets (exclusive), as <see cref="OutputRecord"/>s.</summary>
public sealed class BoundedReader(string bootstrapServers, TimeSpan timeout)
{
    /// <summary>Every record of <paramref name="topic"/> below <paramref name="ends"/> (partitions not named there: none), partition by partition in offset order.</summary>
    public IReadOnlyList<OutputRecord> Read(string topic, IReadOnlyDictionary<TopicPartition, long> ends, string? reportAs = null)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"gcp-replay-{Guid.NewGuid():N}", // never committed: only assigned partitions
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5, // the embedded broker answers an empty fetch only after it
            AllowAutoCreateTopics = false,
        }).SetLogHandler((_, _) => { }).Build();
        var remaining = new Dictionary<TopicPartition, long>();
        foreach (var (partition, end) in ends.Where(e => e.Key.Topic == topic))
        {
            var marks = consumer.QueryWatermarkOffsets(partition, timeout);
            if (Math.Min(end, marks.High.Value) > marks.Low.Value)
            {
                remaining[partition] = Math.Min(end, marks.High.Value);
            }
        }

        var records = new Dictionary<int, List<OutputRecord>>();
        if (remaining.Count > 0)
        {
            var deadline = DateTime.UtcNow + timeout;
            var polls = 0;
            consumer.Assign(remaining.Keys.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            while (remaining.Count > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{topic} was not read up to its end offsets within {timeout.TotalSeconds:0} s");
                }

                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null || ++polls % 500 == 0)
                {
                    // the end may be a transaction's control record: the position says where the reader is
                    foreach (var partition in remaining.Keys.Where(p => consumer.Position(p).Value >= remaining[p]).ToList())
                    {
                        remaining.Remove(partition);
                        consumer.Pause([partition]);
                    }
                }

                if (result is null || !remaining.TryGetValue(result.TopicPartition, out var end) || result.Offset.Value >= end)
                {
                    if (result is not null && !remaining.ContainsKey(result.TopicPartition))
                    {
                        consumer.Pause([result.TopicPartition]); // a record past the end (written since): this partition is done
                    }

                    continue;
                }

                if (!records.TryGetValue(result.Partition.Value, out var list))
                {
                    records[result.Partition.Value] = list = [];
                }

                list.Add(ToRecord(result, reportAs ?? topic));
                if (result.Offset.Value + 1 >= end)
                {
                    remaining.Remove(result.TopicPartition);
                    consumer.Pause([result.TopicPartition]);
                }
            }

            consumer.Close();
        }

        return [.. records.OrderBy(r => r.Key).SelectMany(r => r.Value)];
    }

    internal static OutputRecord ToRecord(ConsumeResult<byte[]?, byte[]?> result, string topic) => new(
        result.Message.Key is null ? string.Empty : Encoding.UTF8.GetString(result.Message.Key),
        result.Message.Value,
        [.. (result.Message.Headers ?? []).Select(h => new KeyValuePair<string, byte[]>(h.Key, h.GetValueBytes() ?? []))],
        string.Create(CultureInfo.InvariantCulture, $"{topic}[{result.Partition.Value}]@{result.Offset.Value}"));
}
