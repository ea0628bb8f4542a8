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
/// The money figures of one currency within a daily mart (amounts of different currencies are never added together): what the
/// certificate events, Orders and Payments moved in it, the liability in it at the end of the day, and its reconciliation.
/// </summary>
public sealed record MoneyFigures
{
    public Figure Issued { get; init; } = Figure.Zero;
    public Figure Redeemed { get; init; } = Figure.Zero;
    public Figure Refunded { get; init; } = Figure.Zero;
    public Figure Voided { get; init; } = Figure.Zero;
    public Figure Cancelled { get; init; } = Figure.Zero;

    /// <summary>Net change of the balances in this currency this day: issued + refunded - redeemed - cancelled.</summary>
    public long BalanceChangeMinor { get; init; }

    /// <summary>Outstanding liability in this currency at the end of the day.</summary>
    public long LiabilityMinor { get; init; }

    public Figure OrderCertificates { get; init; } = Figure.Zero;
    public Figure OrderTenders { get; init; } = Figure.Zero;
    public Figure OrderReturns { get; init; } = Figure.Zero;
    public Figure PaymentCaptures { get; init; } = Figure.Zero;
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

    /// <summary>How many facts (reconciliation alerts, and the day becoming final) made this version: 1, 2, 3...</summary>
    public long Revision { get; init; }

    /// <summary>
    /// Whether the day is final: set (a new revision) once the stream time of the marts passed <see cref="FinalAt"/>; facts written
    /// after that are still applied, as corrections.
    /// </summary>
    public bool Final { get; init; }

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

    /// <summary>
    /// The money figures per currency (ISO 4217 code; <see cref="DailyMarts.NoCurrency"/> for an input that names none). The amounts
    /// of the mart itself (<see cref="Issued"/>, <see cref="LiabilityMinor"/>, ...) add up every currency's: read them only when
    /// there is one currency.
    /// </summary>
    public IReadOnlyDictionary<string, MoneyFigures> Currencies { get; init; } = Empty<MoneyFigures>();

    public IReadOnlyDictionary<string, PoolFigures> Pools { get; init; } = Empty<PoolFigures>();
    public IReadOnlyDictionary<string, StoreFigures> Stores { get; init; } = Empty<StoreFigures>();

    /// <summary>Dead letters by <c>{sourceTopic}|{reason}</c>.</summary>
    public IReadOnlyDictionary<string, long> DeadLetters { get; init; } = Empty<long>();

    /// <summary>Alerts on the stream by kind.</summary>
    public IReadOnlyDictionary<string, long> Alerts { get; init; } = Empty<long>();

    private static SortedDictionary<string, T> Empty<T>() => new(StringComparer.Ordinal);
}

/// <summary>A reconciliation check of one currency: an Orders (or Payments) figure against the certificate events' figure.</summary>
public sealed record ReconciliationCheck(string Name, string Currency, Figure Orders, Figure Certificates)
{
    public bool Agrees => Orders == Certificates;
}

/// <summary>The reconciliation of Orders with the certificate events of one daily mart.</summary>
public static class Reconciliation
{
    public const string Issue = "issue";
    public const string Capture = "capture";
    public const string Return = "return";

    /// <summary>The names of the checks, in their order.</summary>
    public static readonly IReadOnlyList<string> Names = [Issue, Capture, Return];

    /// <summary>
    /// The three checks of each currency (by currency code): lines bought vs issued, tenders vs captures on All_Payments, returned
    /// lines vs cancelled. Amounts are compared within a currency only.
    /// </summary>
    public static IReadOnlyList<ReconciliationCheck> Checks(DailyMart m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return [.. m.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal).SelectMany(c => Checks(c.Key, c.Value))];
    }

    /// <summary>The three checks of one currency's figures.</summary>
    public static IReadOnlyList<ReconciliationCheck> Checks(string currency, MoneyFigures f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return
        [
            new(Issue, currency, f.OrderCertificates, f.Issued),
            new(Capture, currency, f.OrderTenders, f.PaymentCaptures),
            new(Return, currency, f.OrderReturns, f.Cancelled),
        ];
    }

    /// <summary>The names of the checks that disagree in any currency, in check order.</summary>
    public static IReadOnlyList<string> Disagreeing(IEnumerable<ReconciliationCheck> checks)
    {
        var names = checks.Where(c => !c.Agrees).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return [.. Names.Where(names.Contains)];
    }

    /// <summary>A text naming every check with both sides' figures (what one alert is raised for).</summary>
    public static string Fingerprint(DailyMart m) => string.Join(';', Checks(m).Select(c =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Name}.{c.Currency}:{c.Orders.Count}/{c.Orders.AmountMinor}={c.Certificates.Count}/{c.Certificates.AmountMinor}")));
}

/// <summary>A reconciliation alert decided for a daily mart: at when, and the checks that disagree with both sides' figures.</summary>
public sealed record ReconciliationAlert(DateOnly Day, string Channel, DateTimeOffset At, DateTimeOffset MismatchSince, IReadOnlyList<ReconciliationCheck> Disagreeing, string Fingerprint);

