using System.Globalization;
using System.Reflection;
using System.Text;
using Confluent.Kafka;
using GcpStreams.Client;
using Parquet.Serialization;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops;

/// <summary>
/// <c>gcp-ops report-export</c> (<c>make report-export</c>): the BI daily marts of a period, read from the compacted
/// <c>GiftCertificates.DailyReport</c> (the latest record per day and channel), written as CSV or Parquet for data engineers:
/// <c>--part marts</c> (default) one row per day and channel, <c>currencies</c> one per day, channel and currency (the money figures
/// split per currency), <c>control</c> one per day and dead-letter source topic and reason, or alert kind (the invalid-event control).
/// </summary>
internal sealed class ReportExport(TopicReader reader, Codec codec, TextWriter output)
{
    public const string CsvFormat = "csv";
    public const string ParquetFormat = "parquet";

    /// <summary>The parts that can be exported.</summary>
    public static readonly IReadOnlyList<string> Parts = ["marts", "currencies", "control"];

    public int Run(DateOnly from, DateOnly to, string? channel, string format, string path, string part = "marts")
    {
        var rows = Rows(Latest(reader.Read(Topics.DailyReport.Name), codec), from, to, channel);
        var count = part switch
        {
            "currencies" => Write(CurrencyRows(rows), format, path),
            "control" => Write(ControlRows(rows), format, path),
            _ => Write(rows, format, path),
        };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"report-export: {count} {part} row(s) of {rows.Count} daily report(s) from {from:yyyy-MM-dd} to {to:yyyy-MM-dd}{(channel is null ? "" : " of " + channel)} -> {path} ({format})"));
        return 0;
    }

    /// <summary>The money figures of the marts, one row per day, channel and currency.</summary>
    public static List<DailyCurrencyRow> CurrencyRows(IEnumerable<DailyReportRow> marts) =>
        [.. marts.SelectMany(m => m.Split.Select(c => DailyCurrencyRow.From(m, c)))];

    /// <summary>The invalid-event control of the marts: per day, the dead letters by source topic and reason, then the alerts by kind (over every channel exported).</summary>
    public static List<DailyControlRow> ControlRows(IEnumerable<DailyReportRow> marts) =>
    [
        .. marts.GroupBy(m => m.Day, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).SelectMany(day =>
            day.SelectMany(m => m.Source.deadLetters).GroupBy(d => (d.sourceTopic, d.reason))
                .OrderBy(d => d.Key.sourceTopic, StringComparer.Ordinal).ThenBy(d => d.Key.reason, StringComparer.Ordinal)
                .Select(d => new DailyControlRow { Day = day.Key, Item = "deadLetter", SourceTopic = d.Key.sourceTopic, Reason = d.Key.reason, Count = d.Sum(x => x.count) })
                .Concat(day.SelectMany(m => m.Source.alerts).GroupBy(a => a.kind, StringComparer.Ordinal).OrderBy(a => a.Key, StringComparer.Ordinal)
                    .Select(a => new DailyControlRow { Day = day.Key, Item = "alert", Kind = a.Key, Count = a.Sum(x => x.count) }))),
    ];

    /// <summary>The latest report per key of the topic's records (a tombstone removes its key).</summary>
    public static Dictionary<string, C.DailyReport> Latest(IEnumerable<ConsumeResult<byte[]?, byte[]?>> records, Codec codec)
    {
        var latest = new Dictionary<string, C.DailyReport>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (record.Message.Key is not { } keyBytes)
            {
                continue;
            }

            var key = Encoding.UTF8.GetString(keyBytes);
            if (record.Message.Value is { Length: > 0 } value)
            {
                latest[key] = codec.Decode(Topics.DailyReport, value);
            }
            else
            {
                latest.Remove(key);
            }
        }

        return latest;
    }

    /// <summary>The rows of the period (inclusive), of one channel when given, by day then channel.</summary>
    public static List<DailyReportRow> Rows(IReadOnlyDictionary<string, C.DailyReport> latest, DateOnly from, DateOnly to, string? channel)
    {
        var first = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var last = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return [.. latest.Values
            .Where(r => string.CompareOrdinal(r.day, first) >= 0 && string.CompareOrdinal(r.day, last) <= 0 && (channel is null || r.channel.ToString() == channel))
            .OrderBy(r => r.day, StringComparer.Ordinal).ThenBy(r => r.channel.ToString(), StringComparer.Ordinal)
            .Select(DailyReportRow.From)];
    }

    /// <summary>Writes the rows (a header and one line each for CSV) and returns how many.</summary>
    public static int Write<T>(IReadOnlyList<T> rows, string format, string path)
        where T : new()
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        switch (format)
        {
            case CsvFormat:
                File.WriteAllText(path, ToCsv(rows), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                break;
            case ParquetFormat:
                ParquetSerializer.SerializeAsync(rows, path).GetAwaiter().GetResult();
                break;
            default:
                throw new ArgumentException($"--format is '{format}'; it must be {CsvFormat} or {ParquetFormat}.");
        }

        return rows.Count;
    }

    /// <summary>The columns of a row type: its public properties a Parquet file holds (not those marked to be ignored).</summary>
    private static PropertyInfo[] ColumnsOf<T>() => [.. typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetCustomAttribute<Parquet.Serialization.Attributes.ParquetIgnoreAttribute>() is null)];

    public static string ToCsv<T>(IEnumerable<T> rows)
    {
        var columns = ColumnsOf<T>();
        var csv = new StringBuilder().AppendJoin(',', columns.Select(c => char.ToLowerInvariant(c.Name[0]) + c.Name[1..])).Append("\r\n");
        foreach (var row in rows)
        {
            csv.AppendJoin(',', columns.Select(c => Field(c.GetValue(row)))).Append("\r\n");
        }

        return csv.ToString();
    }

    private static string Field(object? value)
    {
        var text = value switch
        {
            null => "",
            DateTime t => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
    }
}

