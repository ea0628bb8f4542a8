using System.Threading.Channels;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Auditing;

/// <summary>
/// Writes audit records: each one to the log at once (category <c>GcpStreams.Audit</c>, one line whatever the values hold:
/// control characters are escaped), and to <c>GiftCertificates.Audit</c> (key: the certificate id, else the pool id, else
/// the client id) through the command channel's idempotent producer, off the request path. Records wait in a bounded buffer
/// until the channel is open; at stop the buffer is drained (bounded). Unauthenticated failures beyond
/// <c>Gcp:AnonymousAuditPerMinute</c> are counted instead (<see cref="AnonymousAuditBudget"/>), and the counts logged.
/// </summary>
public sealed partial class AuditWriter : BackgroundService
{
    /// <summary>Records buffered for the topic at most; beyond that they are only in the log (and counted as dropped).</summary>
    public const int Capacity = 100_000;

    private const int MaxInFlight = 1_000;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<C.AuditRecord> buffer;
    private readonly CommandClient commands;
    private readonly ILogger logger;
    private readonly SemaphoreSlim inFlight = new(MaxInFlight, MaxInFlight);
    private readonly AnonymousAuditBudget anonymous;
    private long produced;
    private long dropped;
    private long failed;

    public AuditWriter(CommandClient commands, ILoggerFactory loggers, IOptions<GcpOptions> gcp)
    {
        this.commands = commands;
        anonymous = new AnonymousAuditBudget(gcp.Value.AnonymousAuditPerMinute, TimeProvider.System);
        logger = loggers.CreateLogger("GcpStreams.Audit");
        buffer = Channel.CreateBounded<C.AuditRecord>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref dropped));
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
    /// Logs the record now and queues it for the topic; an unauthenticated failure beyond the minute's budget is only
    /// counted. Logs first the counts of a minute that is over.
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

        LogCall(logger, Escape(record.method), Escape(record.endpoint), record.statusCode, record.outcome, record.latencyMs, Escape(record.clientId),
            Escape(record.certificateId ?? "-"), Escape(record.poolId ?? "-"), Escape(record.correlationId), record.auditId);
        buffer.Writer.TryWrite(record);
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
            await foreach (var record in buffer.Reader.ReadAllAsync(stoppingToken))
            {
                await inFlight.WaitAsync(stoppingToken);
                _ = ProduceAsync(record);
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
            return;
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(DrainTimeout);
        try
        {
            while (buffer.Reader.TryRead(out var record))
            {
                await inFlight.WaitAsync(drain.Token);
                _ = ProduceAsync(record);
            }

            for (var i = 0; i < MaxInFlight; i++)
            {
                await inFlight.WaitAsync(drain.Token); // every produce in flight has finished
            }
        }
        catch (OperationCanceledException)
        {
            LogDrainIncomplete(logger, buffer.Reader.Count);
        }
    }

    private async Task ProduceAsync(C.AuditRecord record)
    {
        try
        {
            await commands.ProduceAsync(Topics.Audit, record.certificateId ?? record.poolId ?? record.clientId, record, CancellationToken.None);
            Interlocked.Increment(ref produced);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Increment(ref failed);
            LogProduceFailed(logger, record.auditId, e.Message);
        }
        finally
        {
            inFlight.Release();
        }
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
