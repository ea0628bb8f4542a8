namespace GcpStreams.Domain.Reporting;

/// <summary>What a fact adds to a daily mart.</summary>
public enum Measure
{
    /// <summary>certificate.issued: count, nominal; the balance rises by it.</summary>
    Issued,

    /// <summary>certificate.redeemed (a capture): count, amount; the balance falls by it.</summary>
    Redeemed,

    /// <summary>certificate.refunded: count, amount; the balance rises by it.</summary>
    Refunded,

    /// <summary>certificate.hold_released by a VOID payment: count, amount released.</summary>
    Voided,

    /// <summary>certificate.cancelled (a returned purchase): count, amount; the balance falls by it.</summary>
    Cancelled,

    Locked,
    Unlocked,
    CvcDisclosed,
    NotificationSent,
    NotificationFailed,
    NotificationOverdue,

    /// <summary>issue.blocked: counted per pool.</summary>
    IssueBlocked,

    ReservationExpired,

    /// <summary>An alert on the stream: counted per kind (<see cref="Delta.Detail"/>).</summary>
    Alert,

    /// <summary>A dead letter: counted per source topic and reason (<see cref="Delta.Detail"/> <c>{topic}|{reason}</c>).</summary>
    DeadLetter,

    /// <summary>Orders' side: certificate lines of a PAID order (count, nominals).</summary>
    OrderCertificates,

    /// <summary>Orders' side: certificate tenders of a PAID order (count, amounts).</summary>
    OrderTenders,

    /// <summary>Orders' side: returned certificate lines of a RETURNED order (count, nominals).</summary>
    OrderReturns,

    /// <summary>Payments' side: a SUCCEEDED GIFT_CERTIFICATE CAPTURE on All_Payments (count, amount).</summary>
    PaymentCaptures,
}

/// <summary>One figure a fact adds: a count and an amount (minor units), with a detail for the measures counted per kind.</summary>
public sealed record Delta(Measure Measure, long Count, long AmountMinor = 0, string? Detail = null);

/// <summary>
/// One input's contribution to the daily mart of (<see cref="Channel"/>, business day of <see cref="OccurredAt"/>): what it adds
/// (<see cref="Deltas"/>), the pool and store it names, and when its source record was written (<see cref="RecordedAt"/>, the
/// Kafka timestamp: what lateness is measured by). A fact with a <see cref="DedupKey"/> counts once: a second fact with the same
/// key is a duplicate (counted under <see cref="DuplicateOf"/>, its deltas ignored).
/// </summary>
public sealed record ReportFact
{
    /// <summary>The channel (Avro symbol: POS, INTERNET_STORE, ...; UNKNOWN for what has none, e.g. dead letters).</summary>
    public required string Channel { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    public required DateTimeOffset RecordedAt { get; init; }

    public required IReadOnlyList<Delta> Deltas { get; init; }

    /// <summary>The currency of the amounts (ISO 4217), null when the input names none.</summary>
    public string? Currency { get; init; }

    public string? PoolId { get; init; }

    public string? StoreId { get; init; }

    /// <summary>The identity of the source record when sources may repeat it (orders: transaction and status; payments: payment id).</summary>
    public string? DedupKey { get; init; }

    /// <summary>What a repeated <see cref="DedupKey"/> is counted as: <see cref="DuplicateSource.Orders"/> or <see cref="DuplicateSource.Payments"/>.</summary>
    public DuplicateSource DuplicateOf { get; init; }
}

/// <summary>Which source a duplicate record came from.</summary>
public enum DuplicateSource
{
    None,
    Orders,
    Payments,
}
