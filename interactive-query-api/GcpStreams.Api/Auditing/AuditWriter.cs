using System.Collections.Concurrent;
using System.Threading.Channels;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Auditing;

/// <summary>
/// Writes audit records to <c>GiftCertificates.Audit</c> (key: the certificate id, else the pool id, else the client id)
/// through the command channel's idempotent producer, off the request path, and to the log (category <c>GcpStreams.Audit</c>,
/// one line whatever the values hold: control characters are escaped) when the record does not reach the topic — the buffer
/// was full, the broker refused it, it was still buffered at stop — or for every call with <c>Gcp:AuditLog</c> =
/// <see cref="AuditLogMode.EveryCall"/>: no call goes unaudited. Records wait in a bounded buffer until the channel is open;
/// at stop the buffer is drained (bounded). Unauthenticated failures beyond <c>Gcp:AnonymousAuditPerMinute</c> are counted
/// instead (<see cref="AnonymousAuditBudget"/>), and the counts logged.
/// </summary>
public sealed partial class AuditWriter : BackgroundService
{
    /// <summary>Records buffered for the topic at most; beyond that they are only in the log (and counted as dropped).</summary>
    public const int Capacity = 100_000;

    /// <summary>Records handed to the producer and not yet delivered, at most (backpressure on the buffer).</summary>
    private const int MaxInFlight = 10_000;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<C.AuditRecord> buffer;
    private readonly CommandClient commands;
    private readonly ILogger logger;
    private readonly SemaphoreSlim inFlight = new(MaxInFlight, MaxInFlight);
    private readonly ConcurrentDictionary<string, C.AuditRecord> undelivered = new(StringComparer.Ordinal); // by audit id
    private readonly AnonymousAuditBudget anonymous;
    private readonly bool logEveryCall;
    private long produced;
    private long dropped;
    private long failed;