/// <summary>The pure arithmetic of the daily marts.</summary>
public static class DailyMarts
{
    /// <summary>The currency of money figures whose input names none (ISO 4217's code for "no currency").</summary>
    public const string NoCurrency = "XXX";

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
            var currency = string.IsNullOrWhiteSpace(fact.Currency) ? NoCurrency : fact.Currency;
            foreach (var delta in fact.Deltas)
            {
                m = Money(Add(m, delta, fact.PoolId, fact.StoreId), delta, currency);
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

    /// <summary>The money measures of <paramref name="d"/> added to the figures of <paramref name="currency"/>; other measures change nothing.</summary>
    private static DailyMart Money(DailyMart m, Delta d, string currency)
    {
        var (n, a) = (d.Count, d.AmountMinor);
        Func<MoneyFigures, MoneyFigures>? change = d.Measure switch
        {
            Measure.Issued => f => f with { Issued = f.Issued.Add(n, a), BalanceChangeMinor = f.BalanceChangeMinor + a },
            Measure.Redeemed => f => f with { Redeemed = f.Redeemed.Add(n, a), BalanceChangeMinor = f.BalanceChangeMinor - a },
            Measure.Refunded => f => f with { Refunded = f.Refunded.Add(n, a), BalanceChangeMinor = f.BalanceChangeMinor + a },
            Measure.Voided => f => f with { Voided = f.Voided.Add(n, a) },
            Measure.Cancelled => f => f with { Cancelled = f.Cancelled.Add(n, a), BalanceChangeMinor = f.BalanceChangeMinor - a },
            Measure.OrderCertificates => f => f with { OrderCertificates = f.OrderCertificates.Add(n, a) },
            Measure.OrderTenders => f => f with { OrderTenders = f.OrderTenders.Add(n, a) },
            Measure.OrderReturns => f => f with { OrderReturns = f.OrderReturns.Add(n, a) },
            Measure.PaymentCaptures => f => f with { PaymentCaptures = f.PaymentCaptures.Add(n, a) },
            _ => null,
        };
        return change is null ? m : m with { Currencies = Update(m.Currencies, currency, change) };
    }

    /// <summary>Re-checks the reconciliation: a new disagreement starts at <paramref name="at"/>; agreement clears it.</summary>
    private static DailyMart Recheck(DailyMart m, DateTimeOffset at)
    {
        var disagreeing = Reconciliation.Disagreeing(Reconciliation.Checks(m));
        return disagreeing.Count == 0
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
    /// The liability chain of one channel, per currency: each day's liability in a currency is the previous day's plus the day's
    /// balance change in it, starting from <paramref name="before"/> (the liabilities at the end of the day before the first one);
    /// the mart's own liability adds up its currencies'. Returns the marts whose liabilities changed, in day order.
    /// </summary>
    public static IReadOnlyList<DailyMart> Chain(IReadOnlyDictionary<string, long> before, IEnumerable<DailyMart> daysInOrder)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(daysInOrder);
        var changed = new List<DailyMart>();
        var liabilities = new SortedDictionary<string, long>(before.ToDictionary(), StringComparer.Ordinal);
        foreach (var m in daysInOrder)
        {
            var currencies = new SortedDictionary<string, MoneyFigures>(m.Currencies.ToDictionary(), StringComparer.Ordinal);
            foreach (var currency in liabilities.Keys.Union(currencies.Keys).ToList())
            {
                var figures = currencies.GetValueOrDefault(currency);
                var liability = liabilities.GetValueOrDefault(currency) + (figures?.BalanceChangeMinor ?? 0);
                liabilities[currency] = liability;
                if (figures is not null || liability != 0)
                {
                    currencies[currency] = (figures ?? new MoneyFigures()) with { LiabilityMinor = liability };
                }
            }

            var total = liabilities.Values.Sum();
            if (m.LiabilityMinor != total || !SameLiabilities(m.Currencies, currencies))
            {
                changed.Add(m with { LiabilityMinor = total, Currencies = currencies });
            }
        }

        return changed;
    }

    /// <summary>The liabilities per currency at the end of <paramref name="m"/> (what the next day starts from).</summary>
    public static IReadOnlyDictionary<string, long> Liabilities(DailyMart? m) =>
        m is null ? new Dictionary<string, long>() : m.Currencies.ToDictionary(c => c.Key, c => c.Value.LiabilityMinor, StringComparer.Ordinal);

    private static bool SameLiabilities(IReadOnlyDictionary<string, MoneyFigures> a, IReadOnlyDictionary<string, MoneyFigures> b) =>
        a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var other) && other.LiabilityMinor == e.Value.LiabilityMinor);

    /// <summary>
    /// The mart once its day is final at stream time <paramref name="streamTime"/> (a new revision), or null when it already is or
    /// the stream time has not reached <see cref="DailyMart.FinalAt"/> yet.
    /// </summary>
    public static DailyMart? Finalized(DailyMart m, DateTimeOffset streamTime)
    {
        ArgumentNullException.ThrowIfNull(m);
        return m.Final || streamTime < m.FinalAt ? null : m with { Final = true, Revision = m.Revision + 1 };
    }

    /// <summary>
    /// The last business day whose duplicate tracking can be dropped at stream time <paramref name="streamTime"/>: the day has been
    /// final for <see cref="ReportSettings.DuplicateRetention"/> (a record of it seen again after that counts as a new correction).
    /// </summary>
    public static DateOnly ForgetDuplicatesThrough(DateTimeOffset streamTime, ReportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // the day before the one holding streamTime - grace - retention ended (at the latest) at that instant
        return BusinessDay.Of(streamTime - settings.Grace - settings.DuplicateRetention, settings.Zone).AddDays(-1);
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
