using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>Pools: running low, running empty, reservations that expire and come back.</summary>
public class PoolTopologyTests
{
    [Test]
    public void ShortageAndEmptyPool_AlertAtTheLowWatermarkThenBlockTheIssueWithAnAlert()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3, lowWatermark: 2);
        f.Drain();

        var first = f.Reserve(orderId: "order-1");
        var afterFirst = f.Events();
        Assert.That(afterFirst.Types(), Is.EqualTo(new[] { "certificate.reserved" }), "3 -> 2 left: not below the low-watermark yet");

        var second = f.Reserve(orderId: "order-2");
        var afterSecond = f.Events();
        Assert.That(afterSecond.Types(), Is.EqualTo(new[] { "certificate.reserved", "alert" }));
        Assert.That(afterSecond[0].Payload<C.CertificateReserved>().availableAfter, Is.EqualTo(1));
        var low = afterSecond.Alert();
        Assert.That((low.kind, low.severity), Is.EqualTo((C.AlertKind.POOL_LOW, C.AlertSeverity.WARNING)));
        Assert.That(afterSecond[1].Key, Is.EqualTo(Inputs.Pool), "a pool alert is keyed by the pool");
        Assert.That(afterSecond[1].Value.poolId, Is.EqualTo(Inputs.Pool));

        var third = f.Reserve(orderId: "order-3");
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "certificate.reserved" }), "the pool_low alert is raised once, when crossing");
        Assert.That(new[] { first, second, third }.Select(r => r.outcome), Is.All.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(new[] { first, second, third }.Select(r => r.certificateId).Distinct().Count(), Is.EqualTo(3));
        Assert.That(f.States().Select(s => (s.Key, s.Value.status)),
            Is.EqualTo(new[] { first, second, third }.Select(r => ((string?)r.certificateId, C.CertificateStatus.RESERVED))));

        var blocked = f.Reserve(orderId: "order-4");

        Assert.That(blocked.outcome, Is.EqualTo(C.ReplyOutcome.REJECTED));
        Assert.That(blocked.reason, Is.EqualTo("POOL_EMPTY"));
        Assert.That(blocked.certificateId, Is.Null);
        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "issue.blocked", "alert" }));
        Assert.That(events.Select(e => e.Key), Is.All.EqualTo(Inputs.Pool));
        var issueBlocked = events[0].Payload<C.IssueBlocked>();
        Assert.That((issueBlocked.requestId, issueBlocked.orderId, issueBlocked.nominalMinor), Is.EqualTo((blocked.requestId, "order-4", Inputs.Nominal)));
        Assert.That(events[0].Headers["event-type"], Is.EqualTo("issue.blocked"));
        var empty = events.Alert();
        Assert.That((empty.kind, empty.severity), Is.EqualTo((C.AlertKind.POOL_EMPTY, C.AlertSeverity.CRITICAL)));
        Assert.That(f.States(), Is.Empty);

        // a new load ends the shortage: the next reservation is served from it
        f.LoadPool(count: 1);
        Assert.That(f.Events().Single().Payload<C.PoolLoaded>().availableAfter, Is.EqualTo(1));
        Assert.That(f.Reserve(orderId: "order-4").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
    }

    [Test]
    public void PhantomPools_ReservationsFromThousandsOfUnknownPools_AreRefusedAndCreateNothing()
    {
        using var f = new TopologyFixture();
        var random = new Random(9);

        for (var i = 0; i < 2_000; i++)
        {
            var reply = f.Reserve(poolId: $"pool-{random.Next():x8}-{i}");
            Assert.That((reply.outcome, reply.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "NOT_FOUND")));
        }

        Assert.That(f.Events(), Is.Empty, "no issue.blocked, no rejection, no alert: nothing names a pool that does not exist");
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.StoreEntries(StoreNames.Pools), Is.Empty, "nothing is stored for an unknown pool");
    }

    [Test]
    public void ReservationExpiry_ReturnsTheCertificateToThePoolBehindTheOthers()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        f.Drain();
        // Streamiz's processing-time punctuation starts from the real clock (DateTime.Now); a reservation made a day ago
        // for a minute is due whatever the clock says, and none other is
        var reservedAt = DateTime.UtcNow.AddDays(-1);
        var expiring = f.Reserve(orderId: "order-late", holdSeconds: 60, at: reservedAt);
        var id = expiring.certificateId;
        f.Drain();

        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.ReservationSweepInterval * 2);

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "certificate.reservation_expired" }));
        Assert.That(events[0].Key, Is.EqualTo(id));
        var expired = events[0].Payload<C.CertificateReservationExpired>();
        Assert.That(expired.availableAfter, Is.EqualTo(3));
        Assert.That(expired.reservedUntil, Is.EqualTo(expiring.reservedUntil));
        Assert.That(expired.reservedUntil, Is.EqualTo(TruncateToMillis(reservedAt.AddSeconds(60))));
        var state = f.States().Single();
        Assert.That((state.Key, state.Value.status), Is.EqualTo(((string?)id, C.CertificateStatus.AVAILABLE)));

        // the sweep is done with it: another sweep finds nothing
        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.ReservationSweepInterval * 2);
        Assert.That(f.Events(), Is.Empty);

        // it went back to the tail: the two never handed out come first, then it is handed out again
        var next = new[] { f.Reserve(orderId: "order-a"), f.Reserve(orderId: "order-b"), f.Reserve(orderId: "order-c") };
        Assert.That(next.Select(r => r.outcome), Is.All.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(next.Select(r => r.certificateId).Take(2), Has.None.EqualTo(id));
        Assert.That(next[2].certificateId, Is.EqualTo(id));
        Assert.That(next.Select(r => r.certificateId).Distinct().Count(), Is.EqualTo(3));
        Assert.That(f.Reserve(orderId: "order-d").reason, Is.EqualTo("POOL_EMPTY"));
    }

    [Test]
    public void ReservationExpiry_SeveralDueInOneSweep_ReturnInDeadlineOrderAndAnIssuedOneStays()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 4);
        var dayAgo = DateTime.UtcNow.AddDays(-1);
        var longer = f.Reserve(orderId: "order-a", holdSeconds: 120, at: dayAgo).certificateId;
        var shorter = f.Reserve(orderId: "order-b", holdSeconds: 30, at: dayAgo).certificateId;
        var paid = f.Reserve(orderId: "order-c", holdSeconds: 60, at: dayAgo).certificateId;
        f.Drain();
        f.PayOrder(paid, "order-c", at: dayAgo.AddSeconds(10)); // issued in time: its deadline no longer matters
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "certificate.issued", "notification.requested" }));
        f.Drain();

        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.ReservationSweepInterval * 2);

        var events = f.Events();
        Assert.That(events.Select(e => (e.Value.eventType, e.Key)), Is.EqualTo(new[]
        {
            ("certificate.reservation_expired", (string?)shorter),
            ("certificate.reservation_expired", (string?)longer),
        }));
        Assert.That(events.Select(e => e.Payload<C.CertificateReservationExpired>().availableAfter), Is.EqualTo(new[] { 2L, 3L }));
        Assert.That(f.States().Select(s => (s.Key, s.Value.status)), Is.EqualTo(new[]
        {
            ((string?)shorter, C.CertificateStatus.AVAILABLE),
            ((string?)longer, C.CertificateStatus.AVAILABLE),
        }));

        var next = new[] { f.Reserve(orderId: "order-d"), f.Reserve(orderId: "order-e"), f.Reserve(orderId: "order-f") }.Select(r => r.certificateId).ToList();
        Assert.That(next.Skip(1), Is.EqualTo(new[] { shorter, longer }), "returned ones queue behind the never-reserved one, in the order they came back");
        Assert.That(next[0], Is.Not.AnyOf(shorter, longer, paid));
        Assert.That(f.StoreEntries(StoreNames.Certificates).Select(e => e.Key).Where(k => !k.StartsWith("n/", StringComparison.Ordinal)), Is.EqualTo(new[] { paid }),
            "only the ledger of the paid one (and its notification's SLA timer)");
    }

    [Test]
    public void OrderPaidAfterItsReservationExpired_IsRejectedAndNotIssued()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 2);
        var id = f.Reserve(orderId: "order-1", holdSeconds: 60).certificateId;
        f.Drain();

        // paid five minutes after a one-minute hold, before any sweep ran
        f.PayOrder(id, "order-1", at: TopologyFixture.T0.AddMinutes(5));

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected" }));
        Assert.That(events[0].Key, Is.EqualTo(id));
        var rejected = events.Rejection();
        Assert.That((rejected.reason, rejected.operation), Is.EqualTo((C.RejectionReason.RESERVATION_EXPIRED, "issue")));
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.StoreEntries(StoreNames.Certificates), Is.Empty, "no ledger was opened");

        // the certificate cannot be spent: it was never issued
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.NOT_FOUND));
    }

    [Test]
    public void OrderPaidAfterItsReservationExpired_AndWasSwept_IsRejectedAsNotReserved()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 2);
        var reservedAt = DateTime.UtcNow.AddDays(-1);
        var id = f.Reserve(orderId: "order-1", holdSeconds: 60, at: reservedAt).certificateId;
        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.ReservationSweepInterval * 2);
        Assert.That(f.Events().Types(), Does.Contain("certificate.reservation_expired"));

        f.PayOrder(id, "order-1", at: reservedAt.AddMinutes(5));

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected" }));
        Assert.That(events.Rejection().reason, Is.EqualTo(C.RejectionReason.NOT_RESERVED));
        Assert.That(f.StoreEntries(StoreNames.Certificates), Is.Empty);
    }

    private static DateTime TruncateToMillis(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    [Test]
    public void IdempotentReservation_SameKeyAndBodyGetTheSameCertificate_AnotherBodyIsRejected()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        f.Drain();
        C.ReserveCertificate Body(string orderId) => new() { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, orderId = orderId, holdSeconds = 900 };

        var first = f.Replies(f.Command(Inputs.Pool, Body("order-1"), idempotencyKey: "key-1"));
        var retry = f.Replies(f.Command(Inputs.Pool, Body("order-1"), idempotencyKey: "key-1"));
        var conflict = f.Replies(f.Command(Inputs.Pool, Body("order-2"), idempotencyKey: "key-1"));

        Assert.That(first.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That((retry.outcome, retry.certificateId, retry.reservedUntil, retry.replayed, retry.eventId), Is.EqualTo((C.ReplyOutcome.ACCEPTED, first.certificateId, first.reservedUntil, true, first.eventId)));
        Assert.That(first.replayed, Is.False);
        Assert.That((conflict.outcome, conflict.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "IDEMPOTENCY_CONFLICT")));
        Assert.That(f.Events().Where(e => e.Value.eventType == "certificate.reserved").Select(e => e.Key), Is.EqualTo(new[] { first.certificateId }), "one reservation on the stream");
    }

    [Test]
    public void IdempotencyKey_ReusedForAnotherPool_IsRejectedAndReservesNothing()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        f.LoadPool(Inputs.WebPool, C.Channel.INTERNET_STORE, count: 3, series: 2);
        f.Drain();
        C.ReserveCertificate Body(string poolId, C.Channel channel) => new() { poolId = poolId, channel = channel, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, holdSeconds = 900 };

        var first = f.Replies(f.Command(Inputs.Pool, Body(Inputs.Pool, C.Channel.POS), idempotencyKey: "key-1"));
        var elsewhere = f.Replies(f.Command(Inputs.WebPool, Body(Inputs.WebPool, C.Channel.INTERNET_STORE), idempotencyKey: "key-1"));
        var retry = f.Replies(f.Command(Inputs.Pool, Body(Inputs.Pool, C.Channel.POS), idempotencyKey: "key-1"));

        Assert.That(first.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That((elsewhere.outcome, elsewhere.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "IDEMPOTENCY_CONFLICT")), "the key's scope is (client, key) across every pool");
        Assert.That(elsewhere.message, Does.Contain(Inputs.Pool));
        Assert.That((retry.replayed, retry.certificateId), Is.EqualTo((true, first.certificateId)));
        Assert.That(f.Events().Where(e => e.Value.eventType == "certificate.reserved").Select(e => e.Key), Is.EqualTo(new[] { first.certificateId }), "one reservation in all");
    }

    [Test]
    public void IdempotencyKey_OnACommandNotKeyedByIt_IsDeadLetteredAndRefused()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        f.Drain();
        var body = new C.ReserveCertificate { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, holdSeconds = 900 };

        var reply = f.Replies(f.Command(Inputs.Pool, body, idempotencyKey: "key-9", recordKey: Inputs.Pool));

        Assert.That((reply.outcome, reply.message), Is.EqualTo((C.ReplyOutcome.REJECTED, $"a command with an Idempotency-Key must be keyed by '{{caller}}:{{key}}' ('{Inputs.Caller}:key-9'), not '{Inputs.Pool}'")),
            "every use of a key must meet in the partition that keeps its claim, or one key could reserve in two pools");
        Assert.That(f.DeadLetters().Single().Value.reason, Is.EqualTo(C.DeadLetterReason.INVALID_CONTENT));
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "alert" }), "only the INVALID_EVENT alert: nothing reserved");
    }

    [Test]
    public void IdempotencyKey_OfAReservationReusedForALoad_IsRejected()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        f.Drain();
        var reserve = new C.ReserveCertificate { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, holdSeconds = 900 };
        var load = new C.LoadPool { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, count = 2, series = 1, importedNumbers = [] };

        Assert.That(f.Replies(f.Command(Inputs.Pool, reserve, idempotencyKey: "key-7")).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        var conflict = f.Replies(f.Command(Inputs.Pool, load, idempotencyKey: "key-7"));

        Assert.That(conflict.reason, Is.EqualTo("IDEMPOTENCY_CONFLICT"));
        Assert.That(f.Events().Types(), Does.Not.Contain("pool.loaded"));
    }

    [Test]
    public void IdempotentLoad_SameKeyAndBodyLoadsOnce_AnotherBodyIsRejected()
    {
        using var f = new TopologyFixture();
        C.LoadPool Body(int count) => new() { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, count = count, lowWatermark = 0, series = 4, importedNumbers = [] };

        var first = f.Replies(f.Command(Inputs.Pool, Body(3), idempotencyKey: "load-1"));
        var retry = f.Replies(f.Command(Inputs.Pool, Body(3), idempotencyKey: "load-1"));
        var conflict = f.Replies(f.Command(Inputs.Pool, Body(4), idempotencyKey: "load-1"));

        Assert.That((first.outcome, first.replayed), Is.EqualTo((C.ReplyOutcome.ACCEPTED, false)));
        Assert.That((retry.outcome, retry.replayed, retry.eventId), Is.EqualTo((C.ReplyOutcome.ACCEPTED, true, first.eventId)), "a replay names the first load's event");
        Assert.That((conflict.outcome, conflict.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "IDEMPOTENCY_CONFLICT")));
        var loads = f.Events().Where(e => e.Value.eventType == "pool.loaded").ToList();
        Assert.That(loads.Select(e => e.Value.eventId), Is.EqualTo(new[] { first.eventId }), "one load on the stream");
        Assert.That(((C.PoolLoaded)loads[0].Value.payload).series, Is.EqualTo(4), "the event names the pool's series");
    }

    [Test]
    public void IdempotencyKeys_AreForgottenAfterTheirRetention_ThenTheSameKeyIsANewRequest()
    {
        // a reservation held past the key's retention (longer than the default longest hold allows)
        using var f = new TopologyFixture(TopologyFixture.Settings with { MaxReservationHold = TimeSpan.FromDays(8) });
        f.LoadPool(count: 3);
        f.Drain();
        var body = new C.ReserveCertificate { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, orderId = "order-r", holdSeconds = 86_400 * 7 };
        var longAgo = DateTime.UtcNow - TopologyFixture.Settings.IdempotencyKeyRetention - TimeSpan.FromHours(1);

        var first = f.Replies(f.Command(Inputs.Pool, body, at: longAgo, idempotencyKey: "key-old"));
        var retryBeforeSweep = f.Replies(f.Command(Inputs.Pool, body, at: longAgo, idempotencyKey: "key-old"));
        Assert.That(f.StoreEntries(StoreNames.Pools).Select(e => e.Key), Has.Some.StartWith("x/").And.Some.StartWith("k/"));

        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.ReservationSweepInterval * 2);
        var afterRetention = f.Replies(f.Command(Inputs.Pool, body, idempotencyKey: "key-old"));

        Assert.That((retryBeforeSweep.replayed, retryBeforeSweep.certificateId), Is.EqualTo((true, first.certificateId)), "within retention: the first outcome");
        Assert.That((afterRetention.outcome, afterRetention.replayed), Is.EqualTo((C.ReplyOutcome.ACCEPTED, false)), "after retention: a new request");
        Assert.That(afterRetention.certificateId, Is.Not.EqualTo(first.certificateId));
        Assert.That(f.StoreEntries(StoreNames.Pools).Count(e => e.Key.StartsWith("x/", StringComparison.Ordinal)), Is.EqualTo(1), "only the new key's retention entry is left");
    }

    [Test]
    public void AHoldLongerThanTheLongest_WrittenStraightToTheCommands_IsRefused_AndReservesNothing()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        f.Drain();

        var refused = f.Reserve(holdSeconds: (int)TopologyFixture.Settings.MaxReservationHold.TotalSeconds + 1);
        var accepted = f.Reserve(holdSeconds: (int)TopologyFixture.Settings.MaxReservationHold.TotalSeconds);

        Assert.That((refused.outcome, refused.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "INVALID_AMOUNT")));
        Assert.That(refused.message, Does.Contain("1800 s"));
        Assert.That(accepted.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(f.Events().Count(e => e.Value.eventType == "certificate.reserved"), Is.EqualTo(1));
    }

    [Test]
    public void AClientsOpenReservations_AreCappedPerPool_CountedBackWhenOneExpires_AndOtherClientsAreNotCapped()
    {
        using var f = new TopologyFixture(TopologyFixture.Settings with { MaxOpenReservationsPerClient = 2 });
        f.LoadPool(count: 6);
        f.Drain();
        var body = new C.ReserveCertificate { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, holdSeconds = 60 };
        C.CommandReply Reserve(string caller) => f.Replies(f.Command(Inputs.Pool, body, caller: caller));

        var first = Reserve("web");
        var second = Reserve("web");
        var third = Reserve("web");
        var other = Reserve("pos");

        Assert.That((first.outcome, second.outcome, other.outcome), Is.EqualTo((C.ReplyOutcome.ACCEPTED, C.ReplyOutcome.ACCEPTED, C.ReplyOutcome.ACCEPTED)));
        Assert.That((third.outcome, third.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "RESERVATION_LIMIT")));
        Assert.That(f.StoreEntries(StoreNames.Pools).Single(e => e.Key == "o/" + Inputs.Pool + "/web").Value, Is.EqualTo("2"u8.ToArray()));

        // the holds end: the count goes back to nothing and the client reserves again
        f.Driver.AdvanceWallClockTime(TimeSpan.FromMinutes(2));
        Assert.That(f.Events().Count(e => e.Value.eventType == "certificate.reservation_expired"), Is.EqualTo(3));
        Assert.That(f.StoreEntries(StoreNames.Pools).Select(e => e.Key), Has.None.StartWith("o/"));
        Assert.That(Reserve("web").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
    }
}
