using System.Globalization;
using System.Text;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Reporting;
using GcpStreams.Api.Security;
using GcpStreams.Domain.Reporting;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// BI's daily reports (<c>GET /reports/daily</c>): the marts of <c>GiftCertificates.DailyReport</c> per business day and channel, as
/// JSON or CSV (<c>Accept: text/csv</c>), from this instance's copy of the topic; they require the <c>gc.report</c> scope.
/// </summary>
public static class ReportsApi
{
    /// <summary>The longest period one request may ask for, in days.</summary>
    public const int MaxDays = 366;

    public const string Csv = "text/csv";

    public static IEndpointRouteBuilder MapReportsApi(this IEndpointRouteBuilder endpoints)
    {
        var reports = endpoints.MapGroup("/reports").WithTags("Reports").RequireAuthorization(Policies.Report).Audited();
        reports.MapGet("/daily", GetDaily)
            .WithName(nameof(GetDaily))
            .WithSummary("The daily marts per business day and channel, from `from` to `to` (inclusive, yyyy-MM-dd), optionally of one channel.")
            .WithDescription("Business days are cut in the configured time zone (Gcp:ReportTimeZone, default Europe/Moscow) by each event's occurredAt. "
                + "A day is final once its end plus the grace period (Gcp:ReportGraceMinutes) has passed (final, finalAt); input that arrives later is "
                + "applied and counted in correctionsCount. Money figures are split per currency (currencies; the day's own amounts add every currency's). "
                + "Invalid-event control: control holds, per day, the dead letters by source topic and reason and the alerts by kind of every channel shown. "
                + "JSON by default; `Accept: text/csv` gives one line per day and channel (part=marts, the default), per day, channel and currency "
                + "(part=currencies), or per day and dead-letter source topic and reason or alert kind (part=control). "
                + $"400 invalid-parameter for a missing or malformed from/to, to before from, more than {MaxDays} days, an unknown channel or part; "
                + "503 while this instance has not yet read the report topic.")
            .Produces<DailyReportsResponse>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status200OK, contentType: Csv)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    /// <summary>The parts of a report CSV gives: the marts, their money per currency, the invalid-event control.</summary>
    public static readonly IReadOnlyList<string> Parts = ["marts", "currencies", "control"];

