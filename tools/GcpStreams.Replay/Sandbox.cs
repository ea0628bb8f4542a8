using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using GcpStreams.Embedded;

namespace GcpStreams.Replay;

/// <summary>
/// Where <c>verify</c>'s shadow runs when the live cluster cannot create topics on request (librdkafka's mock cluster, i.e. the
/// standalone broker of <c>make broker</c>, which would auto-create them with 4 partitions, and Streamiz refuses a changelog
/// whose partition count is not its task count): a mock cluster inside this process, with every topic the shadow needs at its
/// live partition count, and the inputs copied into it record by record (same partition, key, value, headers, timestamp) up to
/// the ends captured at start, the global store's topic whole. Nothing is written to the live cluster; all of it is gone at dispose.
/// </summary>
internal sealed class Sandbox : IDisposable
{
    private readonly EmbeddedKafkaCluster cluster;

    public Sandbox(KafkaOffsets live, IReadOnlyList<(string Name, int Partitions, bool Compacted)> shadowTopics, ReplayTopology shadow,
        IReadOnlyDictionary<TopicPartition, long> inputEnds, TextWriter output, List<string> notes)
    {
        cluster = new EmbeddedKafkaCluster();
        try
        {
            var copied = shadow.Inputs.Concat(shadow.GlobalSources).ToList();
            cluster.CreateTopics([.. copied.Select(t => (t, Math.Max(1, live.Partitions(t).Count))), .. shadowTopics.Select(t => (t.Name, t.Partitions))]);
            var clock = Stopwatch.StartNew();
            producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
            {
                BootstrapServers = cluster.BootstrapServers,
                LingerMs = 1,
                EnableIdempotence = true, // order kept per partition, so offsets follow the source's
            }).SetLogHandler((_, _) => { }).Build();
            var globals = new Dictionary<TopicPartition, long>();
            foreach (var global in shadow.GlobalSources)
            {
                foreach (var (partition, marks) in live.Watermarks([global]))
                {
                    globals[partition] = marks.High.Value;
                }
            }

            var globalRecords = Read(live, globals);
            foreach (var record in globalRecords)
            {
                Produce(record);
            }

            Flush(live.Timeout);
            fedEnds.Clear(); // the global store's topic is not an input the group commits
            inputs = Merge(Read(live, inputEnds));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"verify: sandbox {cluster.BootstrapServers}: {globalRecords.Count:N0} records of {string.Join(", ", shadow.GlobalSources)} copied, {inputs.Count:N0} input records read in {clock.Elapsed.TotalSeconds:0.0} s"));
            this.notes = notes;
            timeout = live.Timeout;
            Offsets = new KafkaOffsets(cluster.BootstrapServers, live.Timeout);
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private readonly IProducer<byte[]?, byte[]?> producer;
    private readonly List<ConsumeResult<byte[]?, byte[]?>> inputs;
    private readonly List<string> notes;
    private readonly TimeSpan timeout;
    private readonly Dictionary<TopicPartition, long> fedEnds = [];
    private int fed;
    private long shifted;
    private Error? failure;

    /// <summary>Offsets of the sandbox.</summary>
    public KafkaOffsets Offsets { get; }

    /// <summary>How many input records there are to feed, all partitions together.</summary>
    public int InputRecords => inputs.Count;

    /// <summary>How many have been fed.</summary>
    public int Fed => fed;

    /// <summary>The ends of the inputs fed so far, in the sandbox.</summary>
    public IReadOnlyDictionary<TopicPartition, long> FedEnds => fedEnds;

    /// <summary>
    /// Feeds the next input records into the sandbox: those within <paramref name="window"/> of the next record's timestamp (all
    /// of them when null), in the order of their timestamps across partitions (each partition in its own offset order).
    /// Returns how many were fed (0 at the end).
    /// </summary>
    public int Feed(TimeSpan? window)
    {
        if (fed >= inputs.Count)
        {
            return 0;
        }

        var limit = window is { } w ? inputs[fed].Message.Timestamp.UnixTimestampMs + (long)w.TotalMilliseconds : long.MaxValue;
        var start = fed;
        while (fed < inputs.Count && inputs[fed].Message.Timestamp.UnixTimestampMs < Math.Max(limit, inputs[start].Message.Timestamp.UnixTimestampMs + 1))
        {
            Produce(inputs[fed]);
            fed++;
        }

        Flush(timeout);
        if (fed == inputs.Count && Interlocked.Read(ref shifted) > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Interlocked.Read(ref shifted)} copied record(s) have another offset in the sandbox than on the live cluster (a log start above 0, or transaction markers): an INVALID_EVENT alert naming such an offset differs"));
        }

        return fed - start;
    }

    public void Dispose()
    {
        producer?.Dispose();
        Offsets?.Dispose();
        cluster.Dispose();
    }

    private void Produce(ConsumeResult<byte[]?, byte[]?> record)
    {
        var source = record.Offset.Value;
        var partition = record.TopicPartition;
        producer.Produce(partition, new Message<byte[]?, byte[]?>
        {
            Key = record.Message.Key,
            Value = record.Message.Value,
            Headers = record.Message.Headers,
            Timestamp = new Timestamp(record.Message.Timestamp.UnixTimestampMs, TimestampType.CreateTime),
        }, report =>
        {
            if (report.Error.IsError)
            {
                failure ??= report.Error;
            }
            else if (report.Offset.Value != source)
            {
                Interlocked.Increment(ref shifted);
            }
        });
        fedEnds[partition] = Math.Max(fedEnds.GetValueOrDefault(partition), source + 1);
    }

    private void Flush(TimeSpan within)
    {
        if (producer.Flush(within) > 0 || failure is not null)
        {
            throw new InvalidOperationException($"could not copy records into the sandbox: {failure?.Reason ?? "timeout"}");
        }
    }

    /// <summary>The records of every partition merged by timestamp, each partition's own order kept (a k-way merge of their heads).</summary>
    private static List<ConsumeResult<byte[]?, byte[]?>> Merge(List<ConsumeResult<byte[]?, byte[]?>> records)
    {
        var queues = records.GroupBy(r => r.TopicPartition).Select(g => new Queue<ConsumeResult<byte[]?, byte[]?>>(g.OrderBy(r => r.Offset.Value))).ToList();
        var merged = new List<ConsumeResult<byte[]?, byte[]?>>(records.Count);
        var heads = new PriorityQueue<Queue<ConsumeResult<byte[]?, byte[]?>>, (long, string, int, long)>();
        foreach (var q in queues)
        {
            var head = q.Peek();
            heads.Enqueue(q, (head.Message.Timestamp.UnixTimestampMs, head.Topic, head.Partition.Value, head.Offset.Value));
        }

        while (heads.TryDequeue(out var queue, out _))
        {
            merged.Add(queue.Dequeue());
            if (queue.TryPeek(out var next))
            {
                heads.Enqueue(queue, (next.Message.Timestamp.UnixTimestampMs, next.Topic, next.Partition.Value, next.Offset.Value));
            }
        }

        return merged;
    }

    /// <summary>Every record below <paramref name="ends"/> of the live cluster, partition by partition.</summary>
    private static List<ConsumeResult<byte[]?, byte[]?>> Read(KafkaOffsets live, IReadOnlyDictionary<TopicPartition, long> ends)
    {
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = live.BootstrapServers,
            GroupId = $"gcp-replay-copy-{Guid.NewGuid():N}", // never committed: only assigned partitions
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5,
            AllowAutoCreateTopics = false,
        }).SetLogHandler((_, _) => { }).Build();
        var remaining = new Dictionary<TopicPartition, long>();
        foreach (var (partition, end) in ends)
        {
            var marks = consumer.QueryWatermarkOffsets(partition, live.Timeout);
            if (Math.Min(end, marks.High.Value) > marks.Low.Value)
            {
                remaining[partition] = Math.Min(end, marks.High.Value);
            }
        }

        var deadline = DateTime.UtcNow + live.Timeout + live.Timeout;
        consumer.Assign(remaining.Keys.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var polls = 0;
        while (remaining.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the inputs could not be read for the sandbox in time");
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null || ++polls % 500 == 0)
            {
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
                    consumer.Pause([result.TopicPartition]);
                }

                continue;
            }

            records.Add(result);
            if (result.Offset.Value + 1 >= end)
            {
                remaining.Remove(result.TopicPartition);
                consumer.Pause([result.TopicPartition]);
            }
        }

        consumer.Close();
        return records;
    }
}
