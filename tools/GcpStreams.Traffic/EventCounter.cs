using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using GcpStreams.Client;

namespace GcpStreams.Traffic;

/// <summary>
/// Counts events of given types on <see cref="Topics.Stream"/> without decoding a single one (the benchmarks' load generators:
/// e.g. <c>certificate.redeemed</c> and <c>operation.rejected</c>, the one outcome a CAPTURE payment has): one dedicated consumer,
/// assigned to every partition at its end when it opens, looks only at each record's <c>event-type</c> header
/// (<see cref="GcpStreams.Client.Header.EventType"/>). Values are never even copied (<see cref="Ignore"/>); the key (the certificate id) is read only
/// while <see cref="OnOutcome"/> is set.
/// </summary>
public sealed class EventCounter : IDisposable
{
    private readonly byte[][] counted;
    private readonly IConsumer<byte[], Ignore> consumer;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private readonly Lock gate = new();
    private long count;
    private long target = long.MaxValue;
    private TaskCompletionSource<long>? reached;

    /// <param name="bootstrapServers">The embedded broker.</param>
    /// <param name="partitions">The partition count of <see cref="Topics.Stream"/>.</param>
    /// <param name="eventTypes">The event types counted.</param>
    public EventCounter(string bootstrapServers, int partitions, params string[] eventTypes)
    {
        counted = [.. eventTypes.Select(Encoding.UTF8.GetBytes)];
        consumer = new ConsumerBuilder<byte[], Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-event-counter", // never joined: assigned explicitly, nothing committed
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
        thread = new Thread(Run) { Name = "event-counter", IsBackground = true };
        thread.Start();
    }

    /// <summary>Events counted since the counter opened.</summary>
    public long Count => Interlocked.Read(ref count);

    /// <summary>
    /// Called on the counter's thread with the record key (the certificate id) of every event counted while set; null reads no
    /// key at all.
    /// </summary>
    public Action<string>? OnOutcome { get; set; }

    /// <summary>
    /// Completes with <see cref="Stopwatch.GetTimestamp"/> as the counter's thread saw event number <paramref name="outcomes"/>
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
                Console.Error.WriteLine($"event counter: {e.Error.Reason}");
                continue;
            }

            if (record?.Message.Headers is not { } headers || !headers.TryGetLastBytes(GcpStreams.Client.Header.EventType, out var type) || !Counted(type))
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

    private bool Counted(byte[] type)
    {
        foreach (var eventType in counted)
        {
            if (type.AsSpan().SequenceEqual(eventType))
            {
                return true;
            }
        }

        return false;
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
