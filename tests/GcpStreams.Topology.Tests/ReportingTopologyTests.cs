using GcpStreams.Client;
using GcpStreams.Topology.Reporting;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// R7.0, the BI daily marts on GiftCertificates.DailyReport, through the real topology: the seed's three BI cases (reconciliation
/// with Orders, control of invalid events, issue.blocked), the business day in the configured zone, late events, replay, liability.
/// </summary>
public class ReportingTopologyTests
{
    // T0 is 2026-11-27 10:00 UTC = 13:00 in Moscow (UTC+3): business day 2026-11-27, which ends at 21:00 UTC and is final at 23:00 UTC
    private const string Day = "2026-11-27";
    private static readonly DateTime T0 = TopologyFixture.T0;

    /// <summary>The fixture's settings with the reporting's own: Moscow, 2 h grace, 15 min tolerance.</summary>
    internal static readonly TopologySettings Settings = TopologyFixture.Settings with
    {
        ReportTimeZone = "Europe/Moscow",
        ReportGrace = TimeSpan.FromHours(2),
        ReconciliationTolerance = TimeSpan.FromMinutes(15),
    };

    [Test]
    public void GivenAPaidOrder_WhenItIsIssued_ThenTheDailyReportCountsTheIssueAndTheLiability()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();

        f.IssuedCertificate();
        Settle(f);

