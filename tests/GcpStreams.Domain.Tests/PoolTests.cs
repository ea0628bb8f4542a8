using GcpStreams.Domain.Pools;

namespace GcpStreams.Domain.Tests;

/// <summary>Pools: load, reserve-next (never the same certificate twice), low-watermark alert, empty -> issue.blocked.</summary>
public class PoolTests
{
    [Test]
    public void Load_GeneratesValidDistinctNumbersAndCreatesThePool()
    {
        var s = new PoolScenario();

        var loaded = (PoolLoaded)s.When(s.Load(100, lowWatermark: 10)).Single();

        Assert.That(loaded.Numbers, Has.Count.EqualTo(100));
        Assert.That(loaded.Numbers, Is.All.Matches<string>(CertificateNumber.IsValid));
        Assert.That(loaded.Numbers.Distinct().Count(), Is.EqualTo(100));
        Assert.That(loaded.FirstSlot, Is.Zero);
        Assert.That(loaded.AvailableAfter, Is.EqualTo(100));
        Assert.That(s.State!.Available, Is.EqualTo(100));
        Assert.That(s.State.Loaded, Is.EqualTo(100));
        Assert.That(s.State.LowWatermark, Is.EqualTo(10));
    }

    [Test]
    public void Load_AgainContinuesTheSeriesWithNewNumbers()
    {
        var s = PoolScenario.Loaded(50);

        var second = (PoolLoaded)s.When(s.Load(50)).Single();

        var first = ((PoolLoaded)s.History[0]).Numbers;
        Assert.That(second.FirstSlot, Is.EqualTo(50));
        Assert.That(first.Intersect(second.Numbers), Is.Empty);
        Assert.That(s.State!.Generated, Is.EqualTo(100));
        Assert.That(s.State.Available, Is.EqualTo(100));
    }

    [Test]
    public void Load_OfGeneratedNumbersWithoutASeries_IsRejected()
    {
        var s = new PoolScenario();

        AssertPoolRejected(s.When(s.Load(5) with { Series = null }), RejectionReason.InvalidAmount);
        Assert.That(s.State, Is.Null);
    }

    [Test]
    public void Load_OfImportedNumbers_UsesThemAsGiven()
    {
        var s = new PoolScenario();
        var numbers = new[] { CertificateNumber.Generate(PoolScenario.Settings.NumberingKey, 900, 1), CertificateNumber.Generate(PoolScenario.Settings.NumberingKey, 900, 2) };

        var loaded = (PoolLoaded)s.When(s.Load(0, imported: numbers)).Single();

        Assert.That(loaded.Numbers, Is.EqualTo(numbers));
        Assert.That(s.State!.Generated, Is.Zero);
    }

    [Test]
    public void Load_OfInvalidOrRepeatedImportedNumbers_IsRejected()
    {
        var s = new PoolScenario();
        var good = CertificateNumber.Generate(PoolScenario.Settings.NumberingKey, 900, 1);

        AssertPoolRejected(s.When(s.Load(0, imported: ["7712345678901234"])), RejectionReason.InvalidAmount);
        AssertPoolRejected(s.When(s.Load(0, imported: [good, good])), RejectionReason.AlreadyExists);
        Assert.That(s.State, Is.Null);
    }

    [TestCase(0)]
    [TestCase(1_001)]
    public void Load_OfTooFewOrTooManyCertificates_IsRejected(int count) =>
        AssertPoolRejected(new PoolScenario().When(new PoolScenario().Load(count)), RejectionReason.InvalidAmount);

    [Test]
    public void Load_ForAnotherChannelOrNominal_IsRejected()
    {
        var s = PoolScenario.Loaded(5);

        AssertPoolRejected(s.When(s.Load(5, channel: Channel.InternetStore)), RejectionReason.PoolMismatch);
        AssertPoolRejected(s.When(s.Load(5, nominal: 1)), RejectionReason.PoolMismatch);
    }

