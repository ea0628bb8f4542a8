using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Watches the stream threads for progress and decides when the stream is to be replaced (<see cref="StreamService"/> does it),
/// and when the instance is to be given up: <c>/health/live</c> then fails, so the orchestrator restarts the pod.
/// </summary>
/// <remarks>
/// Progress is the stream threads' poll count (Streamiz's thread sensor <c>poll-total</c>): a stream thread polls once per
/// loop, when it processes, when it is idle, while it restores, so a count that does not move for
/// <c>Kafka:StreamStallSeconds</c> means the thread is stuck inside a call. Seen on the embedded broker: after the broker was
/// down for 4 s and back, the thread stayed in librdkafka's <c>rd_kafka_send_offsets_to_transaction</c>, whose timeout
/// librdkafka does not enforce (docs/reliability.md, <i>Broker down and back</i>). A stream in ERROR or shut down is not
/// supervised (a failed write keeps the instance not ready on purpose, <see cref="ProductionFailures"/>). A stream that
/// makes progress for a whole stall window after a restart clears the count of restarts in a row; more than
/// <c>Kafka:StreamStallRestarts</c> of them in a row and the supervisor gives up.
/// </remarks>
public sealed class StreamSupervisor
{
    private readonly Lock gate = new();
    private long? lastProgress;
    private DateTimeOffset lastAdvance;
    private DateTimeOffset? lastRestart;
    private int restartsInARow;
    private int restarts;
    private string? gaveUp;

    public StreamSupervisor(IOptions<KafkaOptions> kafka)
        : this(TimeSpan.FromSeconds(kafka.Value.StreamStallSeconds), kafka.Value.StreamStallRestarts)
    {
    }

    public StreamSupervisor(TimeSpan stallLimit, int maxRestartsInARow)
    {
        StallLimit = stallLimit;
        MaxRestartsInARow = maxRestartsInARow;
    }

    /// <summary>How long the stream threads may make no progress before the stream is replaced.</summary>
    public TimeSpan StallLimit { get; }

    /// <summary>Restarts in a row (each followed by another stall) before the supervisor gives up.</summary>
    public int MaxRestartsInARow { get; }

    /// <summary>Every restart since the instance started.</summary>
    public int Restarts
    {
        get
        {
            lock (gate)
            {
                return restarts;
            }
        }
    }

    /// <summary>Why the supervisor gave up (liveness fails), or null while it has not.</summary>
    public string? GaveUp
    {
        get
        {
            lock (gate)
            {
                return gaveUp;
            }
        }
    }

    /// <summary>The last restart: how long from its decision until the new stream was RUNNING; null before any.</summary>
    public TimeSpan? LastRecovery { get; private set; }

    /// <summary>
    /// One look at the stream: <paramref name="progress"/> is its threads' poll count, or null when the stream is not to be
    /// supervised (not started, ERROR, shutting down).
    /// </summary>
    public SupervisorVerdict Observe(long? progress, DateTimeOffset now)
    {
        lock (gate)
        {
            if (gaveUp is not null)
            {
                return SupervisorVerdict.GaveUp(gaveUp);
            }

            if (progress is null)
            {
                lastProgress = null;
                lastAdvance = now;
                return SupervisorVerdict.Healthy;
            }

            if (progress != lastProgress)
            {
                lastProgress = progress;
                lastAdvance = now;
                if (lastRestart is { } restarted && now - restarted >= StallLimit)
                {
                    restartsInARow = 0; // a whole window of progress since the last restart: it worked
                    lastRestart = null;
                }

                return SupervisorVerdict.Healthy;
            }

            var stalled = now - lastAdvance;
            if (stalled < StallLimit)
            {
                return SupervisorVerdict.Healthy;
            }

            var what = $"the stream threads made no progress for {stalled.TotalSeconds:0} s (poll count {progress.Value.ToString(CultureInfo.InvariantCulture)}; "
                + $"Kafka:StreamStallSeconds is {StallLimit.TotalSeconds:0})";
            if (restartsInARow >= MaxRestartsInARow)
            {
                gaveUp = $"{what} after {restartsInARow} restart(s) in a row (Kafka:StreamStallRestarts is {MaxRestartsInARow}): the instance needs a restart";
                return SupervisorVerdict.GaveUp(gaveUp);
            }

            restartsInARow++;
            restarts++;
            lastRestart = now;
            lastAdvance = now; // the new stream gets a whole window
            lastProgress = null;
            return SupervisorVerdict.Restart($"{what}: replacing the stream (restart {restartsInARow} of at most {MaxRestartsInARow} in a row)");
        }
    }

