namespace GcpStreams.Domain.Reporting;

/// <summary>A count and an amount in minor units.</summary>
public sealed record Figure(long Count = 0, long AmountMinor = 0)
{
    public static readonly Figure Zero = new();

    public Figure Add(long count, long amountMinor) => new(Count + count, AmountMinor + amountMinor);
}

/// <summary>The figures of one pool within a daily mart.</summary>
public sealed record PoolFigures
{
    public Figure Issued { get; init; } = Figure.Zero;
    public Figure Redeemed { get; init; } = Figure.Zero;
    public long IssueBlocked { get; init; }
    public long ReservationsExpired { get; init; }
}

/// <summary>The figures of one store (POS location) within a daily mart.</summary>
public sealed record StoreFigures
{
    public Figure Redeemed { get; init; } = Figure.Zero;
    public Figure Refunded { get; init; } = Figure.Zero;
    public Figure Voided { get; init; } = Figure.Zero;
    public Figure OrderCertificates { get; init; } = Figure.Zero;
}

/// <summary>
/// The daily mart of one (business day, channel): what the certificate events, Orders and Payments say happened that day, the
/// outstanding liability at its end, the reconciliation of Orders with the certificate events, dead letters and alerts. Immutable:
/// <see cref="DailyMarts.Apply"/> returns a new one. Pure data, no clock.
/// </summary>
public sealed record DailyMart
{
    public required DateOnly Day { get; init; }
    public required string Channel { get; init; }

    /// <summary>When the day becomes final: its end in the business zone plus the grace period.</summary>
    public required DateTimeOffset FinalAt { get; init; }

    /// <summary>How many facts (and reconciliation alerts) made this version: 1, 2, 3...</summary>
    public long Revision { get; init; }

    public Figure Issued { get; init; } = Figure.Zero;
    public Figure Redeemed { get; init; } = Figure.Zero;
    public Figure Refunded { get; init; } = Figure.Zero;
    public Figure Voided { get; init; } = Figure.Zero;
    public Figure Cancelled { get; init; } = Figure.Zero;
    public long Locked { get; init; }
    public long Unlocked { get; init; }
    public long CvcDisclosures { get; init; }
    public long NotificationsSent { get; init; }
    public long NotificationsFailed { get; init; }
    public long NotificationsOverdue { get; init; }
    public long IssueBlocked { get; init; }
    public long ReservationsExpired { get; init; }

    /// <summary>Net change of the balances of the channel's certificates this day: issued + refunded - redeemed - cancelled.</summary>
    public long BalanceChangeMinor { get; init; }

    /// <summary>Outstanding liability at the end of the day: the channel's balance changes of every day up to this one.</summary>
    public long LiabilityMinor { get; init; }

    public Figure OrderCertificates { get; init; } = Figure.Zero;
    public Figure OrderTenders { get; init; } = Figure.Zero;
    public Figure OrderReturns { get; init; } = Figure.Zero;
    public Figure PaymentCaptures { get; init; } = Figure.Zero;
    public long DuplicateOrderRecords { get; init; }
    public long DuplicatePaymentRecords { get; init; }

    /// <summary>The reconciliation checks that disagree now (<see cref="Reconciliation.Checks"/>), empty when all agree.</summary>
    public IReadOnlyList<string> Mismatches { get; init; } = [];

    /// <summary>The record time of the fact that made the checks disagree, null while they agree.</summary>
    public DateTimeOffset? MismatchSince { get; init; }

    /// <summary>The figures of the last mismatch an alert was raised for (one alert per disagreeing state).</summary>
    public string? AlertedMismatch { get; init; }

    public long MismatchAlerts { get; init; }

    /// <summary>Facts whose source record was written after <see cref="FinalAt"/>: applied, and counted here as corrections.</summary>
    public long Corrections { get; init; }

    public IReadOnlyDictionary<string, PoolFigures> Pools { get; init; } = Empty<PoolFigures>();
    public IReadOnlyDictionary<string, StoreFigures> Stores { get; init; } = Empty<StoreFigures>();

    /// <summary>Dead letters by <c>{sourceTopic}|{reason}</c>.</summary>
    public IReadOnlyDictionary<string, long> DeadLetters { get; init; } = Empty<long>();

    /// <summary>Alerts on the stream by kind.</summary>
    public IReadOnlyDictionary<string, long> Alerts { get; init; } = Empty<long>();

    private static SortedDictionary<string, T> Empty<T>() => new(StringComparer.Ordinal);
}

/// <summary>A reconciliation check: an Orders (or Payments) figure against the certificate events' figure.</summary>
public sealed record ReconciliationCheck(string Name, Figure Orders, Figure Certificates)
{
    public bool Agrees => Orders == Certificates;
}

/// <summary>The reconciliation of Orders with the certificate events of one daily mart.</summary>
public static class Reconciliation
{
    public const string Issue = "issue";
    public const string Capture = "capture";
    public const string Return = "return";