    [Test]
    public void Reservation_HandsOutCertificatesFirstInFirstOut()
    {
        var s = PoolScenario.Loaded(3);
        var numbers = ((PoolLoaded)s.History[0]).Numbers;

        var reserved = (PoolCertificateReserved)s.When(s.Reserve(holdFor: TimeSpan.FromMinutes(20))).Single();

        Assert.That(reserved.CertificateId, Is.EqualTo(numbers[0]));
        Assert.That(reserved.Slot, Is.Zero);
        Assert.That(reserved.ReservedUntil, Is.EqualTo(s.Now + TimeSpan.FromMinutes(20)));
        Assert.That(reserved.AvailableAfter, Is.EqualTo(2));
        Assert.That(s.ReserveOne(), Is.EqualTo(numbers[1]));
        Assert.That(s.State!.Reserved, Is.EqualTo(2));
    }

    [Test]
    public void EmptyPool_BlocksIssueAndRaisesAnAlert()
    {
        var s = PoolScenario.Loaded(1);
        s.ReserveOne();

        var events = s.When(s.Reserve());

        var blocked = (IssueBlocked)events[0];
        Assert.That(blocked.Reason, Is.EqualTo(RejectionReason.PoolEmpty));
        Assert.That(blocked.EventType, Is.EqualTo("issue.blocked"));
        var alert = (PoolAlert)events[1];
        Assert.That(alert.Kind, Is.EqualTo(AlertKind.PoolEmpty));
        Assert.That(alert.Severity, Is.EqualTo(AlertSeverity.Critical));
        Assert.That(s.State!.Head, Is.EqualTo(1), "nothing was taken");
    }

    [Test]
    public void ShortageOfCertificates_CrossingTheLowWatermarkRaisesPoolLowOnce()
    {
        var s = PoolScenario.Loaded(5, lowWatermark: 3);

        var alerts = Enumerable.Range(0, 5).Select(_ => s.When(s.Reserve())).Select(e => e.OfType<PoolAlert>().ToList()).ToList();

        Assert.That(alerts.Select(a => a.Count), Is.EqualTo(new[] { 0, 0, 1, 0, 0 }), "2 left < 3 happens at the third reservation");
        Assert.That(alerts[2][0].Kind, Is.EqualTo(AlertKind.PoolLow));
        Assert.That(s.When(s.Reserve())[0], Is.TypeOf<IssueBlocked>());
    }

    [Test]
    public void Reservation_FromAPoolNeverLoaded_IsRefusedAsNotFoundAndBlocksNothing()
    {
        var s = new PoolScenario();

        var refused = s.When(s.Reserve()).Single();

        Assert.That(refused, Is.TypeOf<PoolOperationRejected>(), "not an issue.blocked: nothing was blocked, the pool does not exist");
        Assert.That(((PoolOperationRejected)refused).Reason, Is.EqualTo(RejectionReason.NotFound));
        Assert.That(s.State, Is.Null, "nothing is created");
    }

    [Test]
    public void CancelledOrder_ReleasesItsReservationToThePoolAtOnce()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne(orderId: "order-1");

        var released = (ReservationReleased)s.When(s.Release(id, "order-1")).Single();

