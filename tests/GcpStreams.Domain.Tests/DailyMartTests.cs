using GcpStreams.Domain.Reporting;

namespace GcpStreams.Domain.Tests;

/// <summary>The pure arithmetic of the BI daily marts (no Kafka): business days, figures, reconciliation, liability chain.</summary>
public class DailyMartTests
{
    private static readonly ReportSettings Moscow = new() { Grace = TimeSpan.FromHours(2), Tolerance = TimeSpan.FromMinutes(15) };
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static ReportFact Fact(Measure measure, long count, long amount, DateTimeOffset? at = null, DateTimeOffset? recorded = null, string channel = "POS",
        string? dedup = null, string? detail = null, string? currency = "RUB") => new()
    {
        Channel = channel,
        Currency = currency,
        OccurredAt = at ?? T0,
        RecordedAt = recorded ?? at ?? T0,
        Deltas = [new Delta(measure, count, amount, detail)],
        PoolId = "pool-1",
        StoreId = "store-1",
        DedupKey = dedup,
        DuplicateOf = dedup is null ? DuplicateSource.None : DuplicateSource.Orders,
    };

    [TestCase("2026-11-27T20:59:59Z", "2026-11-27")]
    [TestCase("2026-11-27T21:00:00Z", "2026-11-28")]
    [TestCase("2026-11-26T21:00:00Z", "2026-11-27")]
    public void BusinessDay_IsTheCalendarDayInMoscow(string utc, string day)
    {
        var at = DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

        Assert.That(BusinessDay.Format(BusinessDay.Of(at, Moscow.Zone)), Is.EqualTo(day));
    }

    [Test]
    public void BusinessDay_EndsAtMidnightInTheZone()
    {
        Assert.That(BusinessDay.End(new DateOnly(2026, 11, 27), Moscow.Zone), Is.EqualTo(new DateTimeOffset(2026, 11, 27, 21, 0, 0, TimeSpan.Zero)));
        Assert.That(BusinessDay.TryParse("2026-02-30", out _), Is.False);
    }

