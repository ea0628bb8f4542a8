using System.Globalization;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;

namespace GcpStreams.Domain.Tests;

/// <summary>A certificate under test: commands go through Decide, their events through Evolve, and the history is kept.</summary>
internal sealed class CertificateScenario
{
    public const string Id = "7700000000000018";
    public const string Pool = "pos-5000-rub";
    public const string Rub = "RUB";
    public const long Nominal = 5_000_00;

    private int _next;

    public static readonly DateTimeOffset Start = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    public DateTimeOffset Now { get; private set; } = Start;
    public Certificate? State { get; private set; }
    public List<CertificateEvent> History { get; } = [];

    public Certificate.Active Active => (Certificate.Active)State!;

    /// <summary>Decides and applies one command; returns what it decided.</summary>
    public IReadOnlyList<CertificateEvent> When(CertificateCommand command)
    {
        var events = CertificateDecider.Decide(command, State);
        NUnit.Framework.Assert.That(CertificateDecider.Decide(command, Sliced(State, CertificateDecider.HistoryNeededBy(command))), NUnit.Framework.Is.EqualTo(events),
            $"{command.Operation} decides the same on the payment history it names as on the whole history");
        var before = State as Certificate.Active;
        foreach (var e in events)
        {
            State = CertificateDecider.Evolve(State, e);
        }

        if (State is Certificate.Active after)
        {
            var changed = after.AppliedPayments.Except(before?.AppliedPayments ?? []).Select(PaymentOperations.PaymentIdOf)
                .Concat(after.Captures.Where(c => before?.Captures.GetValueOrDefault(c.Key) != c.Value).Select(c => c.Key)).Distinct();
            NUnit.Framework.Assert.That(changed, NUnit.Framework.Is.SubsetOf(CertificateDecider.HistoryNeededBy(command)), "the history a decision changes is that of the payments it names");
        }

        History.AddRange(events);
        return events;
    }

    /// <summary>The state as the ledger's owner hands it to Decide: of the payment history, only what the command names.</summary>
    private static Certificate? Sliced(Certificate? state, IReadOnlyList<string> payments) => state is Certificate.Active a
        ? a with
        {
            AppliedPayments = [.. a.AppliedPayments.Where(k => payments.Contains(PaymentOperations.PaymentIdOf(k)))],
            Captures = a.Captures.RemoveRange(a.Captures.Keys.Where(k => !payments.Contains(k))),
        }
        : state;

    public string NextId(string prefix) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{++_next}");

    public void Advance(TimeSpan by) => Now += by;

    public static readonly CertificateIdentity Identity = new(Id, Pool, Channel.Pos, Nominal, Rub);

    public static CertificateScenario Issued(Channel channel = Channel.Pos, ContactChannel contact = ContactChannel.Email)
    {
        var s = new CertificateScenario();
        s.When(s.Issue(contact: contact, channel: channel));
        return s;
    }

    public IssueCertificate Issue(string orderId = "order-1", Channel channel = Channel.Pos, ContactChannel contact = ContactChannel.Email, CertificateIdentity? identity = null) =>
        new(Id, NextId("order-evt"), Now, identity ?? Identity with { Channel = channel }, orderId, "client-1", contact, CvcKeyVersion: 3);

    public AuthorizePayment Authorize(long amount, string? paymentId = null, Channel channel = Channel.Pos, string currency = Rub) =>
        new(Id, NextId("pay-evt"), Now, paymentId ?? NextId("auth"), amount, currency, channel);

    public CapturePayment Capture(long amount, string? authorizationId = null, string? paymentId = null, Channel channel = Channel.Pos, string currency = Rub, string? eventId = null) =>
        new(Id, eventId ?? NextId("pay-evt"), Now, paymentId ?? NextId("cap"), authorizationId, amount, currency, channel);

    public VoidAuthorization Void(string authorizationId, Channel channel = Channel.Pos) =>
        new(Id, NextId("pay-evt"), Now, NextId("void"), authorizationId, channel);

    public RefundPayment Refund(long amount, string? capturePaymentId, string? paymentId = null, Channel channel = Channel.Pos, string currency = Rub, string? eventId = null) =>
        new(Id, eventId ?? NextId("pay-evt"), Now, paymentId ?? NextId("ref"), capturePaymentId, amount, currency, channel);

    public LockCertificate Lock(string reason = "suspected fraud") => new(Id, NextId("cmd"), Now, reason, "support-1");

    public UnlockCertificate Unlock(string reason = "cleared") => new(Id, NextId("cmd"), Now, reason, "support-1");

    public CancelCertificate Cancel(string orderId = "order-1") => new(Id, NextId("order-evt"), Now, orderId, "order returned");

    public RevealCvc RevealForNotification(string? notificationId, string requestedBy = "crm-notifier") =>
        new(Id, NextId("cmd"), Now, NextId("req"), DisclosureKind.Notification, notificationId, null, null, requestedBy);

    public RevealCvc RevealForSupport(string? ticket, string? reason = "buyer lost the e-mail", string? agent = "agent-7") =>
        new(Id, NextId("cmd"), Now, NextId("req"), DisclosureKind.Support, null, ticket, reason, "support-1", agent);

    public ExpireHold ExpireHold(string authorizationId, DateTimeOffset at) =>
        new(Id, NextId("hold-expiry"), at, authorizationId);

    public string NotificationId => History.OfType<NotificationRequested>().Last().NotificationId;

    public RequestNotification RequestAgain(string reason = "buyer lost the e-mail", ContactChannel contact = ContactChannel.Email) =>
        new(Id, NextId("cmd"), Now, reason, "support-1", contact);

    public RecordNotificationResult Result(string notificationId, NotificationOutcome outcome, int attempt = 1, bool willRetry = false, string? reason = null) =>
        new(Id, NextId("crm"), Now, notificationId, ContactChannel.Email, outcome, attempt, reason ?? (outcome == NotificationOutcome.Failed ? "smtp 550" : null), willRetry);

    public CheckNotificationOverdue OverdueCheck(string notificationId, DateTimeOffset at) =>
        new(Id, DeterministicId.Derive("notification-overdue", Id, notificationId), at, notificationId);
}