/// <summary>
/// One daily mart as a flat row (CSV line, Parquet row): every figure of avro/DailyReport.avsc; the breakdowns as
/// <c>key=value</c> lists separated by <c>;</c> (pools: <c>pool=issued/issuedMinor/redeemed/redeemedMinor/blocked/expired</c>).
/// </summary>
public sealed class DailyReportRow
{
    public string Day { get; set; } = "";
    public string Channel { get; set; } = "";
    public string TimeZone { get; set; } = "";
    public DateTime FinalAt { get; set; }
    public long Revision { get; set; }
    public long IssuedCount { get; set; }
    public long IssuedMinor { get; set; }
    public long RedeemedCount { get; set; }
    public long RedeemedMinor { get; set; }
    public long RefundedCount { get; set; }
    public long RefundedMinor { get; set; }
    public long VoidedCount { get; set; }
    public long VoidedMinor { get; set; }
    public long CancelledCount { get; set; }
    public long CancelledMinor { get; set; }
    public long LockedCount { get; set; }
    public long UnlockedCount { get; set; }
    public long CvcDisclosuresCount { get; set; }
    public long NotificationsSentCount { get; set; }
    public long NotificationsFailedCount { get; set; }
    public long NotificationsOverdueCount { get; set; }
    public long IssueBlockedCount { get; set; }
    public long ReservationsExpiredCount { get; set; }
    public long BalanceChangeMinor { get; set; }
    public long LiabilityMinor { get; set; }
    public long OrdersCertificatesCount { get; set; }
    public long OrdersCertificatesMinor { get; set; }
    public long OrdersTendersCount { get; set; }
    public long OrdersTendersMinor { get; set; }
    public long OrdersReturnsCount { get; set; }
    public long OrdersReturnsMinor { get; set; }
    public long PaymentsCapturesCount { get; set; }
    public long PaymentsCapturesMinor { get; set; }
    public long DuplicateOrderRecordsCount { get; set; }
    public long DuplicatePaymentRecordsCount { get; set; }
    public string ReconciliationMismatches { get; set; } = "";
    public DateTime? MismatchDetectedAt { get; set; }
    public long MismatchAlertsCount { get; set; }
    public long CorrectionsCount { get; set; }
    public string Pools { get; set; } = "";
    public string Stores { get; set; } = "";
    public string DeadLetters { get; set; } = "";
    public string Alerts { get; set; } = "";
    public bool Final { get; set; }

    /// <summary>The currencies of the money figures (the amounts above add up theirs; <c>--part currencies</c> splits them).</summary>
    public string Currencies { get; set; } = "";

    /// <summary>The record the row was made from (for the other parts; not a column).</summary>
    [Parquet.Serialization.Attributes.ParquetIgnore]
    public C.DailyReport Source { get; set; } = new();

    /// <summary>The record's money figures per currency (not a column).</summary>
    [Parquet.Serialization.Attributes.ParquetIgnore]
    public IList<C.DailyCurrencyFigures> Split => Source.currencies ?? [];

