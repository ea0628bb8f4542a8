using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>Spending and giving back value on an issued certificate: captures, two-phase payments, refunds, duplicates.</summary>
public class RedemptionTopologyTests
{
    private const long Nominal = Inputs.Nominal;

    [Test]
    public void PartialRedemption_DebitsTheBalanceAndKeepsTheRestSpendable()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        var first = f.Pay(C.PaymentOperation.CAPTURE, id, 1_200_00);

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "certificate.redeemed" }));
        var redeemed = events[0].Payload<C.CertificateRedeemed>();
        Assert.Multiple(() =>
        {
            Assert.That(events[0].Key, Is.EqualTo(id));
            Assert.That(events[0].Value.certificateId, Is.EqualTo(id));
            Assert.That(events[0].Value.causationId, Is.EqualTo(first.eventId));
            Assert.That(events[0].Value.currency, Is.EqualTo(Inputs.Rub));
            Assert.That(redeemed.paymentId, Is.EqualTo(first.paymentId));
            Assert.That(redeemed.authorizationId, Is.Null);
            Assert.That(redeemed.amountMinor, Is.EqualTo(1_200_00));
            Assert.That(redeemed.balanceAfterMinor, Is.EqualTo(Nominal - 1_200_00));
            Assert.That(redeemed.heldAfterMinor, Is.Zero);
        });
        var state = f.States().Single();
        Assert.That(state.Key, Is.EqualTo(id));
        Assert.That(state.Value.status, Is.EqualTo(C.CertificateStatus.PARTIALLY_REDEEMED));
        Assert.That(state.Value.balanceMinor, Is.EqualTo(Nominal - 1_200_00));
        Assert.That(state.Value.lastEventId, Is.EqualTo(events[0].Value.eventId));

        // the rest is still spendable, to the last kopeck, and not one more
        f.Pay(C.PaymentOperation.CAPTURE, id, Nominal - 1_200_00);
        Assert.That(f.Events().Single().Payload<C.CertificateRedeemed>().balanceAfterMinor, Is.Zero);
        Assert.That(f.States().Single().Value.status, Is.EqualTo(C.CertificateStatus.EXHAUSTED));

        var tooMuch = f.Pay(C.PaymentOperation.CAPTURE, id, 1);
        var refused = f.Events();
        Assert.That(refused.Types(), Is.EqualTo(new[] { "operation.rejected", "alert" }));
        Assert.That(refused.Rejection().reason, Is.EqualTo(C.RejectionReason.INSUFFICIENT_FUNDS));
        Assert.That(refused.Rejection().paymentId, Is.EqualTo(tooMuch.paymentId));
        Assert.That(refused.Alert().kind, Is.EqualTo(C.AlertKind.INSUFFICIENT_FUNDS));
        Assert.That(f.States(), Is.Empty, "a refusal changes no state");
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void AuthorizationThenCaptureThenVoid_HoldsCapturesPartAndReleasesTheRest()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        var auth = f.Pay(C.PaymentOperation.AUTHORIZE, id, 3_000_00);
        var authorized = f.Events().Single();
        Assert.That(authorized.Value.eventType, Is.EqualTo("certificate.authorized"));
        var held = authorized.Payload<C.CertificateAuthorized>();
        Assert.That((held.paymentId, held.amountMinor, held.heldAfterMinor, held.availableAfterMinor), Is.EqualTo((auth.paymentId, 3_000_00L, 3_000_00L, Nominal - 3_000_00)));
        var afterAuth = f.States().Single().Value;
        Assert.That((afterAuth.balanceMinor, afterAuth.heldMinor), Is.EqualTo((Nominal, 3_000_00L)), "a hold does not debit");

        // while held, only the rest is available to another payment
        f.Pay(C.PaymentOperation.AUTHORIZE, id, Nominal - 3_000_00 + 1);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.INSUFFICIENT_FUNDS));
        f.Pay(C.PaymentOperation.CAPTURE, id, 3_000_00 + 1, parent: auth.paymentId);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.EXCEEDS_HOLD));

        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00, parent: auth.paymentId);
        var redeemed = f.Events().Single().Payload<C.CertificateRedeemed>();
        Assert.That((redeemed.paymentId, redeemed.authorizationId, redeemed.amountMinor, redeemed.balanceAfterMinor, redeemed.heldAfterMinor),
            Is.EqualTo((capture.paymentId, auth.paymentId, 1_000_00L, Nominal - 1_000_00, 2_000_00L)));

        var voided = f.Pay(C.PaymentOperation.VOID, id, 0, parent: auth.paymentId);
        var released = f.Events().Single();
        Assert.That(released.Value.eventType, Is.EqualTo("certificate.hold_released"));
        var payload = released.Payload<C.CertificateHoldReleased>();
        Assert.That((payload.paymentId, payload.authorizationId, payload.amountMinor, payload.heldAfterMinor), Is.EqualTo((voided.paymentId, auth.paymentId, 2_000_00L, 0L)));

        var states = f.States();
        var last = states[^1].Value;
        Assert.That((last.balanceMinor, last.heldMinor, last.status), Is.EqualTo((Nominal - 1_000_00, 0L, C.CertificateStatus.PARTIALLY_REDEEMED)));

        // the authorization is gone: a second void or a late capture against it is refused
        f.Pay(C.PaymentOperation.VOID, id, 0, parent: auth.paymentId);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.UNKNOWN_AUTHORIZATION));
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, parent: auth.paymentId);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.UNKNOWN_AUTHORIZATION));
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void HoldNeverCapturedNorVoided_ExpiresAfterTheConfiguredTimeAndReleasesTheAmount()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        var auth = f.Pay(C.PaymentOperation.AUTHORIZE, id, 300_00);
        var authorized = f.Events().Single().Payload<C.CertificateAuthorized>();
        Assert.That(authorized.expiresAt, Is.EqualTo(auth.occurredAt + TopologyFixture.Settings.HoldExpiry));
        f.Drain();

        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.HoldSweepInterval * 2);
        Assert.That(f.Events(), Is.Empty, "not due yet");
        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.HoldExpiry);

        var released = f.Events().Single();
        var payload = released.Payload<C.CertificateHoldReleased>();
        Assert.That((released.Value.eventType, payload.expired, payload.paymentId, payload.authorizationId), Is.EqualTo(("certificate.hold_released", true, (string?)null, auth.paymentId)));
        Assert.That((payload.amountMinor, payload.balanceAfterMinor, payload.heldAfterMinor), Is.EqualTo((300_00L, Nominal, 0L)));
        Assert.That(released.Value.occurredAt, Is.EqualTo(authorized.expiresAt), "the hold's own expiry, not the wall clock: a replay decides the same");
        var state = f.States().Single().Value;
        Assert.That((state.balanceMinor, state.heldMinor), Is.EqualTo((Nominal, 0L)));
        Assert.That(f.StoreEntries(StoreNames.Certificates).Select(e => e.Key).Where(k => k.StartsWith(Processing.CertificateProcessor.Keys.HoldPrefix, StringComparison.Ordinal)),
            Is.Empty, "the expiry index entry is gone");

        f.Pay(C.PaymentOperation.CAPTURE, id, 300_00, parent: auth.paymentId);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.UNKNOWN_AUTHORIZATION), "an expired hold cannot be captured");
    }

    [Test]
    public void FullRefund_GivesTheCapturedAmountBackAndRestoresTheNominal()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 2_000_00);
        f.Drain();

        var refund = f.Pay(C.PaymentOperation.REFUND, id, 2_000_00, parent: capture.paymentId);

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "certificate.refunded" }));
        var refunded = events[0].Payload<C.CertificateRefunded>();
        Assert.That((refunded.paymentId, refunded.capturePaymentId, refunded.amountMinor, refunded.balanceAfterMinor),
            Is.EqualTo((refund.paymentId, capture.paymentId, 2_000_00L, Nominal)));
        var state = f.States().Single().Value;
        Assert.That((state.balanceMinor, state.status), Is.EqualTo((Nominal, C.CertificateStatus.ACTIVE)));

        // nothing is left to refund on that capture
        f.Pay(C.PaymentOperation.REFUND, id, 1, parent: capture.paymentId);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.EXCEEDS_CAPTURED));
    }

    [Test]
    public void ImpossibleRefund_MoreThanCaptured_IsRejectedAndTheBalanceIsUnchanged()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 1_000_00);
        f.Drain();

        var refund = f.Pay(C.PaymentOperation.REFUND, id, 1_500_00, parent: capture.paymentId);

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected" }));
        var rejected = events.Rejection();
        Assert.That((rejected.reason, rejected.amountMinor, rejected.paymentId, rejected.operation),
            Is.EqualTo((C.RejectionReason.EXCEEDS_CAPTURED, (long?)1_500_00, refund.paymentId, "refund")));
        Assert.That(f.States(), Is.Empty, "a refused refund publishes no new state");

        // a refund that names no capture of this certificate is refused too
        f.Pay(C.PaymentOperation.REFUND, id, 1_00, parent: "pay-of-another-certificate");
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.UNKNOWN_CAPTURE));

        // what was captured can still be refunded
        f.Pay(C.PaymentOperation.REFUND, id, 1_000_00, parent: capture.paymentId);
        Assert.That(f.Events().Single().Payload<C.CertificateRefunded>().balanceAfterMinor, Is.EqualTo(Nominal));
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void RepeatedRefundRequest_CreditsOnlyOnce()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 2_000_00);
        f.Drain();

        var refund = f.Pay(C.PaymentOperation.REFUND, id, 500_00, parent: capture.paymentId);
        Assert.That(f.Events().Single().Payload<C.CertificateRefunded>().balanceAfterMinor, Is.EqualTo(Nominal - 1_500_00));
        f.Drain();

        // the same record delivered again, and the same refund re-sent as a new event
        f.Pipe(refund);
        var resent = f.Pay(C.PaymentOperation.REFUND, id, 500_00, parent: capture.paymentId, paymentId: refund.paymentId);

        Assert.That(f.Events().Duplicates(2).Select(e => e.Value.causationId), Is.EqualTo(new[] { refund.eventId, resent.eventId }));
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.DeadLetters(), Is.Empty);

        // a genuinely new refund is credited, and the ledger remembers what the capture still allows
        f.Pay(C.PaymentOperation.REFUND, id, 1_500_00, parent: capture.paymentId);
        Assert.That(f.Events().Single().Payload<C.CertificateRefunded>().balanceAfterMinor, Is.EqualTo(Nominal));
        Assert.That(f.States().Single().Value.balanceMinor, Is.EqualTo(Nominal));
        f.Pay(C.PaymentOperation.REFUND, id, 1, parent: capture.paymentId);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.EXCEEDS_CAPTURED));
        Assert.That(f.States(), Is.Empty);
    }

    [Test]
    public void DuplicatedPaymentEvent_DoesNotDebitTwice()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 700_00);
        Assert.That(f.Events().Single().Payload<C.CertificateRedeemed>().balanceAfterMinor, Is.EqualTo(Nominal - 700_00));
        f.Drain();

        // 1. the very same event again (same event id): an at-least-once redelivery
        f.Pipe(capture);
        // 2. the same payment sent again by the payer under a new event id
        f.Pay(C.PaymentOperation.CAPTURE, id, 700_00, paymentId: capture.paymentId);
        // 3. the same for an authorization
        var auth = f.Pay(C.PaymentOperation.AUTHORIZE, id, 100_00);
        f.Pipe(auth);
        f.Pay(C.PaymentOperation.AUTHORIZE, id, 100_00, paymentId: auth.paymentId);

        var events = f.Events();
        Assert.That(events.Types().Where(t => t != "alert"), Is.EqualTo(new[] { "certificate.authorized" }), "only the first authorization does anything");
        Assert.That(events.One("certificate.authorized").Payload<C.CertificateAuthorized>().heldAfterMinor, Is.EqualTo(100_00));
        events.Where(e => e.Value.eventType == "alert").Duplicates(4);
        var state = f.States().Single().Value;
        Assert.That((state.balanceMinor, state.heldMinor), Is.EqualTo((Nominal - 700_00, 100_00L)));
        Assert.That(f.DeadLetters(), Is.Empty);
        Assert.That(f.StoreEntries(StoreNames.Certificates).Select(e => e.Key).Where(Processing.CertificateProcessor.Keys.IsCertificate), Is.EqualTo(new[] { id }));
    }
}
