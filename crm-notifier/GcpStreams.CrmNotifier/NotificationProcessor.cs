using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using MimeKit;
using Polly;
using Polly.Retry;
using C = GcpStreams.Contracts;

namespace GcpStreams.CrmNotifier;

/// <summary>One <c>notification.requested</c> as the notifier needs it (decoded from the stream).</summary>
public sealed record NotificationRequest(
    string CertificateId, string NotificationId, string? ClientId, C.ContactChannel Contact, long? NominalMinor, string? Currency, bool Again);

/// <summary>
/// Sends one notification: finds the buyer's contact (All_Clients), reads the CVC through the API, sends the e-mail or SMS, and
/// reports every outcome on CRM.NotificationResults — each transient failure (<c>willRetry</c> true) and the final one (sent, or
/// failed) — then the last one on the client's All_Clients record. Transient failures are retried by a Polly pipeline
/// (exponential backoff with jitter) until the deadline; a permanent one ends it at once. A notification with a final result
/// already (CRM.NotificationResults, any instance) is never sent again, and one request in flight is shared by its duplicates.
/// The CVC lives in a local of the attempt loop, for the sends only: never logged, stored or put on a topic.
/// </summary>
public sealed partial class NotificationProcessor
{
    private static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("gcp.deadline");
    private static readonly ResiliencePropertyKey<NotificationRequest> Request = new("gcp.request");
    private static readonly ResiliencePropertyKey<StrongBox<int>> Attempt = new("gcp.attempt");
    private static readonly ResiliencePropertyKey<C.ContactChannel> Channel = new("gcp.channel");

    private readonly GcpApiClient api;
    private readonly EmailSender email;
    private readonly SmsSender sms;
    private readonly ClientDirectory clients;
    private readonly ResultLedger ledger;
    private readonly IProducer<string, byte[]> producer;
    private readonly KafkaClients kafka;
    private readonly NotifierOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ResiliencePipeline pipeline;
    private readonly ConcurrentDictionary<string, Task> inFlight = new(StringComparer.Ordinal);