    public static DailyReportRow From(C.DailyReport r) => new()
    {
        Source = r,
        Final = r.final,
        Currencies = string.Join(';', (r.currencies ?? []).Select(c => c.currency)),
        Day = r.day, Channel = r.channel.ToString(), TimeZone = r.timeZone, FinalAt = DateTime.SpecifyKind(r.finalAt, DateTimeKind.Utc), Revision = r.revision,
        IssuedCount = r.issuedCount, IssuedMinor = r.issuedMinor, RedeemedCount = r.redeemedCount, RedeemedMinor = r.redeemedMinor,
        RefundedCount = r.refundedCount, RefundedMinor = r.refundedMinor, VoidedCount = r.voidedCount, VoidedMinor = r.voidedMinor,
        CancelledCount = r.cancelledCount, CancelledMinor = r.cancelledMinor, LockedCount = r.lockedCount, UnlockedCount = r.unlockedCount,
        CvcDisclosuresCount = r.cvcDisclosuresCount, NotificationsSentCount = r.notificationsSentCount, NotificationsFailedCount = r.notificationsFailedCount,
        NotificationsOverdueCount = r.notificationsOverdueCount, IssueBlockedCount = r.issueBlockedCount, ReservationsExpiredCount = r.reservationsExpiredCount,
        BalanceChangeMinor = r.balanceChangeMinor, LiabilityMinor = r.liabilityMinor,
        OrdersCertificatesCount = r.ordersCertificatesCount, OrdersCertificatesMinor = r.ordersCertificatesMinor,
        OrdersTendersCount = r.ordersTendersCount, OrdersTendersMinor = r.ordersTendersMinor, OrdersReturnsCount = r.ordersReturnsCount,
        OrdersReturnsMinor = r.ordersReturnsMinor, PaymentsCapturesCount = r.paymentsCapturesCount, PaymentsCapturesMinor = r.paymentsCapturesMinor,
        DuplicateOrderRecordsCount = r.duplicateOrderRecordsCount, DuplicatePaymentRecordsCount = r.duplicatePaymentRecordsCount,
        ReconciliationMismatches = string.Join(';', r.reconciliationMismatches),
        MismatchDetectedAt = r.mismatchDetectedAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
        MismatchAlertsCount = r.mismatchAlertsCount, CorrectionsCount = r.correctionsCount,
        Pools = string.Join(';', r.pools.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.poolId}={p.issuedCount}/{p.issuedMinor}/{p.redeemedCount}/{p.redeemedMinor}/{p.issueBlockedCount}/{p.reservationsExpiredCount}"))),
        Stores = string.Join(';', r.stores.Select(s => string.Create(CultureInfo.InvariantCulture,
            $"{s.storeId}={s.redeemedCount}/{s.redeemedMinor}/{s.refundedCount}/{s.refundedMinor}/{s.voidedCount}/{s.voidedMinor}/{s.ordersCertificatesCount}/{s.ordersCertificatesMinor}"))),
        DeadLetters = string.Join(';', r.deadLetters.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.sourceTopic}|{d.reason}={d.count}"))),
        Alerts = string.Join(';', r.alerts.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.kind}={a.count}"))),
    };
}

/// <summary>The money figures of one currency of a daily mart as a flat row (<c>--part currencies</c>).</summary>
public sealed class DailyCurrencyRow
{
    public string Day { get; set; } = "";
    public string Channel { get; set; } = "";
    public string Currency { get; set; } = "";
    public bool Final { get; set; }
    public long IssuedCount { get; set; }
    public long IssuedMinor { get; set; }
    public long RedeemedCount { get; set; }
    public long RedeemedMinor { get; set; }
    public long RefundedCount { get; set; }
    public long RefundedMinor { get; set; }
    public long VoidedCount { get; set; }
    public long VoidedMinor { get; set; }
    public long CancelledCount { get; set; }
    public long CancelledMinor { get; set; }
    public long BalanceChangeMinor { get; set; }
    public long LiabilityMinor { get; set; }
    public long OrdersCertificatesCount { get; set; }
    public long OrdersCertificatesMinor { get; set; }
    public long OrdersTendersCount { get; set; }
    public long OrdersTendersMinor { get; set; }
    public long OrdersReturnsCount { get; set; }
    public long OrdersReturnsMinor { get; set; }
    public long PaymentsCapturesCount { get; set; }
    public long PaymentsCapturesMinor { get; set; }
    public string ReconciliationMismatches { get; set; } = "";

    public static DailyCurrencyRow From(DailyReportRow mart, C.DailyCurrencyFigures c) => new()
    {
        Day = mart.Day, Channel = mart.Channel, Currency = c.currency, Final = mart.Final,
        IssuedCount = c.issuedCount, IssuedMinor = c.issuedMinor, RedeemedCount = c.redeemedCount, RedeemedMinor = c.redeemedMinor,
        RefundedCount = c.refundedCount, RefundedMinor = c.refundedMinor, VoidedCount = c.voidedCount, VoidedMinor = c.voidedMinor,
        CancelledCount = c.cancelledCount, CancelledMinor = c.cancelledMinor, BalanceChangeMinor = c.balanceChangeMinor, LiabilityMinor = c.liabilityMinor,
        OrdersCertificatesCount = c.ordersCertificatesCount, OrdersCertificatesMinor = c.ordersCertificatesMinor,
        OrdersTendersCount = c.ordersTendersCount, OrdersTendersMinor = c.ordersTendersMinor, OrdersReturnsCount = c.ordersReturnsCount,
        OrdersReturnsMinor = c.ordersReturnsMinor, PaymentsCapturesCount = c.paymentsCapturesCount, PaymentsCapturesMinor = c.paymentsCapturesMinor,
        ReconciliationMismatches = string.Join(';', c.reconciliationMismatches ?? []),
    };
}

/// <summary>
/// One line of the invalid-event control (<c>--part control</c>): the dead letters of a day of one source topic and reason
/// (<see cref="Item"/> <c>deadLetter</c>), or its alerts of one kind (<c>alert</c>).
/// </summary>
public sealed class DailyControlRow
{
    public string Day { get; set; } = "";
    public string Item { get; set; } = "";
    public string? SourceTopic { get; set; }
    public string? Reason { get; set; }
    public string? Kind { get; set; }
    public long Count { get; set; }
}
