using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

namespace GcpStreams.CrmNotifier;

/// <summary>
/// Consumes <c>GiftCertificates.Stream</c> in the consumer group <see cref="NotifierOptions.GroupId"/> (instances share its
/// partitions) and hands every <c>notification.requested</c> — chosen by the <c>event-type</c> header, nothing else is decoded —
/// to the <see cref="NotificationProcessor"/>, up to <see cref="NotifierOptions.MaxConcurrency"/> at once. An offset is committed
/// only once every record before it is done (its outcome recorded), so a stop, a crash or a rebalance loses nothing: what was not
/// finished is read again, and the results already on CRM.NotificationResults keep it from being sent twice.
/// </summary>
public sealed partial class NotificationWorker(
    KafkaClients kafka, NotificationProcessor processor, ResultLedger ledger, ClientDirectory clients, NotifierOptions options, ILogger<NotificationWorker> logger)
    : BackgroundService
{
    private readonly Lock gate = new();
    private readonly Dictionary<TopicPartition, PartitionProgress> progress = [];
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SemaphoreSlim slots = null!;
    private volatile bool catchUp;

    /// <summary>Completes once the tables are read and the consumer subscribed (tests and <c>make notifier</c> wait for it).</summary>
    public Task Started => started.Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stop)
    {
        slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        try
        {
            await ledger.StartAsync(stop);
            await clients.StartAsync(stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            started.TrySetException(e);
            throw;
        }

        using var consumer = kafka.Consumer(options.GroupId)
            .SetPartitionsAssignedHandler((_, assigned) => Assigned(assigned))
            .SetPartitionsRevokedHandler((c, revoked) => Revoked(c, revoked.Select(p => p.TopicPartition).ToList()))
            .SetPartitionsLostHandler((c, lost) => Revoked(c, lost.Select(p => p.TopicPartition).ToList(), lost: true))
            .SetErrorHandler((_, error) => LogKafkaError(logger, error.Reason))
            .Build();
        consumer.Subscribe(CrmTopics.Stream);
        LogStarted(logger, options.GroupId, options.BootstrapServers);
        started.TrySetResult();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await slots.WaitAsync(stop);
                ConsumeResult<string, byte[]>? record;
                try
                {
                    record = consumer.Consume(TimeSpan.FromMilliseconds(50));
                }
                catch (ConsumeException e)
                {
                    slots.Release();
                    LogKafkaError(logger, e.Error.Reason);
                    continue;
                }

                Commit(consumer);
                if (record is null || record.IsPartitionEOF || record.Message is null)
                {
                    slots.Release();
                    continue;
                }

                if (catchUp)
                {
                    // new partitions: what other instances recorded before must be known before their requests are looked at
                    await ledger.CatchUpAsync(stop);
                    catchUp = false;
                }

                Dispatch(record, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            List<TopicPartition> owned;
            lock (gate)
            {
                owned = [.. progress.Keys];
            }

            Drain(consumer, owned);
            consumer.Close();
            LogStopped(logger);
        }
    }

    private void Dispatch(ConsumeResult<string, byte[]> record, CancellationToken stop)
    {
        PartitionProgress partition;
        lock (gate)
        {
            if (!progress.TryGetValue(record.TopicPartition, out partition!))
            {
                partition = new PartitionProgress(CancellationTokenSource.CreateLinkedTokenSource(stop));
                progress[record.TopicPartition] = partition;
            }

            partition.Started(record.Offset.Value);
        }

        if (!IsNotificationRequest(record.Message.Headers))
        {
            Done(partition, record.Offset.Value);
            return;
        }

        var token = partition.Cancel.Token;
        var work = Task.Run(async () =>
        {
            try
            {
                var request = await DecodeAsync(record);
                await processor.HandleAsync(request, token);
                Done(partition, record.Offset.Value);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                slots.Release(); // not done: read again by the partition's next owner
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // its outcome could not be recorded (e.g. Kafka refused the result): the offset stays before it, so a restart retries it
                LogNotRecorded(logger, record.Partition.Value, record.Offset.Value, e.GetType().Name, e.Message);
                slots.Release();
            }
        }, CancellationToken.None);
        partition.Track(work);
    }

    private void Done(PartitionProgress partition, long offset)
    {
        lock (gate)
        {
            partition.Finished(offset);
        }

        slots.Release();
    }

    private async Task<NotificationRequest> DecodeAsync(ConsumeResult<string, byte[]> record)
    {
        var e = await kafka.DecodeAsync<C.GiftCertificateEvent>(CrmTopics.Stream, record.Message.Value);
        var payload = (C.NotificationRequested)e.payload;
        return new NotificationRequest(e.certificateId ?? record.Message.Key, payload.notificationId, payload.clientId, payload.contactChannel, payload.nominalMinor, e.currency,
            Again: payload.requestedBy is not null);
    }

    private static bool IsNotificationRequest(Headers? headers) =>
        headers is not null && headers.TryGetLastBytes(CrmTopics.EventTypeHeader, out var type)
        && Encoding.UTF8.GetString(type) == CrmTopics.NotificationRequested;

    private void Assigned(List<TopicPartition> assigned)
    {
        lock (gate)
        {
            foreach (var partition in assigned)
            {
                progress.Remove(partition);
            }
        }

        catchUp = true;
        LogAssigned(logger, string.Join(", ", assigned.Select(p => p.Partition.Value)));
    }

    /// <summary>Partitions taken away (or lost): stop their work in flight (a send already on its way ends first), commit what is done.</summary>
    private void Revoked(IConsumer<string, byte[]> consumer, List<TopicPartition> revoked, bool lost = false)
    {
        LogRevoked(logger, string.Join(", ", revoked.Select(p => p.Partition.Value)), lost);
        Drain(consumer, revoked, commit: !lost);
    }

    private void Drain(IConsumer<string, byte[]> consumer, List<TopicPartition> partitions, bool commit = true)
    {
        List<Task> running = [];
        lock (gate)
        {
            foreach (var partition in partitions)
            {
                if (progress.TryGetValue(partition, out var p))
                {
                    p.Cancel.Cancel();
                    running.AddRange(p.Running);
                }
            }
        }

        Task.WaitAll([.. running], TimeSpan.FromSeconds(options.Smtp.TimeoutSeconds + 5)); // a send in flight finishes; waits end at once
        if (commit)
        {
            Commit(consumer, partitions);
        }

        lock (gate)
        {
            foreach (var partition in partitions)
            {
                if (progress.Remove(partition, out var p))
                {
                    p.Cancel.Dispose();
                }
            }
        }
    }

    private void Commit(IConsumer<string, byte[]> consumer, IReadOnlyCollection<TopicPartition>? only = null)
    {
        List<TopicPartitionOffset> offsets = [];
        lock (gate)
        {
            foreach (var (partition, p) in progress)
            {
                if ((only is null || only.Contains(partition)) && p.Committable() is { } next)
                {
                    offsets.Add(new TopicPartitionOffset(partition, next));
                }
            }
        }

        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets);
            lock (gate)
            {
                foreach (var offset in offsets)
                {
                    if (progress.TryGetValue(offset.TopicPartition, out var p))
                    {
                        p.Committed(offset.Offset.Value);
                    }
                }
            }
        }
        catch (KafkaException e)
        {
            LogKafkaError(logger, $"commit: {e.Error.Reason}");
        }
    }

    /// <summary>One partition's records in flight: the next offset to commit is the lowest one not done, else one past the last read.</summary>
    private sealed class PartitionProgress(CancellationTokenSource cancel)
    {
        private readonly SortedSet<long> pending = [];
        private readonly List<Task> running = [];
        private long lastRead = -1;
        private long committed = -1;

        public CancellationTokenSource Cancel { get; } = cancel;

        public IReadOnlyList<Task> Running
        {
            get
            {
                lock (running)
                {
                    running.RemoveAll(t => t.IsCompleted);
                    return [.. running];
                }
            }
        }

        public void Started(long offset)
        {
            pending.Add(offset);
            lastRead = Math.Max(lastRead, offset);
        }

        public void Track(Task task)
        {
            lock (running)
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(task);
            }
        }

        public void Finished(long offset) => pending.Remove(offset);

        public long? Committable()
        {
            var next = pending.Count > 0 ? pending.Min : lastRead + 1;
            return next > committed && next > 0 ? next : null;
        }

        public void Committed(long next) => committed = Math.Max(committed, next);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "CRM notifier consuming GiftCertificates.Stream as group {GroupId} at {Bootstrap}")]
    private static partial void LogStarted(ILogger logger, string groupId, string bootstrap);

    [LoggerMessage(Level = LogLevel.Information, Message = "CRM notifier stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions assigned: {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions} (lost: {Lost})")]
    private static partial void LogRevoked(ILogger logger, string partitions, bool lost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka: {Reason}")]
    private static partial void LogKafkaError(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outcome of the notification at partition {Partition} offset {Offset} could not be recorded ({Error}: {Message}); it is handled again after a restart")]
    private static partial void LogNotRecorded(ILogger logger, int partition, long offset, string error, string message);
}
