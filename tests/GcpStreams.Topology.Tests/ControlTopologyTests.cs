using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>Who may use a certificate: locks, channels, and consumers that keep only their channel.</summary>
public class ControlTopologyTests
{
    private const long Nominal = Inputs.Nominal;

    [Test]
    public void LockBlocksRedemptionAndUnlockRestoresIt()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        var locked = f.Lock(id, "card reported stolen");
        Assert.That((locked.outcome, locked.certificateId), Is.EqualTo((C.ReplyOutcome.ACCEPTED, id)));
        var lockEvent = f.Events().Single();
        Assert.That(lockEvent.Value.eventType, Is.EqualTo("certificate.locked"));
        Assert.That(lockEvent.Value.storeId, Is.Null, "a lock comes through the API: no store");
        Assert.That(locked.eventId, Is.EqualTo(lockEvent.Value.eventId), "the reply names the event it caused");
        Assert.That(lockEvent.Payload<C.CertificateLocked>().reason, Is.EqualTo("card reported stolen"));
        Assert.That(lockEvent.Payload<C.CertificateLocked>().requestedBy, Is.EqualTo("pos-terminal-7"));
        var lockedState = f.States().Single().Value;
        Assert.That((lockedState.locked, lockedState.lockReason), Is.EqualTo((true, "card reported stolen")));

        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00);
        var refused = f.Events();
        Assert.That(refused.Types(), Is.EqualTo(new[] { "operation.rejected", "alert" }));
        Assert.That((refused.Rejection().reason, refused.Rejection().paymentId), Is.EqualTo((C.RejectionReason.LOCKED, capture.paymentId)));
        Assert.That(refused.Alert().kind, Is.EqualTo(C.AlertKind.LOCKED_CERTIFICATE_USE));
        Assert.That(refused.Select(e => e.Value.storeId), Is.All.EqualTo("store-12"), "the refusal and its alert name the payment's store");
        f.Pay(C.PaymentOperation.AUTHORIZE, id, 1_000_00);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.LOCKED));
        Assert.That(f.States(), Is.Empty, "nothing was debited");
        var again = f.Lock(id, "second report");
        Assert.That((again.outcome, again.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "LOCKED")));
        f.Drain();

        var unlocked = f.Unlock(id, "owner identified");
        Assert.That(unlocked.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        var unlockEvent = f.Events().Single();
        Assert.That(unlockEvent.Value.eventType, Is.EqualTo("certificate.unlocked"));
        Assert.That(unlockEvent.Payload<C.CertificateUnlocked>().reason, Is.EqualTo("owner identified"));
        var unlockedState = f.States().Single().Value;
        Assert.That((unlockedState.locked, unlockedState.lockReason), Is.EqualTo((false, (string?)null)));

        // the payer retries the refused payment (same payment id, new event): now it goes through
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00, paymentId: capture.paymentId);
        var redeemed = f.Events().Single();
        Assert.That(redeemed.Value.eventType, Is.EqualTo("certificate.redeemed"));
        Assert.That(redeemed.Payload<C.CertificateRedeemed>().balanceAfterMinor, Is.EqualTo(Nominal - 1_000_00));
        Assert.That(redeemed.Value.storeId, Is.EqualTo("store-12"), "where it was spent");

        var unlockAgain = f.Unlock(id);
        Assert.That((unlockAgain.outcome, unlockAgain.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "INVALID_STATUS")));
    }

    [Test]
    public void WrongChannel_PaymentFromAnotherChannelIsRejectedWithAnAlert()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        var payment = f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00, channel: C.Channel.INTERNET_STORE);

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected", "alert" }));
        Assert.That(events.Select(e => e.Key), Is.All.EqualTo(id));
        var rejected = events.Rejection();
        Assert.That((rejected.reason, rejected.operation), Is.EqualTo((C.RejectionReason.CHANNEL_MISMATCH, "capture")));
        Assert.That(events[0].Value.causationId, Is.EqualTo(payment.eventId), "the payer finds the refusal of its payment event");
        var alert = events.Alert();
        Assert.That((alert.kind, alert.severity), Is.EqualTo((C.AlertKind.CHANNEL_MISMATCH, C.AlertSeverity.WARNING)));
        Assert.That(alert.message, Does.Contain(id));
        Assert.That(events[0].Value.channel, Is.EqualTo(C.Channel.POS), "the event is the certificate's, in its own channel");
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.DeadLetters(), Is.Empty, "a refusal is a business event, not a dead letter");

        // the same certificate in its own channel is fine
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00);
        Assert.That(f.Events().Single().Value.eventType, Is.EqualTo("certificate.redeemed"));
    }

    [Test]
    public void WrongChannel_OrderFromAnotherChannelDoesNotIssueAndRaisesAnAlert()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.Reserve(orderId: "order-1").certificateId;
        f.Drain();

        f.PayOrder(id, "order-1", channel: C.Channel.INTERNET_STORE);

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected", "alert" }));
        Assert.That(events.Rejection().reason, Is.EqualTo(C.RejectionReason.CHANNEL_MISMATCH));
        Assert.That(events.Alert().kind, Is.EqualTo(C.AlertKind.CHANNEL_MISMATCH));
        Assert.That(f.StoreEntries(StoreNames.Certificates), Is.Empty);

        // a reservation from another channel is refused by the pool
        var reply = f.Reserve(channel: C.Channel.MOBILE_APP);
        Assert.That((reply.outcome, reply.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "POOL_MISMATCH")));
    }

    [Test]
    public void FilteringByChannelViaTheHeader_AConsumerOfOneChannelSeesExactlyItsEvents()
    {
        using var f = new TopologyFixture();
        f.LoadPool(Inputs.Pool, C.Channel.POS, count: 2, series: 1);
        f.LoadPool(Inputs.WebPool, C.Channel.INTERNET_STORE, count: 2, series: 2);
        var pos = f.Reserve(Inputs.Pool, C.Channel.POS, "order-pos").certificateId;
        var web = f.Reserve(Inputs.WebPool, C.Channel.INTERNET_STORE, "order-web").certificateId;
        f.PayOrder(pos, "order-pos", Inputs.Pool, C.Channel.POS);
        f.PayOrder(web, "order-web", Inputs.WebPool, C.Channel.INTERNET_STORE);
        f.Pay(C.PaymentOperation.CAPTURE, pos, 100_00);
        f.Pay(C.PaymentOperation.CAPTURE, web, 200_00, channel: C.Channel.INTERNET_STORE);
        f.Pay(C.PaymentOperation.CAPTURE, web, 300_00, channel: C.Channel.POS); // refused, on the web certificate

        var all = f.All(Topics.Stream);
        Assert.That(all.Select(e => e.Headers.Keys.Order(StringComparer.Ordinal)), Has.All.EqualTo(new[] { "channel", "event-type" }));

        // the consumer decides on the header alone, without decoding
        var webOnly = f.AllRaw(Topics.Stream.Name).Where(r => r.Headers.Any(h => h.Key == "channel" && h.Value == "INTERNET_STORE")).Select(r => r.Decode<C.GiftCertificateEvent>(f.Codec, Topics.Stream.Name)).ToList();

        Assert.That(webOnly.Types(), Is.EqualTo(new[]
        {
            "pool.loaded", "certificate.reserved", "certificate.issued", "notification.requested", "certificate.redeemed", "operation.rejected", "alert",
        }));
        Assert.That(webOnly.Select(e => e.Value.channel), Is.All.EqualTo(C.Channel.INTERNET_STORE));
        Assert.That(webOnly.Select(e => e.Key), Is.All.EqualTo(web).Or.EqualTo(Inputs.WebPool));
        Assert.That(webOnly.Select(e => e.Value.eventId), Is.EquivalentTo(all.Where(e => e.Value.channel == C.Channel.INTERNET_STORE).Select(e => e.Value.eventId)),
            "the header says exactly what the payload says");
        Assert.That(all.Where(e => e.Headers["channel"] == "POS").Select(e => e.Key), Is.All.EqualTo(pos).Or.EqualTo(Inputs.Pool));

        // the latest-state topic carries the same header
        var states = f.All(Topics.State);
        Assert.That(states.Where(s => s.Headers["channel"] == "INTERNET_STORE").Select(s => s.Key), Is.All.EqualTo(web));
        Assert.That(states.Where(s => s.Headers["channel"] == "POS").Select(s => s.Key), Is.All.EqualTo(pos));
    }
}
