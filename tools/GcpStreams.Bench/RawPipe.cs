using System.Diagnostics;
using Confluent.Kafka;

namespace GcpStreams.Bench;

/// <summary>
/// The raw pipe: what Kafka alone costs per record on the embedded broker, the ceiling to read the full topology's figure
/// against (same broker, same process, same run). A plain Confluent.Kafka consume -> produce loop under exactly-once, as
/// Streamiz runs one task: a read_committed consumer assigned to every partition of <see cref="Input"/> (the service's
/// partition count), and a transactional producer (<c>TransactionalId</c>, Murmur2 partitioning) that writes one record per
/// input record (same key, same bytes: the bench's Avro payment records) to <see cref="Output"/> and, every commit interval,
/// hands the consumed offsets to the transaction (<c>SendOffsetsToTransaction</c>) and commits it. No decoding, no state,
/// no repartition. <see cref="Run"/> is timed from the first record consumed to the last transaction committed (which
/// flushes every produced record).
/// </summary>
public sealed class RawPipe : IDisposable
{
    public const string Input = "gcp-bench-raw-in";
    public const string Output = "gcp-bench-raw-out";

    private readonly IConsumer<byte[], byte[]> consumer;
    private readonly IProducer<byte[], byte[]> producer;
    private readonly int partitions;
    private readonly TimeSpan commitInterval;
    private readonly TimeSpan poll;

    /// <param name="bootstrapServers">The embedded broker; <see cref="Input"/> and <see cref="Output"/> must exist.</param>
    /// <param name="partitions">The partition count of <see cref="Input"/>.</param>
    /// <param name="commitIntervalMs">How often a transaction is committed (the service's <c>CommitIntervalMs</c>).</param>
    /// <param name="pollMs">The longest wait of one poll (the service's <c>PollMs</c>).</param>
    /// <param name="lingerMs">The producer's <c>linger.ms</c> (the service's <c>LingerMs</c>).</param>
    public RawPipe(string bootstrapServers, int partitions, int commitIntervalMs, int pollMs, int lingerMs)
    {
        this.partitions = partitions;
        commitInterval = TimeSpan.FromMilliseconds(commitIntervalMs);
        poll = TimeSpan.FromMilliseconds(pollMs);
        consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-bench-raw-pipe", // offsets committed through the transaction; partitions assigned explicitly
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5, // the mock broker's long poll never ends early (STREAMIZ-NOTES)
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(Input, p, Offset.Beginning)));
        producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            TransactionalId = "gcp-bench-raw-pipe",
            Partitioner = Partitioner.Murmur2Random,
            LingerMs = lingerMs,
        }).Build();
        producer.InitTransactions(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Pipes the next <paramref name="records"/> records of <see cref="Input"/> to <see cref="Output"/> (waiting for them if
    /// they are not there yet) and returns the time from the first one consumed to the last transaction committed.
    /// </summary>
    public TimeSpan Run(int records, CancellationToken token)
    {
        var next = new long[partitions]; // per input partition: the offset to commit, 0 = nothing consumed in this transaction
        var consumed = 0;
        var started = 0L;
        var lastCommit = Stopwatch.GetTimestamp();
        producer.BeginTransaction();
        while (consumed < records)
        {
            token.ThrowIfCancellationRequested();
            if (consumer.Consume(poll) is { } record)
            {
                if (consumed++ == 0)
                {
                    started = Stopwatch.GetTimestamp();
                    lastCommit = started;
                }

                producer.Produce(Output, new Message<byte[], byte[]> { Key = record.Message.Key, Value = record.Message.Value });
                next[record.Partition.Value] = record.Offset.Value + 1;
            }

            if (consumed < records && Stopwatch.GetElapsedTime(lastCommit) >= commitInterval && next.Any(offset => offset > 0))
            {
                Commit(next);
                producer.BeginTransaction();
                lastCommit = Stopwatch.GetTimestamp();
            }
        }

        Commit(next);
        return Stopwatch.GetElapsedTime(started);
    }

    private void Commit(long[] next)
    {
        var offsets = Enumerable.Range(0, partitions).Where(p => next[p] > 0).Select(p => new TopicPartitionOffset(Input, p, next[p])).ToList();
        producer.SendOffsetsToTransaction(offsets, consumer.ConsumerGroupMetadata, TimeSpan.FromSeconds(30));
        producer.CommitTransaction(TimeSpan.FromSeconds(30));
        Array.Clear(next);
    }

    public void Dispose()
    {
        producer.Dispose();
        consumer.Close();
        consumer.Dispose();
    }
}
