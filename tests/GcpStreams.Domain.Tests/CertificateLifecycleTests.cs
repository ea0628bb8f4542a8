using GcpStreams.Domain.Certificates;

namespace GcpStreams.Domain.Tests;

/// <summary>The seed's lifecycle test cases (R1.0, R1.1, R2.0, R3.0) that the domain alone decides, one test per scenario.</summary>
public class CertificateLifecycleTests
{
    private const long Nominal = CertificateScenario.Nominal;

    [Test]
    public void NormalIssue_OpensTheLedgerWithTheNominalAndRequestsANotification()
    {
        var s = new CertificateScenario();

        var events = s.When(s.Issue(contact: ContactChannel.Sms));

        Assert.That(events, Has.Count.EqualTo(2));
        var issued = (CertificateIssued)events[0];
        Assert.That(issued.BalanceAfterMinor, Is.EqualTo(Nominal));
        Assert.That(issued.CvcKeyVersion, Is.EqualTo(3));
        var notification = (NotificationRequested)events[1];
        Assert.That(notification.Contact, Is.EqualTo(ContactChannel.Sms));
        Assert.That(notification.ClientId, Is.EqualTo("client-1"));
        Assert.That(s.Active.Status, Is.EqualTo(CertificateStatus.Active));
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
        Assert.That(s.Active.CvcDisclosuresAllowed, Is.EqualTo(1));
    }

    [Test]
    public void Issue_RepeatedForTheSameOrder_ChangesNothingAndSaysItWasADuplicate()
    {
        var s = CertificateScenario.Issued();
        var before = s.State;

        AssertDuplicate(s.When(s.Issue()));
        Assert.That(s.State! with { Seen = before!.Seen }, Is.EqualTo(before));
    }

    [Test]
    public void Issue_OfAnAlreadyIssuedCertificateForAnotherOrder_IsRejectedWithACriticalAlert()
    {
        var s = CertificateScenario.Issued();

        var events = s.When(s.Issue(orderId: "order-2"));

        AssertRejected(events, RejectionReason.AlreadyExists);
        Assert.That(events.OfType<CertificateAlert>().Single().Severity, Is.EqualTo(AlertSeverity.Critical));
        Assert.That(s.Active.OrderId, Is.EqualTo("order-1"));
    }

    [Test]
    public void Issue_WithAnIdentityOfAnotherCertificate_IsRejected()
    {
        var s = new CertificateScenario();

        AssertRejected(s.When(s.Issue(identity: CertificateScenario.Identity with { CertificateId = "7799" })), RejectionReason.InvalidAmount);
        Assert.That(s.State, Is.Null);
    }