    [Test]
    public void Apply_AddsFiguresAndBalanceChanges_PerPoolAndStore()
    {
        var m = DailyMarts.Apply(null, Fact(Measure.Issued, 1, 5_000), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.Redeemed, 1, 1_200), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.Refunded, 1, 200), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.Cancelled, 1, 1_000), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.Voided, 1, 50), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.Alert, 1, 0, detail: "POOL_LOW"), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.DeadLetter, 1, 0, detail: "All_Payments|UNDECODABLE"), false, Moscow);

        Assert.That(m.BalanceChangeMinor, Is.EqualTo(5_000 - 1_200 + 200 - 1_000));
        Assert.That(m.Voided, Is.EqualTo(new Figure(1, 50)));
        Assert.That(m.Pools["pool-1"].Issued, Is.EqualTo(new Figure(1, 5_000)));
        Assert.That(m.Stores["store-1"].Redeemed, Is.EqualTo(new Figure(1, 1_200)));
        Assert.That((m.Alerts["POOL_LOW"], m.DeadLetters["All_Payments|UNDECODABLE"]), Is.EqualTo((1L, 1L)));
        Assert.That(m.Revision, Is.EqualTo(7));
        Assert.That(m.FinalAt, Is.EqualTo(new DateTimeOffset(2026, 11, 27, 23, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void Apply_ADuplicate_CountsOnlyTheDuplicate()
    {
        var m = DailyMarts.Apply(null, Fact(Measure.OrderCertificates, 1, 5_000, dedup: "order/tx-1/PAID"), true, Moscow);

        Assert.That((m.DuplicateOrderRecords, m.OrderCertificates), Is.EqualTo((1L, Figure.Zero)));
    }

    [Test]
    public void Apply_AfterTheDayIsFinal_IsACorrection()
    {
        var inGrace = DailyMarts.Apply(null, Fact(Measure.Issued, 1, 5_000, recorded: T0.AddHours(12)), false, Moscow);
        var late = DailyMarts.Apply(inGrace, Fact(Measure.Issued, 1, 5_000, recorded: T0.AddHours(14)), false, Moscow);

        Assert.That(inGrace.Corrections, Is.Zero);
        Assert.That((late.Corrections, late.Issued.Count), Is.EqualTo((1L, 2L)));
    }

    [Test]
    public void Reconciliation_AMismatchIsAlertedOnceAfterTheWindow_AndClearsWhenTheFiguresAgree()
    {
        var m = DailyMarts.Apply(null, Fact(Measure.OrderCertificates, 1, 5_000), false, Moscow);
        Assert.That((m.Mismatches, m.MismatchSince), Is.EqualTo((new[] { Reconciliation.Issue }, (DateTimeOffset?)T0)));

        Assert.That(DailyMarts.DueAlert(m, T0.AddMinutes(14), Moscow), Is.Null);
        var alert = DailyMarts.DueAlert(m, T0.AddMinutes(15), Moscow)!;
        Assert.That((alert.At, alert.Disagreeing.Single().Orders, alert.Disagreeing.Single().Certificates), Is.EqualTo((T0.AddMinutes(15), new Figure(1, 5_000), Figure.Zero)));
        var alerted = DailyMarts.Alerted(m, alert);
        Assert.That(DailyMarts.DueAlert(alerted, T0.AddHours(1), Moscow), Is.Null, "once per disagreeing state");
        Assert.That(alerted.Alerts[DailyMarts.ReconciliationAlertKind], Is.EqualTo(1));

        var agreed = DailyMarts.Apply(alerted, Fact(Measure.Issued, 1, 5_000, at: T0.AddMinutes(30)), false, Moscow);
        Assert.That((agreed.Mismatches, agreed.MismatchSince), Is.EqualTo((Array.Empty<string>(), (DateTimeOffset?)null)));
    }

    [Test]
    public void Chain_CarriesTheLiabilityAcrossDays_AndReturnsWhatChanged()
    {
        var d1 = DailyMarts.Apply(null, Fact(Measure.Issued, 1, 5_000), false, Moscow);
        var d2 = DailyMarts.Apply(null, Fact(Measure.Redeemed, 1, 1_000, at: T0.AddDays(1)), false, Moscow);

        var before = new Dictionary<string, long> { ["RUB"] = 100 };
        var changed = DailyMarts.Chain(before, [d1, d2]);

        Assert.That(changed.Select(m => (m.Day, m.LiabilityMinor)), Is.EqualTo(new[] { (d1.Day, 5_100L), (d2.Day, 4_100L) }));
        Assert.That(changed.Select(m => m.Currencies["RUB"].LiabilityMinor), Is.EqualTo(new[] { 5_100L, 4_100L }));
        Assert.That(DailyMarts.Chain(before, changed), Is.Empty);
    }

    [Test]
    public void Currencies_SplitTheMoney_TheChecksAndTheLiabilityArePerCurrency()
    {
        var m = DailyMarts.Apply(null, Fact(Measure.Issued, 1, 5_000, currency: "RUB"), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.OrderCertificates, 1, 5_000, currency: "RUB"), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.Issued, 1, 50, currency: "EUR"), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.OrderCertificates, 1, 5_000, currency: "EUR"), false, Moscow); // the same figure, in EUR
        m = DailyMarts.Apply(m, Fact(Measure.Locked, 1, 0, currency: "EUR"), false, Moscow);
        m = DailyMarts.Apply(m, Fact(Measure.PaymentCaptures, 1, 10, currency: null), false, Moscow);

        Assert.That(m.Currencies.Keys, Is.EqualTo(new[] { "EUR", "RUB", DailyMarts.NoCurrency }));
        Assert.That((m.Currencies["RUB"].Issued, m.Currencies["EUR"].Issued), Is.EqualTo((new Figure(1, 5_000), new Figure(1, 50))));
        Assert.That(m.Currencies[DailyMarts.NoCurrency].PaymentCaptures, Is.EqualTo(new Figure(1, 10)));
        Assert.That(m.Locked, Is.EqualTo(1), "counts that move no money stay on the mart");
        Assert.That(Reconciliation.Checks(m).Where(c => !c.Agrees).Select(c => (c.Name, c.Currency)),
            Is.EqualTo(new[] { ("issue", "EUR"), ("capture", DailyMarts.NoCurrency) }), "RUB agrees; 5,000 EUR bought vs 50 EUR issued does not, though the sums would");
        Assert.That(m.Mismatches, Is.EqualTo(new[] { Reconciliation.Issue, Reconciliation.Capture }));

        var chained = DailyMarts.Chain(new Dictionary<string, long> { ["USD"] = 7 }, [m]).Single();
        Assert.That(chained.Currencies.ToDictionary(c => c.Key, c => c.Value.LiabilityMinor),
            Is.EqualTo(new Dictionary<string, long> { ["EUR"] = 50, ["RUB"] = 5_000, [DailyMarts.NoCurrency] = 0, ["USD"] = 7 }), "a currency without activity carries its liability");
        Assert.That(chained.LiabilityMinor, Is.EqualTo(5_057));
    }

    [Test]
    public void Finalized_OnceTheStreamTimePassesFinalAt_ANewRevision_Once()
    {
        var m = DailyMarts.Apply(null, Fact(Measure.Issued, 1, 5_000), false, Moscow);

        Assert.That(DailyMarts.Finalized(m, m.FinalAt.AddMilliseconds(-1)), Is.Null);
        var final = DailyMarts.Finalized(m, m.FinalAt)!;
        Assert.That((final.Final, final.Revision, final.Issued), Is.EqualTo((true, m.Revision + 1, m.Issued)));
        Assert.That(DailyMarts.Finalized(final, m.FinalAt.AddDays(1)), Is.Null, "once");
    }

    [Test]
    public void ForgetDuplicatesThrough_IsTheLastDayFinalForLongerThanTheRetention()
    {
        var settings = Moscow with { DuplicateRetention = TimeSpan.FromDays(1) };
        // 2026-11-27 ends 21:00 UTC, is final 23:00 UTC, its duplicates are kept until 2026-11-28 23:00 UTC
        var kept = new DateTimeOffset(2026, 11, 28, 22, 59, 0, TimeSpan.Zero);
        var dropped = new DateTimeOffset(2026, 11, 28, 23, 0, 0, TimeSpan.Zero);

        Assert.That(DailyMarts.ForgetDuplicatesThrough(kept, settings), Is.EqualTo(new DateOnly(2026, 11, 26)));
        Assert.That(DailyMarts.ForgetDuplicatesThrough(dropped, settings), Is.EqualTo(new DateOnly(2026, 11, 27)));
    }
}