    /// <summary>The three checks: lines bought vs issued, tenders vs captures on All_Payments, returned lines vs cancelled.</summary>
    public static IReadOnlyList<ReconciliationCheck> Checks(DailyMart m) =>
    [
        new(Issue, m.OrderCertificates, m.Issued),
        new(Capture, m.OrderTenders, m.PaymentCaptures),
        new(Return, m.OrderReturns, m.Cancelled),
    ];

    /// <summary>A text naming every check with both sides' figures (what one alert is raised for).</summary>
    public static string Fingerprint(DailyMart m) => string.Join(';', Checks(m).Select(c =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Name}:{c.Orders.Count}/{c.Orders.AmountMinor}={c.Certificates.Count}/{c.Certificates.AmountMinor}")));
}

/// <summary>A reconciliation alert decided for a daily mart: at when, and the checks that disagree with both sides' figures.</summary>
public sealed record ReconciliationAlert(DateOnly Day, string Channel, DateTimeOffset At, DateTimeOffset MismatchSince, IReadOnlyList<ReconciliationCheck> Disagreeing, string Fingerprint);

/// <summary>The pure arithmetic of the daily marts.</summary>
public static class DailyMarts
{
    /// <summary>A new, empty mart of (<paramref name="day"/>, <paramref name="channel"/>).</summary>
    public static DailyMart Empty(DateOnly day, string channel, ReportSettings settings) => new()
    {
        Day = day,
        Channel = channel,
        FinalAt = BusinessDay.End(day, settings.Zone) + settings.Grace,
    };

    /// <summary>The business day a fact belongs to.</summary>
    public static DateOnly DayOf(ReportFact fact, ReportSettings settings) => BusinessDay.Of(fact.OccurredAt, settings.Zone);

    /// <summary>
    /// The mart after <paramref name="fact"/>: its deltas added (or, for a <paramref name="duplicate"/>, only the duplicate counted),
    /// a correction counted when the fact's record was written after the day became final, the reconciliation re-checked.
    /// The liability is not touched here (it spans days: <see cref="Chain"/>).
    /// </summary>
    public static DailyMart Apply(DailyMart? before, ReportFact fact, bool duplicate, ReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(fact);
        ArgumentNullException.ThrowIfNull(settings);
        var m = before ?? Empty(DayOf(fact, settings), fact.Channel, settings);
        m = m with { Revision = m.Revision + 1, Corrections = m.Corrections + (fact.RecordedAt > m.FinalAt ? 1 : 0) };
        if (duplicate)
        {
            m = fact.DuplicateOf == DuplicateSource.Payments
                ? m with { DuplicatePaymentRecords = m.DuplicatePaymentRecords + 1 }
                : m with { DuplicateOrderRecords = m.DuplicateOrderRecords + 1 };
        }
        else
        {
            foreach (var delta in fact.Deltas)
            {
                m = Add(m, delta, fact.PoolId, fact.StoreId);
            }
        }

        return Recheck(m, fact.RecordedAt);
    }

    private static DailyMart Add(DailyMart m, Delta d, string? pool, string? store)
    {
        var (n, a) = (d.Count, d.AmountMinor);
        return d.Measure switch
        {
            Measure.Issued => Pool(m with { Issued = m.Issued.Add(n, a), BalanceChangeMinor = m.BalanceChangeMinor + a }, pool, p => p with { Issued = p.Issued.Add(n, a) }),
            Measure.Redeemed => Store(Pool(m with { Redeemed = m.Redeemed.Add(n, a), BalanceChangeMinor = m.BalanceChangeMinor - a }, pool, p => p with { Redeemed = p.Redeemed.Add(n, a) }),
                store, s => s with { Redeemed = s.Redeemed.Add(n, a) }),
            Measure.Refunded => Store(m with { Refunded = m.Refunded.Add(n, a), BalanceChangeMinor = m.BalanceChangeMinor + a }, store, s => s with { Refunded = s.Refunded.Add(n, a) }),
            Measure.Voided => Store(m with { Voided = m.Voided.Add(n, a) }, store, s => s with { Voided = s.Voided.Add(n, a) }),
            Measure.Cancelled => m with { Cancelled = m.Cancelled.Add(n, a), BalanceChangeMinor = m.BalanceChangeMinor - a },
            Measure.Locked => m with { Locked = m.Locked + n },
            Measure.Unlocked => m with { Unlocked = m.Unlocked + n },
            Measure.CvcDisclosed => m with { CvcDisclosures = m.CvcDisclosures + n },
            Measure.NotificationSent => m with { NotificationsSent = m.NotificationsSent + n },
            Measure.NotificationFailed => m with { NotificationsFailed = m.NotificationsFailed + n },
            Measure.NotificationOverdue => m with { NotificationsOverdue = m.NotificationsOverdue + n },
            Measure.IssueBlocked => Pool(m with { IssueBlocked = m.IssueBlocked + n }, pool, p => p with { IssueBlocked = p.IssueBlocked + n }),
            Measure.ReservationExpired => Pool(m with { ReservationsExpired = m.ReservationsExpired + n }, pool, p => p with { ReservationsExpired = p.ReservationsExpired + n }),
            Measure.Alert => m with { Alerts = Increment(m.Alerts, d.Detail ?? "UNKNOWN", n) },
            Measure.DeadLetter => m with { DeadLetters = Increment(m.DeadLetters, d.Detail ?? "UNKNOWN|UNKNOWN", n) },
            Measure.OrderCertificates => Store(m with { OrderCertificates = m.OrderCertificates.Add(n, a) }, store, s => s with { OrderCertificates = s.OrderCertificates.Add(n, a) }),
            Measure.OrderTenders => m with { OrderTenders = m.OrderTenders.Add(n, a) },
            Measure.OrderReturns => m with { OrderReturns = m.OrderReturns.Add(n, a) },
            Measure.PaymentCaptures => m with { PaymentCaptures = m.PaymentCaptures.Add(n, a) },
            _ => m,
        };
    }