    [Test]
    public void PartialRedemption_DebitsThePartAndKeepsTheRest()
    {
        var s = CertificateScenario.Issued();

        var events = s.When(s.Capture(1_200_00));

        var redeemed = (CertificateRedeemed)events.Single();
        Assert.That(redeemed.BalanceAfterMinor, Is.EqualTo(Nominal - 1_200_00));
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal - 1_200_00));
        Assert.That(s.Active.Status, Is.EqualTo(CertificateStatus.PartiallyRedeemed));
    }

    [Test]
    public void Redemption_OfTheWholeBalance_ExhaustsTheCertificate()
    {
        var s = CertificateScenario.Issued();

        s.When(s.Capture(Nominal));

        Assert.That(s.Active.BalanceMinor, Is.Zero);
        Assert.That(s.Active.Status, Is.EqualTo(CertificateStatus.Exhausted));
    }

    [Test]
    public void Redemption_OfMoreThanTheBalance_IsRejectedAndNothingIsDebited()
    {
        var s = CertificateScenario.Issued();

        var events = s.When(s.Capture(Nominal + 1));

        AssertRejected(events, RejectionReason.InsufficientFunds);
        Assert.That(events.OfType<CertificateAlert>().Single().Kind, Is.EqualTo(AlertKind.InsufficientFunds));
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
    }

    [TestCase(0)]
    [TestCase(-100)]
    public void Redemption_OfANonPositiveAmount_IsRejected(long amount)
    {
        var s = CertificateScenario.Issued();

        AssertRejected(s.When(s.Capture(amount)), RejectionReason.InvalidAmount);
    }

    [Test]
    public void AuthorizationThenCaptureThenVoid_HoldsCapturesAndReleasesTheRest()
    {
        var s = CertificateScenario.Issued();

        var authorized = (PaymentAuthorized)s.When(s.Authorize(2_000_00, paymentId: "auth-1")).Single();
        Assert.That(authorized.HeldAfterMinor, Is.EqualTo(2_000_00));
        Assert.That(authorized.AvailableAfterMinor, Is.EqualTo(Nominal - 2_000_00));
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal), "a hold does not debit");

        var redeemed = (CertificateRedeemed)s.When(s.Capture(1_500_00, authorizationId: "auth-1")).Single();
        Assert.That(redeemed.BalanceAfterMinor, Is.EqualTo(Nominal - 1_500_00));
        Assert.That(redeemed.HeldAfterMinor, Is.EqualTo(500_00));

        var released = (HoldReleased)s.When(s.Void("auth-1")).Single();
        Assert.That(released.AmountMinor, Is.EqualTo(500_00));
        Assert.That(released.HeldAfterMinor, Is.Zero);
        Assert.That(s.Active.HeldMinor, Is.Zero);
        Assert.That(s.Active.AvailableMinor, Is.EqualTo(Nominal - 1_500_00));
    }

    [Test]
    public void Capture_OfMoreThanTheHold_IsRejected()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Authorize(1_000_00, paymentId: "auth-1"));

        AssertRejected(s.When(s.Capture(1_000_01, authorizationId: "auth-1")), RejectionReason.ExceedsHold);
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
    }

    [Test]
    public void Capture_AgainstAnUnknownAuthorization_IsRejected()
    {
        var s = CertificateScenario.Issued();

        AssertRejected(s.When(s.Capture(100, authorizationId: "auth-x")), RejectionReason.UnknownAuthorization);
    }

    [Test]
    public void Capture_OfTheWholeHold_ClosesTheAuthorization()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Authorize(1_000_00, paymentId: "auth-1"));
        s.When(s.Capture(1_000_00, authorizationId: "auth-1"));

        Assert.That(s.Active.Holds, Is.Empty);
        AssertRejected(s.When(s.Void("auth-1")), RejectionReason.UnknownAuthorization);
    }

    [Test]
    public void Authorization_OfMoreThanIsAvailable_IsRejected()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Authorize(4_000_00));

        AssertRejected(s.When(s.Authorize(1_000_01)), RejectionReason.InsufficientFunds);
    }

    [Test]
    public void DirectCapture_CannotTakeWhatIsHeld()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Authorize(4_000_00));

        AssertRejected(s.When(s.Capture(1_000_01)), RejectionReason.InsufficientFunds);
        Assert.That(s.When(s.Capture(1_000_00)).Single(), Is.TypeOf<CertificateRedeemed>());
    }

    [Test]
    public void SuccessfulRefund_GivesTheCapturedAmountBack()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(3_000_00, paymentId: "cap-1"));

        var refunded = (CertificateRefunded)s.When(s.Refund(1_000_00, "cap-1")).Single();

        Assert.That(refunded.BalanceAfterMinor, Is.EqualTo(Nominal - 2_000_00));
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal - 2_000_00));
    }

    [Test]
    public void FullRefund_RestoresTheWholeNominalAndTheActiveStatus()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(Nominal, paymentId: "cap-1"));
        Assert.That(s.Active.Status, Is.EqualTo(CertificateStatus.Exhausted));

        s.When(s.Refund(Nominal, "cap-1"));

        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
        Assert.That(s.Active.Status, Is.EqualTo(CertificateStatus.Active));
    }

    [Test]
    public void ImpossibleRefund_OfMoreThanWasCaptured_IsRejected()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(1_000_00, paymentId: "cap-1"));

        var events = s.When(s.Refund(1_000_01, "cap-1"));

        AssertRejected(events, RejectionReason.ExceedsCaptured);
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal - 1_000_00));
    }

    [Test]
    public void ImpossibleRefund_OfACaptureThisCertificateNeverHad_IsRejected()
    {
        var s = CertificateScenario.Issued();

        AssertRejected(s.When(s.Refund(100, "cap-unknown")), RejectionReason.UnknownCapture);
        AssertRejected(s.When(s.Refund(100, capturePaymentId: null)), RejectionReason.UnknownCapture);
    }

    [Test]
    public void ImpossibleRefund_SecondRefundBeyondWhatIsLeftOfTheCapture_IsRejected()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(1_000_00, paymentId: "cap-1"));
        s.When(s.Refund(600_00, "cap-1"));

        AssertRejected(s.When(s.Refund(400_01, "cap-1")), RejectionReason.ExceedsCaptured);
        Assert.That(s.When(s.Refund(400_00, "cap-1")).Single(), Is.TypeOf<CertificateRefunded>());
    }

    [Test]
    public void RepeatedRefundRequest_WithTheSamePaymentId_RefundsOnce()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(1_000_00, paymentId: "cap-1"));
        s.When(s.Refund(1_000_00, "cap-1", paymentId: "ref-1"));

        var again = s.When(s.Refund(1_000_00, "cap-1", paymentId: "ref-1"));

        AssertDuplicate(again); // a re-sent refund with a new event id but the same payment id credits nothing
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
    }

    [Test]
    public void DuplicatedPaymentEvent_IsNotDebitedTwice()
    {
        var s = CertificateScenario.Issued();
        var capture = s.Capture(1_000_00, paymentId: "cap-1", eventId: "evt-42");
        s.When(capture);

        AssertDuplicate(s.When(capture)); // same event id
        AssertDuplicate(s.When(capture with { CausationId = "evt-43" })); // same payment id, new event id
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal - 1_000_00));
        Assert.That(s.History.OfType<CertificateRedeemed>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void PurchaseWithACertificate_PaysPartOfAnOrderFromTheBalance()
    {
        var s = CertificateScenario.Issued(channel: Channel.InternetStore);

        var events = s.When(s.Capture(2_500_00, paymentId: "order-77-tender-1", channel: Channel.InternetStore));

        Assert.That(((CertificateRedeemed)events.Single()).BalanceAfterMinor, Is.EqualTo(Nominal - 2_500_00));
    }

    [Test]
    public void Return_OfAPurchasedUnusedCertificate_CancelsIt()
    {
        var s = CertificateScenario.Issued();

        var cancelled = (CertificateCancelled)s.When(s.Cancel()).Single();

        Assert.That(cancelled.OrderId, Is.EqualTo("order-1"));
        Assert.That(s.State!.Status, Is.EqualTo(CertificateStatus.Cancelled));
        Assert.That((cancelled.AmountMinor, cancelled.BalanceAfterMinor, cancelled.HeldAfterMinor), Is.EqualTo((Nominal, 0L, 0L)),
            "the cancellation says how much balance it took off, and the balance and held after it");
        AssertRejected(s.When(s.Capture(100)), RejectionReason.InvalidStatus);
        AssertDuplicate(s.When(s.Cancel())); // a re-sent return changes nothing
    }

    [Test]
    public void Return_KeepsTheBuyerAndTheHistoryOfTheCertificate()
    {
        var s = CertificateScenario.Issued();
        s.When(s.RevealForNotification(s.NotificationId));
        s.When(s.Lock("lost"));
        var issued = s.Active;

        s.When(s.Cancel());

        var cancelled = (Certificate.Cancelled)s.State!;
        Assert.That((cancelled.ClientId, cancelled.IssuedAt, cancelled.OrderId, cancelled.CvcKeyVersion), Is.EqualTo((issued.ClientId, issued.IssuedAt, issued.OrderId, issued.CvcKeyVersion)));
        Assert.That((cancelled.CvcDisclosures, cancelled.CvcDisclosuresAllowed, cancelled.Locked, cancelled.LockReason), Is.EqualTo((1, 1, true, "lost")));
        Assert.That((cancelled.BalanceMinor, cancelled.HeldMinor, cancelled.CancelledMinor), Is.EqualTo((0L, 0L, Nominal)), "only the status and the amounts change");
        Assert.That(cancelled.Sequence, Is.EqualTo(issued.Sequence + 1));
    }

    [Test]
    public void Return_OfAUsedCertificate_IsRejected()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(100));

        AssertRejected(s.When(s.Cancel()), RejectionReason.InvalidStatus);
        Assert.That(s.State!.Status, Is.EqualTo(CertificateStatus.PartiallyRedeemed));
    }

    [Test]
    public void Return_ByAnotherOrder_IsRejected()
    {
        var s = CertificateScenario.Issued();

        AssertRejected(s.When(s.Cancel(orderId: "order-9")), RejectionReason.OrderMismatch);
    }

    [Test]
    public void Lock_BlocksRedemptionAndUnlockRestoresIt()
    {
        var s = CertificateScenario.Issued();

        Assert.That(s.When(s.Lock()).Single(), Is.TypeOf<CertificateLocked>());
        Assert.That(s.Active.Locked, Is.True);
        var refused = s.When(s.Capture(100));
        AssertRejected(refused, RejectionReason.Locked);
        Assert.That(refused.OfType<CertificateAlert>().Single().Kind, Is.EqualTo(AlertKind.LockedCertificateUse));
        AssertRejected(s.When(s.Authorize(100)), RejectionReason.Locked);

        Assert.That(s.When(s.Unlock()).Single(), Is.TypeOf<CertificateUnlocked>());
        Assert.That(s.When(s.Capture(100)).Single(), Is.TypeOf<CertificateRedeemed>());
    }

    [Test]
    public void Lock_OfALockedCertificate_IsRejectedAndUnlockOfAnUnlockedOneToo()
    {
        var s = CertificateScenario.Issued();
        AssertRejected(s.When(s.Unlock()), RejectionReason.InvalidStatus);
        s.When(s.Lock());

        AssertRejected(s.When(s.Lock()), RejectionReason.Locked);
    }

    [Test]
    public void Refund_OnALockedCertificate_IsAllowedBecauseItDebitsNothing()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Capture(1_000_00, paymentId: "cap-1"));
        s.When(s.Lock());

        Assert.That(s.When(s.Refund(1_000_00, "cap-1")).Single(), Is.TypeOf<CertificateRefunded>());
    }

    [Test]
    public void WrongChannel_IsRejectedWithAnAlert()
    {
        var s = CertificateScenario.Issued(channel: Channel.Pos);

        var events = s.When(s.Capture(100, paymentId: "cap-wrong-channel", channel: Channel.InternetStore));

        AssertRejected(events, RejectionReason.ChannelMismatch);
        var rejected = events.OfType<CertificateOperationRejected>().Single();
        Assert.That((rejected.PaymentId, rejected.AmountMinor), Is.EqualTo(("cap-wrong-channel", (long?)100)), "the payer matches the refusal to its payment");
        var alert = events.OfType<CertificateAlert>().Single();
        Assert.That(alert.Kind, Is.EqualTo(AlertKind.ChannelMismatch));
        Assert.That(alert.Message, Does.Contain("InternetStore").And.Contain("Pos"));
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
    }

    [Test]
    public void WrongChannel_ForRefundAndVoid_IsRejectedToo()
    {
        var s = CertificateScenario.Issued(channel: Channel.Pos);
        s.When(s.Capture(100, paymentId: "cap-1"));
        s.When(s.Authorize(100, paymentId: "auth-1"));

        AssertRejected(s.When(s.Refund(100, "cap-1", channel: Channel.MobileApp)), RejectionReason.ChannelMismatch);
        AssertRejected(s.When(s.Void("auth-1", channel: Channel.MobileApp)), RejectionReason.ChannelMismatch);
    }

    [Test]
    public void WrongCurrency_IsRejected()
    {
        var s = CertificateScenario.Issued();

        var events = s.When(s.Capture(100, paymentId: "cap-usd", currency: "USD"));

        AssertRejected(events, RejectionReason.CurrencyMismatch);
        Assert.That(events.OfType<CertificateOperationRejected>().Single().PaymentId, Is.EqualTo("cap-usd"));
    }

    [Test]
    public void PaymentOnAnUnknownCertificate_IsRejectedAsNotFound()
    {
        var s = new CertificateScenario();

        AssertRejected(s.When(s.Capture(100)), RejectionReason.NotFound);
        Assert.That(s.State, Is.Null, "a refusal creates no certificate");
    }

    [Test]
    public void PaymentOnACancelledCertificate_IsRejectedBecauseItHoldsNoValue()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Cancel());

        AssertRejected(s.When(s.Authorize(100)), RejectionReason.InvalidStatus);
        AssertRejected(s.When(s.Issue(orderId: "order-2")), RejectionReason.AlreadyExists);
    }

    [Test]
    public void DuplicateCommand_WithASeenCausationId_ChangesNothingAndSaysItWasADuplicate()
    {
        var s = CertificateScenario.Issued();
        var lockCommand = s.Lock();
        s.When(lockCommand);
        var sequence = s.State!.Sequence;

        AssertDuplicate(s.When(lockCommand));
        Assert.That(s.State!.Sequence, Is.EqualTo(sequence));
    }

    [Test]
    public void Rejections_TakeNoSequenceNumberAndChangeNothing()
    {
        var s = CertificateScenario.Issued();
        var before = s.Active;

        s.When(s.Capture(Nominal + 1));
        s.When(s.Capture(100));

        Assert.That(s.Active.Sequence, Is.EqualTo(before.Sequence + 1), "the rejection and its alert take no number; the capture takes the next one");
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(before.BalanceMinor - 100), "only the capture moved the balance");
        Assert.That(s.Active.Captures, Has.Count.EqualTo(1));
    }

    [Test]
    public void NotificationResults_AreRecordedAsSentOrFailed()
    {
        var s = CertificateScenario.Issued();
        var id = s.NotificationId;

        var failed = s.When(new RecordNotificationResult(CertificateScenario.Id, "crm-1", s.Now, id, ContactChannel.Email, NotificationOutcome.Failed, 1, "smtp 451", WillRetry: true));
        var sent = s.When(new RecordNotificationResult(CertificateScenario.Id, "crm-2", s.Now, id, ContactChannel.Email, NotificationOutcome.Sent, 2, null, WillRetry: false));

        Assert.That(failed.Single(), Is.EqualTo(new NotificationFailed(CertificateScenario.Id, "crm-1", s.Now, id, ContactChannel.Email, 1, "smtp 451", true)));
        Assert.That(sent.Single(), Is.EqualTo(new NotificationSent(CertificateScenario.Id, "crm-2", s.Now, id, ContactChannel.Email, 2)));
    }

    [Test]
    public void UnknownCommandType_IsAProgrammingError()
    {
        Assert.That(() => CertificateDecider.Decide(new StrangeCommand(), null), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    /// <summary>A duplicate input decides one Info alert DUPLICATE_EVENT and nothing else.</summary>
    internal static void AssertDuplicate(IReadOnlyList<CertificateEvent> events)
    {
        Assert.That(events, Has.Count.EqualTo(1));
        var alert = events[0] as CertificateAlert;
        Assert.That((alert?.Kind, alert?.Severity), Is.EqualTo(((AlertKind?)AlertKind.DuplicateEvent, (AlertSeverity?)AlertSeverity.Info)), "an ignored duplicate says so");
        Assert.That(CertificateDecider.ChangesState(events[0]), Is.False);
    }

    internal static void AssertRejected(IReadOnlyList<CertificateEvent> events, RejectionReason reason)
    {
        Assert.That(events, Is.Not.Empty);
        Assert.That(events[0], Is.TypeOf<CertificateOperationRejected>(), () => $"expected a rejection, got {string.Join(", ", events)}");
        Assert.That(((CertificateOperationRejected)events[0]).Reason, Is.EqualTo(reason), () => ((CertificateOperationRejected)events[0]).Message);
    }

    private sealed record StrangeCommand() : CertificateCommand("x", "y", DateTimeOffset.UnixEpoch)
    {
        public override string Operation => "strange";
    }
}