        Assert.That((released.CertificateId, released.OrderId, released.AvailableAfter), Is.EqualTo((id, "order-1", 2L)));
        Assert.That((s.State!.Reserved, s.State.Available), Is.EqualTo((0L, 2L)));
        Assert.That(s.ReservationOf(PoolScenario.Id, id), Is.Null);
        Assert.That(s.When(s.Release(id, "order-1")), Is.Empty, "released already: nothing more");
        s.Now = s.Now.AddHours(1);
        Assert.That(s.When(s.Expire(id)), Is.Empty, "the reservation's timer finds nothing to expire");
    }

    [Test]
    public void Release_OfAReservationMadeWithoutAnOrder_ReleasesIt()
    {
        var s = PoolScenario.Loaded(1);
        var id = s.ReserveOne();

        Assert.That(s.When(s.Release(id, "order-5")).Single(), Is.TypeOf<ReservationReleased>());
    }

    [Test]
    public void Release_ByAnotherOrderThanTheReservations_IsRejected()
    {
        var s = PoolScenario.Loaded(1);
        var id = s.ReserveOne(orderId: "order-1");

        var refused = (PoolOperationRejected)s.When(s.Release(id, "order-2")).Single();

        Assert.That((refused.Reason, refused.CertificateId), Is.EqualTo((RejectionReason.OrderMismatch, id)));
        Assert.That(s.State!.Reserved, Is.EqualTo(1));
    }

    [Test]
    public void Release_OfAnIssuedCertificate_DoesNothing()
    {
        var s = PoolScenario.Loaded(1);
        var id = s.ReserveOne(orderId: "order-1");
        s.When(s.Issue(id));

        Assert.That(s.When(s.Release(id, "order-1")), Is.Empty, "a paid order's return cancels the certificate in its ledger instead");
        Assert.That(s.State!.Issued, Is.EqualTo(1));
    }

    [Test]
    public void CertificateSequence_RunsOnAcrossReservationsExpiriesAndReleases()
    {
        var s = PoolScenario.Loaded(1);
        var first = (PoolCertificateReserved)s.When(s.Reserve(orderId: "order-1"))[0];
        s.Now = s.Now.AddHours(1);
        var expired = (ReservationExpired)s.When(s.Expire(first.CertificateId)).Single();
        var second = (PoolCertificateReserved)s.When(s.Reserve(orderId: "order-2"))[0];
        var released = (ReservationReleased)s.When(s.Release(second.CertificateId, "order-2")).Single();
        var third = (PoolCertificateReserved)s.When(s.Reserve(orderId: "order-3"))[0];
        var issued = (ReservationIssued)s.When(s.Issue(third.CertificateId, orderId: "order-3")).Single();

        Assert.That(new[] { first.CertificateSequence, expired.CertificateSequence, second.CertificateSequence, released.CertificateSequence, third.CertificateSequence },
            Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }), "one certificate, numbered without a gap");
        Assert.That(issued.CertificateSequence, Is.EqualTo(5), "its ledger's certificate.issued will be number 6");
    }

    [Test]
    public void PoolSequence_CountsThePoolsOwnEventsAndVersionEveryChange()
    {
        var s = PoolScenario.Loaded(1);
        s.ReserveOne();
        s.When(s.Reserve());
        s.When(s.Reserve(channel: Channel.MobileApp));

        Assert.That(s.State!.Sequence, Is.EqualTo(2), "pool.loaded and issue.blocked; the reservation is the certificate's, the rejection takes none");
        Assert.That(s.State.Version, Is.EqualTo(3), "load, reservation, blocked");
        Assert.That(s.State.IssueBlocked, Is.EqualTo(1));
    }

    [Test]
    public void Reservation_ForAnotherChannelThanThePool_IsRejected()
    {
        var s = PoolScenario.Loaded(3);

        AssertPoolRejected(s.When(s.Reserve(channel: Channel.MobileApp)), RejectionReason.PoolMismatch);
        Assert.That(s.State!.Available, Is.EqualTo(3));
    }

    [Test]
    public void Reservation_WithoutAHoldTime_IsRejected()
    {
        var s = PoolScenario.Loaded(3);

        AssertPoolRejected(s.When(s.Reserve(holdFor: TimeSpan.Zero)), RejectionReason.InvalidAmount);
    }

    [Test]
    public void NormalIssue_OfAReservedCertificate_HandsItToTheLedgerWithThePoolsIdentity()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();

        var issued = (ReservationIssued)s.When(s.Issue(id)).Single();

        Assert.That(issued, Is.EqualTo(new ReservationIssued(PoolScenario.Id, issued.CausationId, s.Now, id, "order-1", "client-1", ContactChannel.Email, Channel.Pos, CertificateScenario.Nominal, CertificateScenario.Rub,
            CertificateSequence: 1)), "the certificate had one event in its pool (certificate.reserved): its ledger goes on from there");
        Assert.That(s.State!.Reserved, Is.Zero);
        Assert.That(s.State.Issued, Is.EqualTo(1));
        Assert.That(s.ReservationOf(PoolScenario.Id, id)!.IssuedToOrder, Is.EqualTo("order-1"));
    }

    [Test]
    public void Issue_OfACertificateThatWasNeverReserved_IsRejected()
    {
        var s = PoolScenario.Loaded(2);

        AssertIssueRejected(s.When(s.Issue("7700000000000018")), RejectionReason.NotReserved);
        AssertIssueRejected(new PoolScenario().When(s.Issue("7700000000000018")), RejectionReason.NotReserved);
    }

    [Test]
    public void Issue_RepeatedForTheSameOrder_ChangesNothingAndSaysItWasADuplicate()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();
        var paid = s.Issue(id);
        s.When(paid);

        foreach (var again in new[] { paid, s.Issue(id) }) // the same order event delivered again, and the order re-sent under a new event id
        {
            var alert = (PoolAlert)s.When(again).Single();
            Assert.That((alert.Kind, alert.Severity, alert.CertificateId), Is.EqualTo((AlertKind.DuplicateEvent, AlertSeverity.Info, id)));
        }

        Assert.That(s.State!.Issued, Is.EqualTo(1));
    }

    [Test]
    public void Issue_OfASoldCertificateByAnotherOrder_IsRejectedWithACriticalAlert()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();
        s.When(s.Issue(id, orderId: "order-1"));

        var events = s.When(s.Issue(id, orderId: "order-2"));

        AssertIssueRejected(events, RejectionReason.AlreadyExists);
        Assert.That(((PoolAlert)events[1]).Severity, Is.EqualTo(AlertSeverity.Critical));
        Assert.That(((PoolAlert)events[1]).CertificateId, Is.EqualTo(id));
    }

    [Test]
    public void Issue_ForAnotherOrderThanTheReservation_IsRejected()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne(orderId: "order-1");

        AssertIssueRejected(s.When(s.Issue(id, orderId: "order-2")), RejectionReason.OrderMismatch);
        Assert.That(s.When(s.Issue(id, orderId: "order-1")).Single(), Is.TypeOf<ReservationIssued>());
    }

    [Test]
    public void Issue_FromAnotherChannel_IsRejectedWithAnAlert()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();

        var events = s.When(s.Issue(id, channel: Channel.InternetStore));

        AssertIssueRejected(events, RejectionReason.ChannelMismatch);
        Assert.That(((PoolAlert)events[1]).Kind, Is.EqualTo(AlertKind.ChannelMismatch));
    }

    [Test]
    public void Issue_InAnotherCurrencyOrNominal_IsRejected()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();

        AssertIssueRejected(s.When(s.Issue(id, currency: "EUR")), RejectionReason.CurrencyMismatch);
        AssertIssueRejected(s.When(s.Issue(id, nominal: 1_000_00)), RejectionReason.NominalMismatch);
    }

    [Test]
    public void ReservationExpiry_ReturnsAnUnissuedCertificateToThePoolTail()
    {
        var s = PoolScenario.Loaded(2);
        var first = s.ReserveOne();
        s.Now += TimeSpan.FromMinutes(29);
        Assert.That(s.When(s.Expire(first)), Is.Empty, "not due yet");
        s.Now += TimeSpan.FromMinutes(1);

        var expired = (ReservationExpired)s.When(s.Expire(first)).Single();

        Assert.That(expired.Slot, Is.EqualTo(2));
        Assert.That(expired.AvailableAfter, Is.EqualTo(2));
        Assert.That(expired.ReservedUntil, Is.EqualTo(CertificateScenario.Start + TimeSpan.FromMinutes(30)));
        Assert.That(s.State!.Reserved, Is.Zero);
        Assert.That(s.When(s.Expire(first)), Is.Empty, "expired already");
        AssertIssueRejected(s.When(s.Issue(first)), RejectionReason.NotReserved);
        s.ReserveOne();
        Assert.That(s.ReserveOne(), Is.EqualTo(first), "handed out again only after the one before it");
    }

    [Test]
    public void ReservationExpiry_OfAnIssuedCertificate_DoesNothing()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();
        s.When(s.Issue(id));
        s.Now += TimeSpan.FromDays(1);

        Assert.That(s.When(s.Expire(id)), Is.Empty);
    }

    [Test]
    public void Issue_AfterTheReservationEnded_IsRejectedEvenBeforeTheTimerFires()
    {
        var s = PoolScenario.Loaded(2);
        var id = s.ReserveOne();
        s.Now += TimeSpan.FromMinutes(31);

        AssertIssueRejected(s.When(s.Issue(id)), RejectionReason.ReservationExpired);
    }

    [Test]
    public void IdempotentRetry_WithTheSameKeyAndRequest_GetsTheSameCertificateAndTakesNothingMore()
    {
        var s = PoolScenario.Loaded(3);
        var first = (PoolCertificateReserved)s.When(s.Reserve() with { IdempotencyKey = "pos-7:abc", RequestFingerprint = "f1" })[0];

        var retry = s.When(s.Reserve() with { IdempotencyKey = "pos-7:abc", RequestFingerprint = "f1" });

        var replayed = (ReservationReplayed)retry.Single();
        Assert.That((replayed.CertificateId, replayed.OriginalRequestId, replayed.ReservedUntil), Is.EqualTo((first.CertificateId, first.RequestId, first.ReservedUntil)));
        Assert.That(s.State!.Available, Is.EqualTo(2));
        Assert.That(s.State.Reserved, Is.EqualTo(1));
    }

    [Test]
    public void IdempotencyKey_ReusedForAnotherRequest_IsRefused()
    {
        var s = PoolScenario.Loaded(3);
        s.When(s.Reserve() with { IdempotencyKey = "pos-7:abc", RequestFingerprint = "f1" });

        AssertPoolRejected(s.When(s.Reserve() with { IdempotencyKey = "pos-7:abc", RequestFingerprint = "f2" }), RejectionReason.IdempotencyConflict);
        Assert.That(s.State!.Available, Is.EqualTo(2));
    }

    [Test]
    public void IdempotentRetry_OfAnEmptiedPool_StillGetsItsCertificate()
    {
        var s = PoolScenario.Loaded(1);
        var first = (PoolCertificateReserved)s.When(s.Reserve() with { IdempotencyKey = "k", RequestFingerprint = "f" })[0];

        Assert.That(((ReservationReplayed)s.When(s.Reserve() with { IdempotencyKey = "k", RequestFingerprint = "f" }).Single()).CertificateId, Is.EqualTo(first.CertificateId));
    }

    [Test]
    public void IdempotentLoadRetry_WithTheSameKeyAndRequest_AddsNothingAndAnswersTheFirstLoad()
    {
        var s = PoolScenario.Loaded(3);
        var first = (PoolLoaded)s.When(s.Load(4) with { IdempotencyKey = "admin:load-1", RequestFingerprint = "f1" })[0];

        var replayed = (PoolLoadReplayed)s.When(s.Load(4) with { IdempotencyKey = "admin:load-1", RequestFingerprint = "f1" }).Single();

        Assert.That((replayed.OriginalRequestId, replayed.FirstSlot, replayed.Count), Is.EqualTo((first.CausationId, first.FirstSlot, 4)));
        Assert.That((s.State!.Available, s.State.Loaded), Is.EqualTo((7L, 7L)));
    }

    [Test]
    public void IdempotencyKey_ReusedForAnotherLoad_IsRefused()
    {
        var s = PoolScenario.Loaded(3);
        s.When(s.Load(4) with { IdempotencyKey = "admin:load-1", RequestFingerprint = "f1" });

        AssertPoolRejected(s.When(s.Load(5) with { IdempotencyKey = "admin:load-1", RequestFingerprint = "f2" }), RejectionReason.IdempotencyConflict);
        Assert.That(s.State!.Available, Is.EqualTo(7));
    }

    [Test]
    public void LoadKeys_AndReservationKeys_AreSeparate()
    {
        var s = PoolScenario.Loaded(3);
        s.When(s.Reserve() with { IdempotencyKey = "k", RequestFingerprint = "reserve" });

        Assert.That(s.When(s.Load(2) with { IdempotencyKey = "k", RequestFingerprint = "load" }).Single(), Is.TypeOf<PoolLoaded>());
    }

    [Test]
    public void DuplicateReserveCommand_HandsOutNothingMore()
    {
        var s = PoolScenario.Loaded(3);
        var reserve = s.Reserve();
        s.When(reserve);

        Assert.That(s.When(reserve), Is.Empty);
        Assert.That(s.State!.Available, Is.EqualTo(2));
    }

    private static void AssertIssueRejected(IReadOnlyList<PoolEvent> events, RejectionReason reason)
    {
        Assert.That(events[0], Is.TypeOf<PoolOperationRejected>(), () => string.Join(", ", events));
        var rejected = (PoolOperationRejected)events[0];
        Assert.That(rejected.Reason, Is.EqualTo(reason), () => rejected.Message);
        Assert.That(rejected.Operation, Is.EqualTo("issue"));
        Assert.That(rejected.CertificateId, Is.Not.Null);
    }

    [Test]
    public void Reserve_BeyondTheClientsOpenReservationCap_IsRefused_WhileOtherClientsStillReserve()
    {
        var s = PoolScenario.Loaded(10);
        for (var i = 0; i < PoolScenario.Settings.MaxOpenReservationsPerCaller; i++)
        {
            Assert.That(s.When(s.Reserve(caller: "pos-terminal"))[0], Is.TypeOf<PoolCertificateReserved>());
        }

        var refused = s.When(s.Reserve(caller: "pos-terminal"));

        AssertPoolRejected(refused, RejectionReason.ReservationLimit);
        Assert.That(((PoolOperationRejected)refused[0]).Message, Does.Contain("pos-terminal").And.Contain("3 open reservations"));
        Assert.That(s.When(s.Reserve(caller: "internet-store"))[0], Is.TypeOf<PoolCertificateReserved>());
        Assert.That(s.State!.Available, Is.EqualTo(6));
    }

    [Test]
    public void ClientsOpenReservationCap_IsFreedByIssueExpiryAndRelease()
    {
        var s = PoolScenario.Loaded(10);
        var held = Enumerable.Range(0, 3).Select(i => ((PoolCertificateReserved)s.When(s.Reserve(caller: "web", orderId: $"order-{i}"))[0]).CertificateId).ToList();
        AssertPoolRejected(s.When(s.Reserve(caller: "web")), RejectionReason.ReservationLimit);

        s.When(s.Issue(held[0], orderId: "order-0"));
        Assert.That(s.When(s.Reserve(caller: "web"))[0], Is.TypeOf<PoolCertificateReserved>(), "an issued reservation is no longer open");

        s.When(s.Release(held[1], "order-1"));
        Assert.That(s.When(s.Reserve(caller: "web"))[0], Is.TypeOf<PoolCertificateReserved>(), "a released reservation is no longer open");

        s.Now += TimeSpan.FromMinutes(31);
        s.When(s.Expire(held[2]));
        Assert.That(s.When(s.Reserve(caller: "web"))[0], Is.TypeOf<PoolCertificateReserved>(), "an expired reservation is no longer open");
        AssertPoolRejected(s.When(s.Reserve(caller: "web")), RejectionReason.ReservationLimit);
    }

    [Test]
    public void IdempotentRetry_AtTheClientsCap_StillGetsItsCertificate()
    {
        var s = PoolScenario.Loaded(10);
        var first = (PoolCertificateReserved)s.When(s.Reserve(caller: "web") with { IdempotencyKey = "web:k", RequestFingerprint = "f" })[0];
        s.When(s.Reserve(caller: "web"));
        s.When(s.Reserve(caller: "web"));

        var replayed = s.When(s.Reserve(caller: "web") with { IdempotencyKey = "web:k", RequestFingerprint = "f" }).Single();

        Assert.That(((ReservationReplayed)replayed).CertificateId, Is.EqualTo(first.CertificateId));
    }

    [Test]
    public void Reserve_LongerThanTheLongestHold_IsRefused_HoweverTheCommandWasWritten()
    {
        var s = PoolScenario.Loaded(3);

        AssertPoolRejected(s.When(s.Reserve(holdFor: PoolSettings.DefaultMaxHold + TimeSpan.FromSeconds(1))), RejectionReason.InvalidAmount);
        AssertPoolRejected(s.When(s.Reserve(holdFor: TimeSpan.FromDays(1))), RejectionReason.InvalidAmount);
        Assert.That(s.When(s.Reserve(holdFor: PoolSettings.DefaultMaxHold))[0], Is.TypeOf<PoolCertificateReserved>());
        Assert.That(s.State!.Available, Is.EqualTo(2));
    }

    private static void AssertPoolRejected(IReadOnlyList<PoolEvent> events, RejectionReason reason)
    {
        Assert.That(events.Single(), Is.TypeOf<PoolOperationRejected>(), () => string.Join(", ", events));
        Assert.That(((PoolOperationRejected)events[0]).Reason, Is.EqualTo(reason), () => ((PoolOperationRejected)events[0]).Message);
    }
}
