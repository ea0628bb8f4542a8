using GcpStreams.Domain.Reporting;

namespace GcpStreams.Domain.Tests;

/// <summary>The pure arithmetic of the BI daily marts (no Kafka): business days, figures, reconciliation, liability chain.</summary>
public class DailyMartTests
{
    private static readonly ReportSettings Moscow = new() { Grace = TimeSpan.FromHours(2), Tolerance = TimeSpan.FromMinutes(15) };
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static ReportFact Fact(Measure measure, long count, long amount, DateTimeOffset? at = null, DateTimeOffset? recorded = null, string channel = "POS",
        string? dedup = null, string? detail = null) => new()
    {
        Channel = channel,
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

        var changed = DailyMarts.Chain(100, [d1, d2]);

        Assert.That(changed.Select(m => (m.Day, m.LiabilityMinor)), Is.EqualTo(new[] { (d1.Day, 5_100L), (d2.Day, 4_100L) }));
        Assert.That(DailyMarts.Chain(100, changed), Is.Empty);
    }
}