    public NotificationProcessor(GcpApiClient api, EmailSender email, SmsSender sms, ClientDirectory clients, ResultLedger ledger, IProducer<string, byte[]> producer,
        KafkaClients kafka, NotifierOptions options, TimeProvider time, ILogger<NotificationProcessor> logger)
    {
        (this.api, this.email, this.sms, this.clients, this.ledger, this.producer, this.kafka, this.options, this.time, this.logger) =
            (api, email, sms, clients, ledger, producer, kafka, options, time, logger);
        pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.Retry.BaseDelayMs),
                MaxDelay = TimeSpan.FromMilliseconds(options.Retry.MaxDelayMs),
                MaxRetryAttempts = int.MaxValue, // the deadline ends the retries
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is TransientNotificationException && time.GetUtcNow() < args.Context.Properties.GetValue(Deadline, DateTimeOffset.MinValue)),
                OnRetry = args => new ValueTask(ReportRetryAsync(args)),
            })
            .Build();
    }

    /// <summary>Notifications being sent right now (for the tests and the stop).</summary>
    public int InFlight => inFlight.Count;

    /// <summary>
    /// Handles a request; a duplicate of one in flight waits for it. Cancelled (a stop, a partition taken away) it reports
    /// nothing more: the request is read again by whoever owns its partition next, and goes on from its last reported attempt.
    /// </summary>
    public Task HandleAsync(NotificationRequest request, CancellationToken cancel)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = inFlight.GetOrAdd(request.NotificationId, mine.Task);
        if (running != mine.Task)
        {
            LogDuplicateInFlight(logger, request.NotificationId);
            return running.WaitAsync(cancel);
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await RunAsync(request, cancel);
                mine.TrySetResult();
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                mine.TrySetCanceled(cancel);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                mine.TrySetException(e);
            }
            finally
            {
                inFlight.TryRemove(new KeyValuePair<string, Task>(request.NotificationId, mine.Task));
            }
        }, CancellationToken.None);
        return mine.Task;
    }

    private async Task RunAsync(NotificationRequest request, CancellationToken cancel)
    {
        var progress = ledger.Get(request.NotificationId);
        if (progress?.Final is { } final)
        {
            LogAlreadyDone(logger, request.NotificationId, final.ToString());
            return;
        }

        var attempt = new StrongBox<int>(progress?.LastAttempt ?? 0);
        ContactRoute route;
        try
        {
            route = await RouteAsync(request, cancel);
        }
        catch (PermanentNotificationException e)
        {
            // nothing to send to: fails at once, and the CVC is never read
            attempt.Value++;
            await FinishAsync(request, request.Contact, attempt.Value, C.NotificationOutcome.FAILED, e.Message, cancel);
            return;
        }

        var context = ResilienceContextPool.Shared.Get(cancel);
        context.Properties.Set(Deadline, (progress?.FirstAttemptAt ?? time.GetUtcNow()) + TimeSpan.FromSeconds(options.Retry.DeadlineSeconds));
        context.Properties.Set(Request, request);
        context.Properties.Set(Attempt, attempt);
        context.Properties.Set(Channel, route.Channel);
        string? cvc = null; // the secret: in memory for the sends of this loop only
        try
        {
            await pipeline.ExecuteAsync(
                async (ctx, state) =>
                {
                    state.Attempt.Value++;
                    cvc ??= await api.GetCvcAsync(request.CertificateId, request.NotificationId, ctx.CancellationToken);
                    var message = Messages.Build(Messages.LanguageOf(route.Locale, options.DefaultLocale), route.Name, request.CertificateId, cvc,
                        request.NominalMinor, request.Currency, request.Again);
                    if (route.Channel == C.ContactChannel.SMS)
                    {
                        await sms.SendAsync(request.NotificationId, route.Address, message, ctx.CancellationToken);
                    }
                    else
                    {
                        await email.SendAsync(request.NotificationId, route.Address, route.Name, message, ctx.CancellationToken);
                    }
                },
                context,
                (Attempt: attempt, Route: route));
            await FinishAsync(request, route.Channel, attempt.Value, C.NotificationOutcome.SENT, null, cancel);
        }
        catch (PermanentNotificationException e)
        {
            await FinishAsync(request, route.Channel, attempt.Value, C.NotificationOutcome.FAILED, e.Message, cancel);
        }
        catch (TransientNotificationException e)
        {
            await FinishAsync(request, route.Channel, attempt.Value, C.NotificationOutcome.FAILED,
                $"gave up after {attempt.Value} attempts, at the deadline of {options.Retry.DeadlineSeconds} s: {e.Message}", cancel);
        }
        finally
        {
            cvc = null;
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Where the message goes: the request's channel, or the client's preference when the request says NONE; a usable address.</summary>
    private async Task<ContactRoute> RouteAsync(NotificationRequest request, CancellationToken cancel)
    {
        if (request.ClientId is not { Length: > 0 } clientId)
        {
            throw new PermanentNotificationException("the notification names no client: nobody to send it to");
        }

        var client = await clients.FindAsync(clientId, cancel) ?? throw new PermanentNotificationException("the client has no record in All_Clients: no contact data");
        var channel = request.Contact != C.ContactChannel.NONE ? request.Contact : client.Preferred;
        switch (channel)
        {
            case C.ContactChannel.EMAIL:
                return client.Email is { } address && MailboxAddress.TryParse(address, out var mailbox) && mailbox.Address.Contains('@', StringComparison.Ordinal)
                    ? new ContactRoute(channel, mailbox.Address, client.FullName, client.Locale)
                    : throw new PermanentNotificationException("the client's e-mail address is missing or not valid");
            case C.ContactChannel.SMS:
                return SmsSender.Normalize(client.Phone) is { } phone
                    ? new ContactRoute(channel, phone, client.FullName, client.Locale)
                    : throw new PermanentNotificationException("the client's phone number is missing or not E.164");
            default:
                throw new PermanentNotificationException("the client has no contact channel (preferredContact NONE)");
        }
    }

    private async Task ReportRetryAsync(OnRetryArguments<object> args)
    {
        var request = args.Context.Properties.GetValue(Request, null!);
        var attempt = args.Context.Properties.GetValue(Attempt, null!).Value;
        var channel = args.Context.Properties.GetValue(Channel, C.ContactChannel.NONE);
        var reason = args.Outcome.Exception?.Message ?? "unknown";
        LogRetry(logger, request.NotificationId, Mask(request.CertificateId), attempt, reason, (long)args.RetryDelay.TotalMilliseconds);
        await ReportAsync(request, channel, attempt, C.NotificationOutcome.FAILED, reason, willRetry: true, args.Context.CancellationToken);
    }

    private async Task FinishAsync(NotificationRequest request, C.ContactChannel channel, int attempt, C.NotificationOutcome outcome, string? reason, CancellationToken cancel)
    {
        await ReportAsync(request, channel, attempt, outcome, reason, willRetry: false, cancel);
        if (outcome == C.NotificationOutcome.SENT)
        {
            LogSent(logger, request.NotificationId, Mask(request.CertificateId), channel.ToString(), attempt);
        }
        else
        {
            LogFailed(logger, request.NotificationId, Mask(request.CertificateId), channel.ToString(), attempt, reason ?? string.Empty);
        }

        if (request.ClientId is { Length: > 0 } clientId)
        {
            await clients.RecordLastNotificationAsync(clientId, request.CertificateId, request.NotificationId, channel, outcome, cancel);
        }
    }

    /// <summary>One result on CRM.NotificationResults (key: the certificate id), acknowledged by every replica before it counts.</summary>
    private async Task ReportAsync(NotificationRequest request, C.ContactChannel channel, int attempt, C.NotificationOutcome outcome, string? reason, bool willRetry, CancellationToken cancel)
    {
        var result = new C.NotificationResult
        {
            // derived: the same attempt reported twice is one result for the service (a repeated eventId is a no-op)
            eventId = EventId(request.NotificationId, attempt, outcome, willRetry),
            notificationId = request.NotificationId,
            certificateId = request.CertificateId,
            clientId = request.ClientId,
            contactChannel = channel,
            outcome = outcome,
            attempt = Math.Max(1, attempt),
            reason = reason,
            willRetry = outcome == C.NotificationOutcome.FAILED ? willRetry : null,
            occurredAt = time.GetUtcNow().UtcDateTime,
        };
        var value = await kafka.EncodeAsync(CrmTopics.NotificationResults, result);
        await producer.ProduceAsync(CrmTopics.NotificationResults, new Message<string, byte[]> { Key = request.CertificateId, Value = value }, cancel);
        ledger.Record(result);
    }

    private static string EventId(string notificationId, int attempt, C.NotificationOutcome outcome, bool willRetry)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"crm-notifier/{notificationId}/{attempt}/{outcome}/{willRetry}"));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }

    /// <summary>A certificate number in the log: its last four digits only (the number is a bearer credential).</summary>
    internal static string Mask(string number) => number.Length <= 4 ? new string('*', number.Length) : new string('*', number.Length - 4) + number[^4..];

    private sealed record ContactRoute(C.ContactChannel Channel, string Address, string? Name, string? Locale);

    /// <summary>A mutable box for the attempt counter shared by the attempts and the retry callback.</summary>
    private sealed class StrongBox<T>(T value)
    {
        public T Value { get; set; } = value;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId} of certificate {Certificate} sent by {Channel} (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, string notificationId, string certificate, string channel, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification {NotificationId} of certificate {Certificate} failed by {Channel} (attempt {Attempt}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string notificationId, string certificate, string channel, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId} of certificate {Certificate}: attempt {Attempt} failed ({Reason}); next in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string notificationId, string certificate, int attempt, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId} was requested again but has its result already ({Outcome}): not sent again")]
    private static partial void LogAlreadyDone(ILogger logger, string notificationId, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId} is being sent already: the duplicate request waits for it")]
    private static partial void LogDuplicateInFlight(ILogger logger, string notificationId);
}
