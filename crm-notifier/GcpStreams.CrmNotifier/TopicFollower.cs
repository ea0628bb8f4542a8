using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace GcpStreams.CrmNotifier;

/// <summary>
/// Reads every partition of one topic from its beginning and keeps following it (no consumer group: each notifier instance
/// sees the whole topic), handing each record to <see cref="OnRecord"/>. <see cref="CatchUpAsync"/> waits until what was in
/// the topic when it was called has been read: the tables (clients, results) answer for the present, not for a moment ago.
/// </summary>
public abstract partial class TopicFollower : IAsyncDisposable
{
    private readonly string topic;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private readonly List<(Dictionary<int, long> Targets, TaskCompletionSource Done)> waiters = [];
    private readonly Dictionary<int, long> positions = [];
    private IConsumer<string, byte[]>? consumer;
    private IConsumer<string, byte[]>? watermarks; // asked from any thread: not the following consumer
    private Task loop = Task.CompletedTask;
    private List<TopicPartition> partitions = [];
    private int disposed;

    protected TopicFollower(KafkaClients kafka, string topic, ILogger logger)
    {
        Kafka = kafka;
        this.topic = topic;
        this.logger = logger;
    }

    /// <summary>The Kafka clients and Avro serdes.</summary>
    protected KafkaClients Kafka { get; }

    /// <summary>Assigns every partition from the beginning and starts following; returns once caught up with the topic's end at start.</summary>
    public async Task StartAsync(CancellationToken token)
    {
        using (var admin = Kafka.Admin())
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(30));
            var found = metadata.Topics.SingleOrDefault(t => t.Topic == topic);
            if (found is null || found.Error.IsError || found.Partitions.Count == 0)
            {
                throw new InvalidOperationException($"topic {topic} is not there ({found?.Error.Reason ?? "no metadata"}): is the service running, and the bootstrap servers right?");
            }

            partitions = [.. found.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
        }

        consumer = Kafka.Consumer(null).Build();
        watermarks = Kafka.Consumer(null).Build();
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        loop = Task.Factory.StartNew(Follow, TaskCreationOptions.LongRunning).Unwrap();
        await CatchUpAsync(token);
    }

    /// <summary>Waits until every record that was in the topic when called has been handed to <see cref="OnRecord"/>.</summary>
    public async Task CatchUpAsync(CancellationToken token)
    {
        var targets = new Dictionary<int, long>();
        lock (watermarks!)
        {
            foreach (var partition in partitions)
            {
                // one broker round trip per partition; the high watermark is where the next record will go
                targets[partition.Partition.Value] = watermarks.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High.Value;
            }
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (Reached(targets))
            {
                return;
            }

            waiters.Add((targets, done));
        }

        await done.Task.WaitAsync(token);
    }

    /// <summary>Handles one record of the topic (called on the following thread, one at a time, in partition order).</summary>
    protected abstract Task OnRecord(ConsumeResult<string, byte[]> record);

    private async Task Follow()
    {
        while (!stop.IsCancellationRequested)
        {
            ConsumeResult<string, byte[]>? record;
            try
            {
                record = consumer!.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException e)
            {
                LogConsumeFailed(logger, topic, e.Error.Reason);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (record is { IsPartitionEOF: false, Message: not null })
            {
                try
                {
                    await OnRecord(record);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogRecordSkipped(logger, topic, record.Partition.Value, record.Offset.Value, e.GetType().Name, e.Message);
                }
            }

            Advance();
        }
    }

    private void Advance()
    {
        lock (gate)
        {
            foreach (var partition in partitions)
            {
                var position = consumer!.Position(partition);
                if (position.Value >= 0)
                {
                    positions[partition.Partition.Value] = position.Value;
                }
            }

            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (Reached(waiters[i].Targets))
                {
                    waiters[i].Done.TrySetResult();
                    waiters.RemoveAt(i);
                }
            }
        }
    }

    private bool Reached(Dictionary<int, long> targets) =>
        targets.All(t => t.Value <= 0 || positions.GetValueOrDefault(t.Key, -1) >= t.Value);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return; // stopped by the host's shutdown, then disposed by the container
        }

        await stop.CancelAsync();
        await loop;
        consumer?.Close();
        consumer?.Dispose();
        watermarks?.Dispose();
        stop.Dispose();
        GC.SuppressFinalize(this);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading {Topic}: {Reason}")]
    private static partial void LogConsumeFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped the record {Topic}/{Partition}@{Offset}: {Error} {Message}")]
    private static partial void LogRecordSkipped(ILogger logger, string topic, int partition, long offset, string error, string message);
}