    public static IResult GetDaily(string? from, string? to, string? channel, string? part, DailyReportView view, TimeProvider? clock, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(context);
        if (Day(nameof(from), from, context) is not { } first)
        {
            return InvalidDay(nameof(from), from, context);
        }

        if (Day(nameof(to), to, context) is not { } last)
        {
            return InvalidDay(nameof(to), to, context);
        }

        if (last < first)
        {
            return ApiProblems.InvalidParameter("to", $"'to' ({to}) is before 'from' ({from}).", context);
        }

        if (last.DayNumber - first.DayNumber + 1 > MaxDays)
        {
            return ApiProblems.InvalidParameter("to", $"The period from {from} to {to} has {last.DayNumber - first.DayNumber + 1} days; at most {MaxDays} may be asked at once.", context);
        }

        C.Channel? only = null;
        if (!string.IsNullOrEmpty(channel))
        {
            if (!Enum.TryParse<C.Channel>(channel, ignoreCase: false, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(channel, out _))
            {
                return ApiProblems.InvalidParameter("channel", $"'{channel}' is not a channel; use one of {string.Join(", ", Enum.GetNames<C.Channel>())} (UNKNOWN holds dead letters and invalid-event alerts).", context);
            }

            only = parsed;
        }

        part = string.IsNullOrEmpty(part) ? Parts[0] : part;
        if (!Parts.Contains(part, StringComparer.Ordinal))
        {
            return ApiProblems.InvalidParameter("part", $"'{part}' is not a part of the report; use one of {string.Join(", ", Parts)}.", context);
        }

        if (!view.IsCaughtUp)
        {
            return ApiProblems.ReportsNotReady(context);
        }

        var access = CallerAccess.Of(context);
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        var read = view.Range(first, last, only);
        var finalByClock = read.Count(r => !r.Final && now >= r.FinalAt); // grows with the clock only: with the snapshot it fixes the body
        var csv = Accepts(context, Csv);
        var body = view.Body(new ResponseKey(first, last, only, part, csv, access, finalByClock), () =>
        {
            var days = new List<DailyReportResponse>();
            foreach (var r in read)
            {
                if (Enum.TryParse<C.Channel>(r.Channel, out var c) && access.Sees(c))
                {
                    days.Add(r.Final || now < r.FinalAt ? r : r with { Final = true });
                }
            }

            var control = DailyControlResponse.Of(days);
            return csv
                ? Encoding.UTF8.GetBytes(part switch
                {
                    "currencies" => CurrenciesCsv(days),
                    "control" => ControlCsv(control),
                    _ => ToCsv(days),
                })
                : JsonSerializer.SerializeToUtf8Bytes(new DailyReportsResponse(BusinessDay.Format(first), BusinessDay.Format(last), only?.ToString(), days, control),
                    context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions);
        });
        return TypedResults.Bytes(body, csv ? $"{Csv}; charset=utf-8" : "application/json; charset=utf-8");
    }

    private static DateOnly? Day(string parameter, string? text, HttpContext context) =>
        BusinessDay.TryParse(text, out var day) ? day : null;

    private static ProblemHttpResult InvalidDay(string parameter, string? text, HttpContext context) => ApiProblems.InvalidParameter(parameter,
        string.IsNullOrEmpty(text)
            ? $"'{parameter}' is required: a business day as yyyy-MM-dd, e.g. {parameter}=2026-11-27."
            : $"'{text}' is not a day as yyyy-MM-dd (e.g. 2026-11-27).", context);

    private static bool Accepts(HttpContext context, string mediaType) =>
        context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The CSV columns of <c>part=marts</c>, in order: the day, the channel, finality, then every figure; breakdowns as <c>key=value</c>
    /// lists; the amounts add up every currency's, the last column names the currencies (<c>part=currencies</c> splits them).
    /// </summary>
    public static readonly string[] CsvColumns =
    [
        "day", "channel", "final", "finalAt", "revision", "issuedCount", "issuedMinor", "redeemedCount", "redeemedMinor", "refundedCount", "refundedMinor",
        "voidedCount", "voidedMinor", "cancelledCount", "cancelledMinor", "lockedCount", "unlockedCount", "cvcDisclosuresCount", "notificationsSentCount",
        "notificationsFailedCount", "notificationsOverdueCount", "issueBlockedCount", "reservationsExpiredCount", "balanceChangeMinor", "liabilityMinor",
        "ordersCertificatesCount", "ordersCertificatesMinor", "ordersTendersCount", "ordersTendersMinor", "ordersReturnsCount", "ordersReturnsMinor",
        "paymentsCapturesCount", "paymentsCapturesMinor", "duplicateOrderRecordsCount", "duplicatePaymentRecordsCount", "reconciliationMismatches",
        "mismatchDetectedAt", "mismatchAlertsCount", "correctionsCount", "issueBlockedByPool", "deadLetters", "alerts", "currencies",
    ];

    public static string ToCsv(IEnumerable<DailyReportResponse> days) => Lines(CsvColumns, days.Select(d => new object?[]
    {
        d.Day, d.Channel, d.Final, d.FinalAt, d.Revision, d.IssuedCount, d.IssuedMinor, d.RedeemedCount, d.RedeemedMinor, d.RefundedCount, d.RefundedMinor,
        d.VoidedCount, d.VoidedMinor, d.CancelledCount, d.CancelledMinor, d.LockedCount, d.UnlockedCount, d.CvcDisclosuresCount, d.NotificationsSentCount,
        d.NotificationsFailedCount, d.NotificationsOverdueCount, d.IssueBlockedCount, d.ReservationsExpiredCount, d.BalanceChangeMinor, d.LiabilityMinor,
        d.OrdersCertificatesCount, d.OrdersCertificatesMinor, d.OrdersTendersCount, d.OrdersTendersMinor, d.OrdersReturnsCount, d.OrdersReturnsMinor,
        d.PaymentsCapturesCount, d.PaymentsCapturesMinor, d.DuplicateOrderRecordsCount, d.DuplicatePaymentRecordsCount, string.Join(';', d.ReconciliationMismatches),
        d.MismatchDetectedAt, d.MismatchAlertsCount, d.CorrectionsCount,
        string.Join(';', d.Pools.Where(p => p.IssueBlockedCount > 0).Select(p => $"{p.PoolId}={p.IssueBlockedCount}")),
        string.Join(';', d.DeadLetters.Select(l => $"{l.SourceTopic}|{l.Reason}={l.Count}")),
        string.Join(';', d.Alerts.Select(a => $"{a.Kind}={a.Count}")),
        string.Join(';', d.Currencies.Select(c => c.Currency)),
    }));

    /// <summary>The columns of <c>part=currencies</c>: one line per day, channel and currency, every money figure of that currency.</summary>
    public static readonly string[] CurrencyCsvColumns =
    [
        "day", "channel", "currency", "final", "issuedCount", "issuedMinor", "redeemedCount", "redeemedMinor", "refundedCount", "refundedMinor",
        "voidedCount", "voidedMinor", "cancelledCount", "cancelledMinor", "balanceChangeMinor", "liabilityMinor", "ordersCertificatesCount",
        "ordersCertificatesMinor", "ordersTendersCount", "ordersTendersMinor", "ordersReturnsCount", "ordersReturnsMinor", "paymentsCapturesCount",
        "paymentsCapturesMinor", "reconciliationMismatches",
    ];

    public static string CurrenciesCsv(IEnumerable<DailyReportResponse> days) => Lines(CurrencyCsvColumns, days.SelectMany(d => d.Currencies.Select(c => new object?[]
    {
        d.Day, d.Channel, c.Currency, d.Final, c.IssuedCount, c.IssuedMinor, c.RedeemedCount, c.RedeemedMinor, c.RefundedCount, c.RefundedMinor,
        c.VoidedCount, c.VoidedMinor, c.CancelledCount, c.CancelledMinor, c.BalanceChangeMinor, c.LiabilityMinor, c.OrdersCertificatesCount,
        c.OrdersCertificatesMinor, c.OrdersTendersCount, c.OrdersTendersMinor, c.OrdersReturnsCount, c.OrdersReturnsMinor, c.PaymentsCapturesCount,
        c.PaymentsCapturesMinor, string.Join(';', c.ReconciliationMismatches),
    })));

    /// <summary>The columns of <c>part=control</c>: one line per day and dead-letter source topic and reason (kind empty), or alert kind.</summary>
    public static readonly string[] ControlCsvColumns = ["day", "item", "sourceTopic", "reason", "kind", "count"];

    public static string ControlCsv(IEnumerable<DailyControlResponse> control) => Lines(ControlCsvColumns, control.SelectMany(c =>
        c.DeadLetters.Select(l => new object?[] { c.Day, "deadLetter", l.SourceTopic, l.Reason, null, l.Count })
            .Concat(c.Alerts.Select(a => new object?[] { c.Day, "alert", null, null, a.Kind, a.Count }))));

    private static string Lines(string[] columns, IEnumerable<object?[]> rows)
    {
        var csv = new StringBuilder().AppendJoin(',', columns).Append("\r\n");
        foreach (var values in rows)
        {
            csv.AppendJoin(',', values.Select(Field)).Append("\r\n");
        }

        return csv.ToString();
    }

    /// <summary>One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.</summary>
    private static string Field(object? value)
    {
        var text = value switch
        {
            null => "",
            bool b => b ? "true" : "false",
            DateTimeOffset t => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
    }
}

/// <summary>The daily reports of a period, and the invalid-event control of its days.</summary>
public sealed record DailyReportsResponse(string From, string To, string? Channel, IReadOnlyList<DailyReportResponse> Days, IReadOnlyList<DailyControlResponse> Control);

/// <summary>
/// The invalid-event control of one day: the dead letters by source topic and reason (a dead letter names no channel: they come from
/// the day's record of channel UNKNOWN), their total, and the alerts by kind added up over the channels shown.
/// </summary>
public sealed record DailyControlResponse(string Day, long DeadLettersCount, IReadOnlyList<DailyDeadLetterResponse> DeadLetters, IReadOnlyList<DailyAlertResponse> Alerts)
{
    /// <summary>The control of each day of <paramref name="days"/> that has a dead letter or an alert, by day.</summary>
    public static IReadOnlyList<DailyControlResponse> Of(IEnumerable<DailyReportResponse> days) =>
    [
        .. days.GroupBy(d => d.Day, StringComparer.Ordinal).Select(g =>
        {
            DailyDeadLetterResponse[] letters = [.. g.SelectMany(d => d.DeadLetters).GroupBy(l => (l.SourceTopic, l.Reason))
                .Select(l => new DailyDeadLetterResponse(l.Key.SourceTopic, l.Key.Reason, l.Sum(x => x.Count)))
                .OrderBy(l => l.SourceTopic, StringComparer.Ordinal).ThenBy(l => l.Reason, StringComparer.Ordinal)];
            DailyAlertResponse[] alerts = [.. g.SelectMany(d => d.Alerts).GroupBy(a => a.Kind, StringComparer.Ordinal)
                .Select(a => new DailyAlertResponse(a.Key, a.Sum(x => x.Count))).OrderBy(a => a.Kind, StringComparer.Ordinal)];
            return new DailyControlResponse(g.Key, letters.Sum(l => l.Count), letters, alerts);
        }).Where(c => c.DeadLetters.Count > 0 || c.Alerts.Count > 0),
    ];
}

/// <summary>
/// One daily mart (see avro/DailyReport.avsc for every figure): amounts in minor units, the day's own adding up every currency's,
/// <see cref="Currencies"/> splitting them; <see cref="Final"/> once <see cref="FinalAt"/> has passed (in the marts' stream time, or by
/// this instance's clock for a channel whose stream time has not moved since).
/// </summary>
public sealed record DailyReportResponse(
    string Day, string Channel, string TimeZone, bool Final, DateTimeOffset FinalAt, long Revision,
    long IssuedCount, long IssuedMinor, long RedeemedCount, long RedeemedMinor, long RefundedCount, long RefundedMinor, long VoidedCount, long VoidedMinor,
    long CancelledCount, long CancelledMinor, long LockedCount, long UnlockedCount, long CvcDisclosuresCount, long NotificationsSentCount,
    long NotificationsFailedCount, long NotificationsOverdueCount, long IssueBlockedCount, long ReservationsExpiredCount, long BalanceChangeMinor,
    long LiabilityMinor, long OrdersCertificatesCount, long OrdersCertificatesMinor, long OrdersTendersCount, long OrdersTendersMinor,
    long OrdersReturnsCount, long OrdersReturnsMinor, long PaymentsCapturesCount, long PaymentsCapturesMinor, long DuplicateOrderRecordsCount,
    long DuplicatePaymentRecordsCount, IReadOnlyList<string> ReconciliationMismatches, DateTimeOffset? MismatchDetectedAt, long MismatchAlertsCount,
    long CorrectionsCount, IReadOnlyList<DailyPoolResponse> Pools, IReadOnlyList<DailyStoreResponse> Stores, IReadOnlyList<DailyDeadLetterResponse> DeadLetters,
    IReadOnlyList<DailyAlertResponse> Alerts, IReadOnlyList<DailyCurrencyResponse> Currencies)
{
    /// <summary>The response of a record as read (<see cref="Final"/>: the record's flag).</summary>
    public static DailyReportResponse From(C.DailyReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var finalAt = new DateTimeOffset(DateTime.SpecifyKind(r.finalAt, DateTimeKind.Utc));
        return new(r.day, r.channel.ToString(), r.timeZone, r.final, finalAt, r.revision,
            r.issuedCount, r.issuedMinor, r.redeemedCount, r.redeemedMinor, r.refundedCount, r.refundedMinor, r.voidedCount, r.voidedMinor,
            r.cancelledCount, r.cancelledMinor, r.lockedCount, r.unlockedCount, r.cvcDisclosuresCount, r.notificationsSentCount,
            r.notificationsFailedCount, r.notificationsOverdueCount, r.issueBlockedCount, r.reservationsExpiredCount, r.balanceChangeMinor,
            r.liabilityMinor, r.ordersCertificatesCount, r.ordersCertificatesMinor, r.ordersTendersCount, r.ordersTendersMinor,
            r.ordersReturnsCount, r.ordersReturnsMinor, r.paymentsCapturesCount, r.paymentsCapturesMinor, r.duplicateOrderRecordsCount,
            r.duplicatePaymentRecordsCount, [.. r.reconciliationMismatches],
            r.mismatchDetectedAt is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null, r.mismatchAlertsCount, r.correctionsCount,
            [.. r.pools.Select(p => new DailyPoolResponse(p.poolId, p.issuedCount, p.issuedMinor, p.redeemedCount, p.redeemedMinor, p.issueBlockedCount, p.reservationsExpiredCount))],
            [.. r.stores.Select(s => new DailyStoreResponse(s.storeId, s.redeemedCount, s.redeemedMinor, s.refundedCount, s.refundedMinor, s.voidedCount, s.voidedMinor,
                s.ordersCertificatesCount, s.ordersCertificatesMinor))],
            [.. r.deadLetters.Select(d => new DailyDeadLetterResponse(d.sourceTopic, d.reason, d.count))],
            [.. r.alerts.Select(a => new DailyAlertResponse(a.kind, a.count))],
            [.. r.currencies.Select(c => new DailyCurrencyResponse(c.currency, c.issuedCount, c.issuedMinor, c.redeemedCount, c.redeemedMinor, c.refundedCount,
                c.refundedMinor, c.voidedCount, c.voidedMinor, c.cancelledCount, c.cancelledMinor, c.balanceChangeMinor, c.liabilityMinor,
                c.ordersCertificatesCount, c.ordersCertificatesMinor, c.ordersTendersCount, c.ordersTendersMinor, c.ordersReturnsCount, c.ordersReturnsMinor,
                c.paymentsCapturesCount, c.paymentsCapturesMinor, [.. c.reconciliationMismatches]))]);
    }
}

/// <summary>The money figures of one currency within a daily mart (amounts in minor units of <see cref="Currency"/>).</summary>
public sealed record DailyCurrencyResponse(
    string Currency, long IssuedCount, long IssuedMinor, long RedeemedCount, long RedeemedMinor, long RefundedCount, long RefundedMinor, long VoidedCount,
    long VoidedMinor, long CancelledCount, long CancelledMinor, long BalanceChangeMinor, long LiabilityMinor, long OrdersCertificatesCount,
    long OrdersCertificatesMinor, long OrdersTendersCount, long OrdersTendersMinor, long OrdersReturnsCount, long OrdersReturnsMinor,
    long PaymentsCapturesCount, long PaymentsCapturesMinor, IReadOnlyList<string> ReconciliationMismatches);

public sealed record DailyPoolResponse(string PoolId, long IssuedCount, long IssuedMinor, long RedeemedCount, long RedeemedMinor, long IssueBlockedCount, long ReservationsExpiredCount);

public sealed record DailyStoreResponse(string StoreId, long RedeemedCount, long RedeemedMinor, long RefundedCount, long RefundedMinor, long VoidedCount, long VoidedMinor,
    long OrdersCertificatesCount, long OrdersCertificatesMinor);

public sealed record DailyDeadLetterResponse(string SourceTopic, string Reason, long Count);

public sealed record DailyAlertResponse(string Kind, long Count);