        var report = Latest(f, Day, "POS");
        Assert.That((report.issuedCount, report.issuedMinor), Is.EqualTo((1L, Inputs.Nominal)));
        Assert.That((report.ordersCertificatesCount, report.ordersCertificatesMinor), Is.EqualTo((1L, Inputs.Nominal)));
        Assert.That(report.liabilityMinor, Is.EqualTo(Inputs.Nominal));
        Assert.That(report.reconciliationMismatches, Is.Empty);
        Assert.That(report.pools.Single().poolId, Is.EqualTo(Inputs.Pool));
        Assert.That(report.stores.Single().storeId, Is.EqualTo("store-12"));
        Assert.That(report.timeZone, Is.EqualTo("Europe/Moscow"));
        Assert.That(report.finalAt, Is.EqualTo(new DateTime(2026, 11, 27, 23, 0, 0, DateTimeKind.Utc)));
    }

    [Test]
    public void ReconciliationWithOrders_GivenOrdersAndIssuesThatAgree_ThenNoMismatch_AndAMissingIssueRaisesAnAlertOnlyAfterTheWindow()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        f.IssuedCertificate(orderId: "order-1");
        Settle(f);
        Assert.That(Latest(f, Day, "POS").reconciliationMismatches, Is.Empty, "order line bought and certificate issued agree");

        // an order pays for a certificate no pool reserved: Orders say 2 bought, the stream says 1 issued
        var order = Inputs.Order(f, "6000000000000000", "order-2", Inputs.Pool, C.Channel.POS, "client-2", T0.AddMinutes(2), null, C.OrderStatus.PAID);
        f.Pipe(Topics.SalesOrders, "order-2", order, T0.AddMinutes(2));
        Settle(f);
        Tick(f, T0.AddMinutes(10)); // inside the window: no alert yet
        var before = Latest(f, Day, "POS");
        Assert.That(before.reconciliationMismatches, Is.EqualTo(new[] { "issue" }));
        Assert.That(before.mismatchDetectedAt, Is.EqualTo(T0.AddMinutes(2)));
        Assert.That(MismatchAlerts(f), Is.Empty);

        Tick(f, T0.AddMinutes(20)); // 18 minutes after the mismatch began: past the 15-minute window

        var alert = MismatchAlerts(f).Single();
        Assert.That(alert.Key, Is.EqualTo($"{Day}|POS"));
        Assert.That(alert.Value.channel, Is.EqualTo(C.Channel.POS));
        Assert.That(alert.Value.occurredAt, Is.EqualTo(T0.AddMinutes(17)), "due time = start of the mismatch + window, not the clock");
        var details = ((C.Alert)alert.Value.payload).details;
        Assert.That(details["day"], Is.EqualTo(Day));
        Assert.That(details["checks"], Is.EqualTo("issue"));
        Assert.That(details["currencies"], Is.EqualTo(Inputs.Rub));
        Assert.That((details["issue.RUB.ordersCount"], details["issue.RUB.certificatesCount"]), Is.EqualTo(("2", "1")));
        Assert.That((details["issue.RUB.ordersMinor"], details["issue.RUB.certificatesMinor"]), Is.EqualTo(($"{2 * Inputs.Nominal}", $"{Inputs.Nominal}")));
        var after = Latest(f, Day, "POS");
        Assert.That(after.mismatchAlertsCount, Is.EqualTo(1));
        Assert.That(after.alerts.Single(a => a.kind == "RECONCILIATION_MISMATCH").count, Is.EqualTo(1));

        Tick(f, T0.AddMinutes(40));
        Assert.That(MismatchAlerts(f), Has.Count.EqualTo(1), "one alert per disagreeing state");
    }

    [Test]
    public void ReconciliationWithOrders_TendersAgainstCaptures_AndReturnsAgainstCancellations_Agree()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var used = f.IssuedCertificate(orderId: "order-1");
        var returned = f.IssuedCertificate(orderId: "order-2");
        // order-3 pays 1,000.00 with the first certificate; Payments captures it
        var tendered = Inputs.Order(f, used, "order-3", Inputs.Pool, C.Channel.POS, "client-1", T0.AddMinutes(3), null, C.OrderStatus.PAID);
        tendered.certificateLines = [];
        tendered.certificateTenders = [new C.CertificateTender { certificateId = used, amountMinor = 1_000_00, paymentId = "pay-1" }];
        f.Pipe(Topics.SalesOrders, "order-3", tendered, T0.AddMinutes(3));
        f.Pay(C.PaymentOperation.CAPTURE, used, 1_000_00, paymentId: "pay-1");
        f.ReturnOrder(returned, "order-2");
        Settle(f);

        var report = Latest(f, Day, "POS");
        Assert.That((report.ordersTendersCount, report.ordersTendersMinor), Is.EqualTo((1L, 1_000_00L)));
        Assert.That((report.paymentsCapturesCount, report.paymentsCapturesMinor), Is.EqualTo((1L, 1_000_00L)));
        Assert.That((report.redeemedCount, report.redeemedMinor), Is.EqualTo((1L, 1_000_00L)));
        Assert.That((report.ordersReturnsCount, report.cancelledCount, report.cancelledMinor), Is.EqualTo((1L, 1L, Inputs.Nominal)));
        Assert.That(report.reconciliationMismatches, Is.Empty);
    }

    [Test]
    public void ControlOfInvalidEvents_GarbageNonsenseAndDuplicates_AreCountedPerReason()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var id = f.IssuedCertificate(orderId: "order-1");

        var garbage = new byte[48];
        new Random(7).NextBytes(garbage);
        f.PipeRaw(Topics.Payments.Name, "pay-garbage"u8.ToArray(), garbage, T0.AddMinutes(6));                    // garbage
        f.PipeRaw(Topics.SalesOrders.Name, "order-garbage"u8.ToArray(), [0, 0, 0, 0, 9, 1, 2], T0.AddMinutes(6));  // garbage
        f.Pay(C.PaymentOperation.CAPTURE, id, -5_00);                                                             // schema-valid nonsense
        f.Pay(C.PaymentOperation.CAPTURE, "6000000000000000", 5_00);                                            // unknown certificate
        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 10_00, paymentId: "pay-twice");
        f.Pipe(capture);                                                                                          // the same event again
        f.Pipe(Topics.SalesOrders, "order-1", Inputs.Order(f, id, "order-1", Inputs.Pool, C.Channel.POS, "client-1", null, null, C.OrderStatus.PAID)); // the transaction again
        Settle(f);

        var invalid = Latest(f, Day, "UNKNOWN");
        var letters = invalid.deadLetters.ToDictionary(d => $"{d.sourceTopic}|{d.reason}", d => d.count);
        Assert.That(letters, Is.EqualTo(new Dictionary<string, long>
        {
            ["All_Payments|UNDECODABLE"] = 1,
            ["All_SalesOrder|UNDECODABLE"] = 1,
            ["All_Payments|INVALID_CONTENT"] = 1,
            ["All_Payments|UNKNOWN_CERTIFICATE"] = 1,
        }));
        Assert.That(invalid.alerts.Single(a => a.kind == "INVALID_EVENT").count, Is.EqualTo(4), "one INVALID_EVENT alert per dead letter");
        var pos = Latest(f, Day, "POS");
        Assert.That(pos.alerts.Single(a => a.kind == "DUPLICATE_EVENT").count, Is.GreaterThanOrEqualTo(2), "the payment and the order line delivered again");
        Assert.That(pos.duplicateOrderRecordsCount, Is.EqualTo(1), "a second record of the same transaction and status");
        Assert.That(pos.duplicatePaymentRecordsCount, Is.EqualTo(1), "a second record of the same capture");
        Assert.That((pos.paymentsCapturesCount, pos.redeemedCount), Is.EqualTo((2L, 1L)), "the unknown certificate's capture reached Payments' side only");
        Assert.That((pos.issuedCount, pos.ordersCertificatesCount), Is.EqualTo((1L, 1L)), "duplicates ignored");
    }

    [Test]
    public void IssueBlocked_WhenThePoolIsEmpty_IsCountedForTheDayAndThePool()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool(count: 1);
        Assert.That(f.Reserve(orderId: "order-1").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));

        var refused = f.Reserve(orderId: "order-2");
        Settle(f);

        Assert.That(refused.outcome, Is.EqualTo(C.ReplyOutcome.REJECTED));
        var report = Latest(f, Day, "POS");
        Assert.That(report.issueBlockedCount, Is.EqualTo(1));
        Assert.That(report.pools.Single(p => p.poolId == Inputs.Pool).issueBlockedCount, Is.EqualTo(1));
        Assert.That(report.alerts.Single(a => a.kind == "POOL_EMPTY").count, Is.EqualTo(1));
    }

    [Test]
    public void DayBoundary_InTheConfiguredZone_SplitsAtMoscowMidnight_AndTheLiabilityCarriesOver()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var lastMinute = new DateTime(2026, 11, 27, 20, 59, 0, DateTimeKind.Utc); // 23:59 in Moscow
        var firstMinute = new DateTime(2026, 11, 27, 21, 1, 0, DateTimeKind.Utc); // 00:01 the next day in Moscow (still the 27th in UTC)

        Issue(f, "order-late", lastMinute);
        Issue(f, "order-early", firstMinute);
        Settle(f);

        var first = Latest(f, "2026-11-27", "POS");
        var second = Latest(f, "2026-11-28", "POS");
        Assert.That((first.issuedCount, first.liabilityMinor), Is.EqualTo((1L, Inputs.Nominal)));
        Assert.That((second.issuedCount, second.balanceChangeMinor, second.liabilityMinor), Is.EqualTo((1L, Inputs.Nominal, 2 * Inputs.Nominal)));
    }

    [Test]
    public void LateEvent_InsideTheGracePeriodCountsNormally_AfterItIsACorrection_NeverLost()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var inside = f.Reserve(orderId: "order-a").certificateId;
        var after = f.Reserve(orderId: "order-b").certificateId;

        // both bought on the 27th (Moscow); the day ends 21:00 UTC and is final at 23:00 UTC
        f.Pipe(Topics.SalesOrders, "order-a", Inputs.Order(f, inside, "order-a", Inputs.Pool, C.Channel.POS, "client-1", T0.AddMinutes(1), null, C.OrderStatus.PAID), T0.AddHours(12));
        Settle(f);
        var graced = Latest(f, Day, "POS");
        Assert.That((graced.issuedCount, graced.correctionsCount), Is.EqualTo((1L, 0L)), "written 22:00 UTC: within the grace period");
        Assert.That(graced.final, Is.False, "the stream time (22:00 UTC) has not passed finalAt (23:00 UTC)");

        Tick(f, T0.AddHours(13).AddMinutes(1)); // 23:01 UTC: the stream time passes finalAt
        var final = Latest(f, Day, "POS");
        Assert.That((final.final, final.revision, final.issuedCount, final.correctionsCount), Is.EqualTo((true, graced.revision + 1, 1L, 0L)),
            "the day's record published again, final, in stream time, with the same figures");
        Assert.That(f.All(Topics.DailyReport).Count(r => r.Key == $"{Day}|POS" && r.Value.final), Is.EqualTo(1), "made final once");

        f.Pipe(Topics.SalesOrders, "order-b", Inputs.Order(f, after, "order-b", Inputs.Pool, C.Channel.POS, "client-1", T0.AddMinutes(2), null, C.OrderStatus.PAID), T0.AddHours(14));
        Settle(f);

        var corrected = Latest(f, Day, "POS");
        Assert.That(corrected.final, Is.True, "a correction leaves the day final");
        Assert.That(corrected.issuedCount, Is.EqualTo(2), "a late event is applied, never dropped");
        Assert.That(corrected.correctionsCount, Is.GreaterThanOrEqualTo(2), "written 00:00 UTC, after the day was final: the order line and the issue are corrections");
        Assert.That(corrected.liabilityMinor, Is.EqualTo(2 * Inputs.Nominal));
        Assert.That(Latest(f, "2026-11-28", "POS", orNull: true), Is.Null, "counted on the day of occurredAt, not of processing");
    }

    [Test]
    public void Replay_TheSameInputsTwice_GiveByteIdenticalReportRecordsAndAlerts()
    {
        using var first = new TopologyFixture(Settings);
        using var second = new TopologyFixture(Settings);

        foreach (var f in new[] { first, second })
        {
            f.LoadPool(count: 3);
            var id = f.IssuedCertificate(orderId: "order-1");
            f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00, paymentId: "pay-1", eventId: "evt-pay-1");
            f.Pay(C.PaymentOperation.REFUND, id, 300_00, parent: "pay-1", paymentId: "pay-2", eventId: "evt-pay-2");
            f.Pipe(Topics.SalesOrders, "order-2", Inputs.Order(f, "6000000000000000", "order-2", Inputs.Pool, C.Channel.POS, "client-2", T0.AddMinutes(2), "evt-order-2", C.OrderStatus.PAID), T0.AddMinutes(2));
            f.PipeRaw(Topics.Payments.Name, "garbage"u8.ToArray(), [1, 2, 3], T0.AddMinutes(3));
            Settle(f);
            Tick(f, T0.AddMinutes(30));
        }

        var a = first.AllRaw(Topics.DailyReport.Name);
        var b = second.AllRaw(Topics.DailyReport.Name);
        Assert.That(a, Has.Count.GreaterThan(5));
        Assert.That(b.Select(r => Convert.ToHexString(r.Key!) + ":" + Convert.ToHexString(r.Value)), Is.EqualTo(a.Select(r => Convert.ToHexString(r.Key!) + ":" + Convert.ToHexString(r.Value))));
        Assert.That(MismatchAlerts(second).Select(e => Convert.ToHexString(e.Bytes)), Is.EqualTo(MismatchAlerts(first).Select(e => Convert.ToHexString(e.Bytes))).And.Not.Empty);
    }

    [Test]
    public void Liability_AtTheEndOfTheDay_IsTheSumOfTheStateBalances()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var used = f.IssuedCertificate(orderId: "order-1");
        f.IssuedCertificate(orderId: "order-2");
        var returned = f.IssuedCertificate(orderId: "order-3");
        f.Pay(C.PaymentOperation.CAPTURE, used, 1_234_00, paymentId: "pay-1");
        f.Pay(C.PaymentOperation.REFUND, used, 200_00, parent: "pay-1", paymentId: "pay-2");
        f.ReturnOrder(returned, "order-3");
        Settle(f);

        var balances = f.All(Topics.State).GroupBy(s => s.Key).Select(g => g.Last().Value).Where(s => s.channel == C.Channel.POS).Sum(s => s.balanceMinor);
        var report = Latest(f, Day, "POS");
        Assert.That(report.liabilityMinor, Is.EqualTo(balances));
        Assert.That(report.liabilityMinor, Is.EqualTo(3 * Inputs.Nominal - 1_234_00 + 200_00 - Inputs.Nominal));
        Assert.That((report.refundedCount, report.refundedMinor), Is.EqualTo((1L, 200_00L)));
    }

    [Test]
    public void Currencies_AreNeverAddedTogether_TheReconciliationAndTheLiabilityArePerCurrency()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var id = f.IssuedCertificate(orderId: "order-1");
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00, paymentId: "pay-rub");
        // Payments captures 7.00 EUR on a certificate this service does not know: Payments' side only, in EUR
        f.Pay(C.PaymentOperation.CAPTURE, "6000000000000000", 7_00, paymentId: "pay-eur", currency: "EUR");
        Settle(f);

        var report = Latest(f, Day, "POS");
        var rub = report.currencies.Single(c => c.currency == Inputs.Rub);
        var eur = report.currencies.Single(c => c.currency == "EUR");
        Assert.That(report.currencies.Select(c => c.currency), Is.EqualTo(new[] { "EUR", Inputs.Rub }), "ordered by currency code");
        Assert.That((rub.issuedCount, rub.issuedMinor, rub.paymentsCapturesMinor, rub.redeemedMinor), Is.EqualTo((1L, Inputs.Nominal, 1_000_00L, 1_000_00L)));
        Assert.That(rub.liabilityMinor, Is.EqualTo(Inputs.Nominal - 1_000_00));
        Assert.That((eur.paymentsCapturesCount, eur.paymentsCapturesMinor, eur.issuedMinor, eur.liabilityMinor), Is.EqualTo((1L, 7_00L, 0L, 0L)));
        Assert.That(eur.reconciliationMismatches, Is.EqualTo(new[] { "capture" }), "EUR captured, no EUR tender");
        Assert.That(rub.reconciliationMismatches, Is.EqualTo(new[] { "capture" }), "the RUB capture has no tender either (this order named none)");
        Assert.That(report.paymentsCapturesMinor, Is.EqualTo(1_000_00 + 7_00), "the day's own amount adds the currencies: read currencies for the split");
    }

    [Test]
    public void Duplicates_AreRecognisedWhileTheDayIsOpen_AndTheirTrackingIsDroppedAfterTheRetention()
    {
        using var f = new TopologyFixture(Settings);
        f.LoadPool();
        var id = f.IssuedCertificate(orderId: "order-1");
        f.Pipe(Topics.SalesOrders, "order-1", Inputs.Order(f, id, "order-1", Inputs.Pool, C.Channel.POS, "client-1", null, null, C.OrderStatus.PAID), T0.AddHours(1));
        Settle(f);
        Assert.That(Latest(f, Day, "POS").duplicateOrderRecordsCount, Is.EqualTo(1), "the same transaction again while the day is open");
        Assert.That(SeenEntries(f), Is.Not.Empty);

        // the day is final at 23:00 UTC; its tracking is kept for the retention (7 days by default) after that, then dropped
        var retention = Domain.Reporting.ReportSettings.DefaultDuplicateRetention;
        Tick(f, T0.AddHours(13) + retention - TimeSpan.FromMinutes(1));
        Assert.That(SeenEntries(f), Is.Not.Empty, "still inside the retention");
        Tick(f, T0.AddHours(13) + retention + TimeSpan.FromMinutes(1));
        Assert.That(SeenEntries(f), Is.Empty, "the day's records seen are dropped: the tracking is bounded");

        // a re-delivery after that is no longer recognised: applied as a correction (counted, visible), not silently lost
        f.Pipe(Topics.SalesOrders, "order-1", Inputs.Order(f, id, "order-1", Inputs.Pool, C.Channel.POS, "client-1", null, null, C.OrderStatus.PAID), T0.AddDays(9));
        Settle(f);
        var late = Latest(f, Day, "POS");
        Assert.That((late.duplicateOrderRecordsCount, late.ordersCertificatesCount), Is.EqualTo((1L, 2L)));
        Assert.That(late.correctionsCount, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public void ProduceFailed_AnInstancesProductionFailureFact_IsCountedAmongTheDaysAlertsByKind()
    {
        using var f = new TopologyFixture(Settings);
        var fact = ReportingTopology.ProductionFailureFact(TopologyFixture.AppId, new DateTimeOffset(T0.AddMinutes(5)));

        f.PipeInternal(fact.Topic, fact.Key!, fact.Value!); // what an API instance writes there
        Settle(f);

        Assert.That(fact.Topic, Is.EqualTo(ReportingTopology.FactsTopic(TopologyFixture.AppId, ReportingTopology.ApiWriter)));
        var control = Latest(f, Day, "UNKNOWN");
        Assert.That(control.alerts.Single(a => a.kind == "PRODUCE_FAILED").count, Is.EqualTo(1));
    }

    private static List<string> SeenEntries(TopologyFixture f) =>
        [.. f.StoreEntries(StoreNames.DailyReports).Select(e => e.Key).Where(k => k.StartsWith("seen/", StringComparison.Ordinal))];

    /// <summary>Reserves a minute before and pays at <paramref name="at"/> (order time and record time).</summary>
    private static void Issue(TopologyFixture f, string orderId, DateTime at)
    {
        var id = f.Reserve(orderId: orderId, at: at.AddMinutes(-1)).certificateId;
        f.Pipe(Topics.SalesOrders, orderId, Inputs.Order(f, id, orderId, Inputs.Pool, C.Channel.POS, "client-1", at, null, C.OrderStatus.PAID), at);
    }

    /// <summary>Moves the marts' stream time to <paramref name="at"/>: a record (undecodable, so dead-lettered and counted) written then.</summary>
    private static void Tick(TopologyFixture f, DateTime at)
    {
        f.PipeRaw(Topics.Payments.Name, "tick"u8.ToArray(), [0xFF], at);
        Settle(f);
    }

    /// <summary>Lets the records in flight reach the marts: the sync driver runs tasks in their creation order, and the marts come last.</summary>
    internal static void Settle(TopologyFixture f)
    {
        for (var i = 0; i < 4; i++)
        {
            f.Settle();
        }
    }

    private static List<Output<C.GiftCertificateEvent>> MismatchAlerts(TopologyFixture f) =>
        [.. f.All(Topics.Stream).Where(e => e.Value.payload is C.Alert { kind: C.AlertKind.RECONCILIATION_MISMATCH })];

    internal static C.DailyReport? Latest(TopologyFixture f, string day, string channel, bool orNull) =>
        f.All(Topics.DailyReport).Where(r => r.Key == ReportRecords.Key(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), channel))
            .Select(r => r.Value).LastOrDefault();

    internal static C.DailyReport Latest(TopologyFixture f, string day, string channel) =>
        Latest(f, day, channel, orNull: true)
        ?? throw new AssertionException($"no report {day}|{channel}; keys: {string.Join(", ", f.All(Topics.DailyReport).Select(r => r.Key).Distinct())}");
}
