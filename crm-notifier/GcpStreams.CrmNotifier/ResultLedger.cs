using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

namespace GcpStreams.CrmNotifier;

/// <summary>What CRM.NotificationResults says of one notification: its last attempt, when it was first tried, whether it is over.</summary>
/// <param name="FirstAttemptAt">When its first reported attempt ended (the retry deadline counts from it, across restarts).</param>
/// <param name="LastAttempt">The highest attempt number reported.</param>
/// <param name="Final">A result that ends it: sent, or a failure that will not be retried.</param>
public sealed record NotificationProgress(DateTimeOffset FirstAttemptAt, int LastAttempt, C.NotificationOutcome? Final, DateTimeOffset LastAt);

/// <summary>
/// The notifier's memory of what it did, read back from its own topic CRM.NotificationResults (every partition, every
/// instance's results): a notification with a final result is never sent again, whichever instance sees its request again
/// (redelivery, restart, rebalance); one with failed attempts goes on from its last attempt, with the deadline of its first.
/// Forgets what is older than <see cref="NotifierOptions.DedupWindowHours"/>.
/// </summary>
public sealed class ResultLedger(KafkaClients kafka, NotifierOptions options, TimeProvider time, ILogger<ResultLedger> logger)
    : TopicFollower(kafka, CrmTopics.NotificationResults, logger)
{
    private readonly ConcurrentDictionary<string, NotificationProgress> byNotification = new(StringComparer.Ordinal);
    private DateTimeOffset lastSweep = DateTimeOffset.MinValue;

    public NotificationProgress? Get(string notificationId) => byNotification.GetValueOrDefault(notificationId);

    /// <summary>Records a result this instance wrote (before it comes back from the topic).</summary>
    public void Record(C.NotificationResult result) => Apply(result);

    protected override async Task OnRecord(ConsumeResult<string, byte[]> record)
    {
        Apply(await Kafka.DecodeAsync<C.NotificationResult>(CrmTopics.NotificationResults, record.Message.Value));
        Sweep();
    }

    private void Apply(C.NotificationResult result)
    {
        var at = new DateTimeOffset(DateTime.SpecifyKind(result.occurredAt, DateTimeKind.Utc));
        var final = result.outcome == C.NotificationOutcome.SENT || (result.outcome == C.NotificationOutcome.FAILED && result.willRetry != true)
            ? result.outcome
            : (C.NotificationOutcome?)null;
        byNotification.AddOrUpdate(result.notificationId,
            _ => new NotificationProgress(at, result.attempt, final, at),
            (_, known) => new NotificationProgress(known.FirstAttemptAt < at ? known.FirstAttemptAt : at, Math.Max(known.LastAttempt, result.attempt), known.Final ?? final,
                known.LastAt > at ? known.LastAt : at));
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        if (now - lastSweep < TimeSpan.FromMinutes(1))
        {
            return;
        }

        lastSweep = now;
        var horizon = now - TimeSpan.FromHours(options.DedupWindowHours);
        foreach (var (id, progress) in byNotification)
        {
            if (progress.LastAt < horizon)
            {
                byNotification.TryRemove(id, out _);
            }
        }
    }
}