    /// <summary>Re-checks the reconciliation: a new disagreement starts at <paramref name="at"/>; agreement clears it.</summary>
    private static DailyMart Recheck(DailyMart m, DateTimeOffset at)
    {
        string[] disagreeing = [.. Reconciliation.Checks(m).Where(c => !c.Agrees).Select(c => c.Name)];
        return disagreeing.Length == 0
            ? m with { Mismatches = [], MismatchSince = null }
            : m with { Mismatches = disagreeing, MismatchSince = m.MismatchSince ?? at };
    }

    /// <summary>When the mart's disagreement (if any) is due for an alert: its start plus the tolerance window.</summary>
    public static DateTimeOffset? AlertDueAt(DailyMart m, ReportSettings settings) => m.MismatchSince + settings.Tolerance;

    /// <summary>
    /// The reconciliation alert the mart needs at stream time <paramref name="streamTime"/>: when its checks have disagreed for
    /// the tolerance window and no alert was raised yet for these very figures; null otherwise. The alert's time is the due time
    /// (start of the disagreement plus the window), not the stream time, so it does not depend on when the check ran.
    /// </summary>
    public static ReconciliationAlert? DueAlert(DailyMart m, DateTimeOffset streamTime, ReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.MismatchSince is not { } since || streamTime < since + settings.Tolerance)
        {
            return null;
        }

        var fingerprint = Reconciliation.Fingerprint(m);
        return fingerprint == m.AlertedMismatch
            ? null
            : new ReconciliationAlert(m.Day, m.Channel, since + settings.Tolerance, since, [.. Reconciliation.Checks(m).Where(c => !c.Agrees)], fingerprint);
    }

    /// <summary>The mart after its alert was raised.</summary>
    /// <summary>The alert kind a reconciliation alert is counted under (the AlertKind symbol).</summary>
    public const string ReconciliationAlertKind = "RECONCILIATION_MISMATCH";

    /// <summary>The mart after its alert was raised: counted as raised and among its alerts by kind (the mart does not read the stream back).</summary>
    public static DailyMart Alerted(DailyMart m, ReconciliationAlert alert) => m with
    {
        AlertedMismatch = alert.Fingerprint,
        MismatchAlerts = m.MismatchAlerts + 1,
        Alerts = Increment(m.Alerts, ReconciliationAlertKind, 1),
        Revision = m.Revision + 1,
    };

    /// <summary>
    /// The liability chain of one channel: each day's liability is the previous day's plus the day's balance change, starting
    /// from <paramref name="before"/> (the liability at the end of the day before the first one). Returns the marts whose
    /// liability changed, in day order.
    /// </summary>
    public static IReadOnlyList<DailyMart> Chain(long before, IEnumerable<DailyMart> daysInOrder)
    {
        ArgumentNullException.ThrowIfNull(daysInOrder);
        var changed = new List<DailyMart>();
        var liability = before;
        foreach (var m in daysInOrder)
        {
            liability += m.BalanceChangeMinor;
            if (m.LiabilityMinor != liability)
            {
                changed.Add(m with { LiabilityMinor = liability });
            }
        }

        return changed;
    }

    private static DailyMart Pool(DailyMart m, string? pool, Func<PoolFigures, PoolFigures> change) =>
        string.IsNullOrEmpty(pool) ? m : m with { Pools = Update(m.Pools, pool, change) };

    private static DailyMart Store(DailyMart m, string? store, Func<StoreFigures, StoreFigures> change) =>
        string.IsNullOrEmpty(store) ? m : m with { Stores = Update(m.Stores, store, change) };

    private static SortedDictionary<string, T> Update<T>(IReadOnlyDictionary<string, T> map, string key, Func<T, T> change)
        where T : new()
    {
        var copy = new SortedDictionary<string, T>(map.ToDictionary(), StringComparer.Ordinal);
        copy[key] = change(copy.TryGetValue(key, out var value) ? value : new T());
        return copy;
    }

    private static SortedDictionary<string, long> Increment(IReadOnlyDictionary<string, long> map, string key, long n)
    {
        var copy = new SortedDictionary<string, long>(map.ToDictionary(), StringComparer.Ordinal);
        copy[key] = copy.GetValueOrDefault(key) + n;
        return copy;
    }
}