    /// <summary>The new stream reached RUNNING, <paramref name="after"/> the restart was decided.</summary>
    public void Recovered(TimeSpan after) => LastRecovery = after;

    /// <summary>
    /// The stream threads' progress: the sum of their poll counts, 0 before their first poll. Null when the stream is not to
    /// be supervised (<paramref name="state"/> ERROR, shutting down or shut down).
    /// </summary>
    public static long? ProgressOf(KafkaStream stream, ServiceState state)
    {
        if (state is not (ServiceState.Starting or ServiceState.Rebalancing or ServiceState.Running))
        {
            return null;
        }

        long polls = 0;
        foreach (var sensor in stream.Metrics().ToList())
        {
            foreach (var metric in sensor.Metrics.Values)
            {
                if (metric.Name == PollTotal && metric.Tags.TryGetValue(StreamMetricsRegistry.THREAD_ID_TAG, out var thread)
                    && thread.Contains("-stream-thread-", StringComparison.Ordinal) && Count(metric.Value) is { } count)
                {
                    polls += count;
                }
            }
        }

        return polls;
    }

    /// <summary>Streamiz's thread-level count of polls (<c>ThreadMetrics.PollSensor</c>).</summary>
    internal const string PollTotal = "poll-total";

    private static long? Count(object? value) => value switch
    {
        double d when !double.IsNaN(d) && !double.IsInfinity(d) => (long)d,
        long l => l,
        int i => i,
        _ => null,
    };
}

/// <summary>What the supervisor decided: nothing to do, replace the stream (why), or give up (why).</summary>
public readonly record struct SupervisorVerdict(SupervisorAction Action, string? Reason)
{
    public static SupervisorVerdict Healthy => new(SupervisorAction.None, null);

    public static SupervisorVerdict Restart(string reason) => new(SupervisorAction.Restart, reason);

    public static SupervisorVerdict GaveUp(string reason) => new(SupervisorAction.GiveUp, reason);
}

public enum SupervisorAction
{
    None,
    Restart,
    GiveUp,
}

/// <summary>
/// The Kafka clients of one stream, so that a stuck stream can be abandoned: its stream threads' consumers leave the group
/// (closed from another thread, the stream's rebalance callbacks no longer called, since they would commit through the stuck
/// producer), and the new stream gets the partitions at once instead of after the old member's <c>max.poll.interval.ms</c>.
/// </summary>
internal sealed class AbandonableClients(IKafkaSupplier inner) : IKafkaSupplier
{
    private readonly ConcurrentQueue<IConsumer<byte[], byte[]>> consumers = new();
    private volatile bool abandoned;

    public StreamMetricsRegistry MetricsRegistry
    {
        get => inner.MetricsRegistry;
        set => inner.MetricsRegistry = value;
    }

    public bool Abandoned => abandoned;

    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener)
    {
        var consumer = inner.GetConsumer(config, rebalanceListener is null ? null : new Gated(rebalanceListener, this));
        consumers.Enqueue(consumer);
        return consumer;
    }

    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config) => inner.GetProducer(config);

    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => inner.GetRestoreConsumer(config);

    public IAdminClient GetAdmin(AdminClientConfig config) => inner.GetAdmin(config);

    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => inner.GetGlobalConsumer(config);

    /// <summary>
    /// Stops calling the stream's rebalance callbacks and closes its stream threads' consumers (each leaves the group). Returns
    /// the errors met, for the log; a consumer whose close does not return is left to the caller's bound.
    /// </summary>
    public IReadOnlyList<string> Abandon()
    {
        abandoned = true;
        var errors = new List<string>();
        foreach (var consumer in consumers)
        {
            try
            {
                consumer.Close();
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException or InvalidOperationException)
            {
                errors.Add($"{consumer.Name}: {e.Message}");
            }
        }

        return errors;
    }

    /// <summary>The stream's rebalance listener until the stream is abandoned; nothing after.</summary>
    private sealed class Gated(IConsumerRebalanceListener listener, AbandonableClients clients) : IConsumerRebalanceListener
    {
        public void PartitionsAssigned(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
        {
            if (!clients.abandoned)
            {
                listener.PartitionsAssigned(consumer, partitions);
            }
        }

        public void PartitionsRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
        {
            if (!clients.abandoned)
            {
                listener.PartitionsRevoked(consumer, partitions);
            }
        }

        public void PartitionsLost(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
        {
            if (!clients.abandoned)
            {
                listener.PartitionsLost(consumer, partitions);
            }
        }
    }
}