    public AuditWriter(CommandClient commands, ILoggerFactory loggers, IOptions<GcpOptions> gcp)
    {
        this.commands = commands;
        anonymous = new AnonymousAuditBudget(gcp.Value.AnonymousAuditPerMinute, TimeProvider.System);
        logEveryCall = gcp.Value.AuditLog == AuditLogMode.EveryCall;
        logger = loggers.CreateLogger("GcpStreams.Audit");
        buffer = Channel.CreateBounded<C.AuditRecord>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            record =>
            {
                Interlocked.Increment(ref dropped);
                LogFallback(record);
            });
    }

    /// <summary>Records on the topic so far.</summary>
    public long Produced => Interlocked.Read(ref produced);

    /// <summary>Records that found the buffer full (they are in the log only).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Records the broker refused (they are in the log only).</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Unauthenticated failures counted, not recorded one by one (<c>Gcp:AnonymousAuditPerMinute</c>).</summary>
    public long AnonymousCounted => anonymous.Counted;

    /// <summary>
    /// Queues the record for the topic (and logs it now with <see cref="AuditLogMode.EveryCall"/>); an unauthenticated failure
    /// beyond the minute's budget is only counted. Logs first the counts of a minute that is over.
    /// </summary>
    /// <param name="record">The call.</param>
    /// <param name="unauthenticatedFailure">The call failed without a valid token: it counts against the anonymous budget.</param>
    public void Write(C.AuditRecord record, bool unauthenticatedFailure = false)
    {
        ArgumentNullException.ThrowIfNull(record);
        LogCounted(anonymous.TakeSummaries());
        if (unauthenticatedFailure && !anonymous.TryRecord($"{record.method} {record.endpoint} {record.outcome}"))
        {
            return;
        }

        if (logEveryCall)
        {
            Log(record);
        }

        buffer.Writer.TryWrite(record);
    }

    private void Log(C.AuditRecord record) =>
        LogCall(logger, Escape(record.method), Escape(record.endpoint), record.statusCode, record.outcome, record.latencyMs, Escape(record.clientId),
            Escape(record.certificateId ?? "-"), Escape(record.poolId ?? "-"), Escape(record.correlationId), record.auditId);

    /// <summary>The record will not reach the topic: into the log instead, unless it is there already.</summary>
    private void LogFallback(C.AuditRecord record)
    {
        if (!logEveryCall)
        {
            Log(record);
        }
    }

    /// <summary>
    /// <paramref name="value"/> made safe for one log line: a backslash is doubled, CR, LF and tab become <c>\r</c>,
    /// <c>\n</c>, <c>\t</c>, and every other control or line-separator character <c>\uXXXX</c>.
    /// </summary>
    internal static string Escape(string? value)
    {
        if (string.IsNullOrEmpty(value) || !value.Any(NeedsEscape))
        {
            return value ?? string.Empty;
        }

        var escaped = new System.Text.StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => escaped.Append(@"\\"),
                '\r' => escaped.Append(@"\r"),
                '\n' => escaped.Append(@"\n"),
                '\t' => escaped.Append(@"\t"),
                _ when NeedsEscape(c) => escaped.Append(System.Globalization.CultureInfo.InvariantCulture, $@"\u{(int)c:X4}"),
                _ => escaped.Append(c),
            };
        }

        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) => c == '\\' || char.IsControl(c) || c is '\u2028' or '\u2029';

    private void LogCounted(IReadOnlyList<AnonymousAuditSummary> summaries)
    {
        foreach (var summary in summaries)
        {
            LogAnonymousCounted(logger, summary.Count, summary.From, summary.To, summary.ByKind);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await commands.WhenOpen.WaitAsync(stoppingToken);
            while (await buffer.Reader.WaitToReadAsync(stoppingToken))
            {
                await ProduceNextAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: StopAsync drains what is left
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        LogCounted(anonymous.TakeSummaries(includeCurrent: true));
        if (!commands.IsOpen)
        {
            if (buffer.Reader.Count > 0)
            {
                LogUnsent();
            }

            return;
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(DrainTimeout);
        try
        {
            while (buffer.Reader.Count > 0)
            {
                await ProduceNextAsync(drain.Token);
            }

            for (var i = 0; i < MaxInFlight; i++)
            {
                await inFlight.WaitAsync(drain.Token); // every record handed to the producer is delivered (or failed)
            }
        }
        catch (OperationCanceledException)
        {
            LogUnsent();
        }
    }

    /// <summary>Takes a producer slot, then the next buffered record, and produces it: a record read is a record produced (one reader).</summary>
    private async Task ProduceNextAsync(CancellationToken cancellationToken)
    {
        await inFlight.WaitAsync(cancellationToken);
        if (buffer.Reader.TryRead(out var record))
        {
            Produce(record);
        }
        else
        {
            inFlight.Release();
        }
    }

    /// <summary>Stopping with records that did not reach the topic (still buffered, or not delivered yet): a warning, then each into the log.</summary>
    private void LogUnsent()
    {
        LogDrainIncomplete(logger, buffer.Reader.Count + undelivered.Count);
        while (buffer.Reader.TryRead(out var record))
        {
            LogFallback(record);
        }

        foreach (var record in undelivered.Values)
        {
            LogFallback(record); // may still reach the topic before the producer closes: then it is in both
        }
    }

    /// <summary>
    /// Encodes the record (the codec's fast path: the schema id is known after the first) and hands it to the producer; its
    /// delivery, or its failure, releases its slot. No task per record: the delivery thread only counts and releases.
    /// </summary>
    private void Produce(C.AuditRecord record)
    {
        try
        {
            var key = record.certificateId ?? record.poolId ?? record.clientId;
            var outgoing = new Outgoing(Topics.Audit.Name, Topics.Audit.KeyBytes(key), commands.Codec.Encode(Topics.Audit, record), []);
            undelivered[record.auditId] = record;
            commands.Produce(outgoing, error => Delivered(record, error?.Reason));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Delivered(record, e.Message);
        }
    }

    private void Delivered(C.AuditRecord record, string? error)
    {
        undelivered.TryRemove(record.auditId, out _);
        if (error is null)
        {
            Interlocked.Increment(ref produced);
        }
        else
        {
            Interlocked.Increment(ref failed);
            LogProduceFailed(logger, record.auditId, error);
            LogFallback(record);
        }

        inFlight.Release();
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Method} {Endpoint} -> {StatusCode} {Outcome} in {LatencyMs:0.0} ms; client {ClientId}, certificate {CertificateId}, pool {PoolId}, correlation {CorrelationId}, audit {AuditId}")]
    private static partial void LogCall(ILogger logger, string method, string endpoint, int statusCode, string outcome, double latencyMs, string clientId, string certificateId,
        string poolId, string? correlationId, string auditId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Count} unauthenticated failed calls from {From:O} to {To:O} are counted, not audited one by one (over Gcp:AnonymousAuditPerMinute): {ByKind}")]
    private static partial void LogAnonymousCounted(ILogger logger, long count, DateTimeOffset from, DateTimeOffset to, string byKind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit record {AuditId} is in the log but not on the audit topic: {Error}")]
    private static partial void LogProduceFailed(ILogger logger, string auditId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: {Count} audit records are in the log but not on the audit topic")]
    private static partial void LogDrainIncomplete(ILogger logger, int count);
}

public static class AuditHosting
{
    /// <summary>The audit writer; register after the command client so it stops (and drains) before the client closes.</summary>
    public static IServiceCollection AddGcpAudit(this IServiceCollection services)
    {
        services.AddSingleton<AuditWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        return services;
    }
}
