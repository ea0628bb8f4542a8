using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.Domain;

namespace GcpStreams.Bench;

/// <summary>
/// Counts payment outcomes on <see cref="Topics.Stream"/> without decoding a single event: one dedicated consumer, assigned to
/// every partition at its end when it opens, looks only at each record's <c>event-type</c> header (<see cref="GcpStreams.Client.Header.EventType"/>)
/// and counts <c>certificate.redeemed</c> and <c>operation.rejected</c>, the one outcome a CAPTURE payment has. Values are never
/// even copied (<see cref="Ignore"/>); the key (the certificate id) is read only while <see cref="OnOutcome"/> is set.
/// </summary>
public sealed class OutcomeCounter : IDisposable
{
    private static readonly byte[] Redeemed = Encoding.UTF8.GetBytes(EventTypes.Redeemed);
    private static readonly byte[] Rejected = Encoding.UTF8.GetBytes(EventTypes.OperationRejected);

    private readonly IConsumer<byte[], Ignore> consumer;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private readonly Lock gate = new();
    private long count;
    private long target = long.MaxValue;
    private TaskCompletionSource<long>? reached;

    /// <param name="bootstrapServers">The embedded broker.</param>
    /// <param name="partitions">The partition count of <see cref="Topics.Stream"/>.</param>
    public OutcomeCounter(string bootstrapServers, int partitions)
    {
        consumer = new ConsumerBuilder<byte[], Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-bench-outcomes", // never joined: assigned explicitly, nothing committed
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5, // the mock broker's long poll never ends early (STREAMIZ-NOTES)
            ConsumeResultFields = "headers", // no topic name or timestamp marshalled per record
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p =>
        {
            var partition = new TopicPartition(Topics.Stream.Name, p);
            return new TopicPartitionOffset(partition, consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High);
        }));
        thread = new Thread(Run) { Name = "bench-outcomes", IsBackground = true };
        thread.Start();
    }

    /// <summary>Outcomes counted since the counter opened.</summary>
    public long Count => Interlocked.Read(ref count);

    /// <summary>
    /// Called on the counter's thread with the record key (the certificate id) of every outcome while set; null (the
    /// throughput phase) reads no key at all.
    /// </summary>
    public Action<string>? OnOutcome { get; set; }

    /// <summary>
    /// Completes with <see cref="Stopwatch.GetTimestamp"/> as the counter's thread saw outcome number <paramref name="outcomes"/>
    /// (counted since the counter opened). One wait at a time.
    /// </summary>
    public Task<long> WhenCountReaches(long outcomes)
    {
        lock (gate)
        {
            var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Count >= outcomes)
            {
                waiter.SetResult(Stopwatch.GetTimestamp());
                return waiter.Task;
            }

            reached = waiter;
            Volatile.Write(ref target, outcomes);
            if (Count >= outcomes) // the last one came in between: the counter's thread did not see the target
            {
                Volatile.Write(ref target, long.MaxValue);
                reached = null;
                waiter.TrySetResult(Stopwatch.GetTimestamp());
            }

            return waiter.Task;
        }
    }

    private void Run()
    {
        while (!stop.IsCancellationRequested)
        {
            ConsumeResult<byte[], Ignore>? record;
            try
            {
                record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException e)
            {
                Console.Error.WriteLine($"outcome counter: {e.Error.Reason}");
                continue;
            }

            if (record?.Message.Headers is not { } headers || !headers.TryGetLastBytes(GcpStreams.Client.Header.EventType, out var type)
                || !(type.AsSpan().SequenceEqual(Redeemed) || type.AsSpan().SequenceEqual(Rejected)))
            {
                continue;
            }

            if (OnOutcome is { } onOutcome)
            {
                onOutcome(Encoding.UTF8.GetString(record.Message.Key));
            }

            if (Interlocked.Increment(ref count) >= Volatile.Read(ref target))
            {
                var now = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    Volatile.Write(ref target, long.MaxValue);
                    reached?.TrySetResult(now);
                    reached = null;
                }
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join();
        consumer.Close();
        consumer.Dispose();
        stop.Dispose();
    }
}
