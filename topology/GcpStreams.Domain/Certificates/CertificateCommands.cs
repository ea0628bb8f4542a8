namespace GcpStreams.Domain.Certificates;

/// <summary>
/// Something asked of one certificate. <see cref="CausationId"/> is the id of the input event or API command that asks it
/// (duplicates of it are no-ops); <see cref="At"/> is the time of that input, never the wall clock, so replays decide the same.
/// </summary>
public abstract record CertificateCommand(string CertificateId, string CausationId, DateTimeOffset At)
{
    /// <summary>The operation's name in rejections, e.g. "capture".</summary>
    public abstract string Operation { get; }
}

/// <summary>
/// An order that bought this certificate is paid and its pool confirmed the reservation: open the ledger with the nominal
/// as balance and ask CRM to notify the buyer. The identity comes from the pool, so it is the pool's channel, nominal and currency.
/// <see cref="SequenceBefore"/> is the number of events the certificate had in its pool (reserved, expired, released), so its
/// sequence goes on without a gap.
/// </summary>
public sealed record IssueCertificate(
    string CertificateId, string CausationId, DateTimeOffset At,
    CertificateIdentity Identity, string OrderId, string? ClientId, ContactChannel Contact, int CvcKeyVersion, long SequenceBefore = 0)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "issue";
}

/// <summary>Hold an amount for a later capture (two-phase payment).</summary>
public sealed record AuthorizePayment(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, long AmountMinor, string Currency, Channel Channel)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => PaymentOperations.Authorize;
}

/// <summary>Debit the balance: against an authorization (at most what it holds) or directly (at most what is available).</summary>
public sealed record CapturePayment(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string? AuthorizationId, long AmountMinor, string Currency, Channel Channel)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => PaymentOperations.Capture;
}

/// <summary>Release what an authorization still holds.</summary>
public sealed record VoidAuthorization(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string AuthorizationId, Channel Channel)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => PaymentOperations.Void;
}

/// <summary>
/// The hold timer: if authorization <see cref="AuthorizationId"/> still holds an amount past its expiry, the hold lapses and
/// the amount is available again. <see cref="At"/> is the hold's expiry, so a replay decides the same.
/// </summary>
public sealed record ExpireHold(string CertificateId, string CausationId, DateTimeOffset At, string AuthorizationId)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "expire-hold";
}

/// <summary>Give value back against a capture: at most what that capture took and was not refunded yet.</summary>
public sealed record RefundPayment(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string? CapturePaymentId, long AmountMinor, string Currency, Channel Channel)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => PaymentOperations.Refund;
}

/// <summary>The order that bought this certificate was returned: cancel it if it is still unused.</summary>
public sealed record CancelCertificate(string CertificateId, string CausationId, DateTimeOffset At, string OrderId, string Reason)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "cancel";
}

/// <summary>Support locks a certificate: no debit and no CVC disclosure while locked.</summary>
public sealed record LockCertificate(string CertificateId, string CausationId, DateTimeOffset At, string Reason, string RequestedBy)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "lock";
}

/// <summary>Support unlocks a locked certificate.</summary>
public sealed record UnlockCertificate(string CertificateId, string CausationId, DateTimeOffset At, string Reason, string RequestedBy)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "unlock";
}

/// <summary>
/// Someone asks to see the CVC: allowed while notification request <see cref="NotificationId"/> has no result, or for support once per
/// <see cref="SupportTicket"/> with a <see cref="Reason"/>, at most <see cref="CertificateSettings.SupportDisclosuresPerDay"/>
/// a day. For support, the ticket and the <see cref="Agent"/> (the person) come from a grant the ticketing system signed and
/// the API verified; <see cref="RequestedBy"/> is the calling client. The CVC itself is never in a command or event.
/// </summary>
public sealed record RevealCvc(
    string CertificateId, string CausationId, DateTimeOffset At,
    string RequestId, DisclosureKind Kind, string? NotificationId, string? SupportTicket, string? Reason, string RequestedBy, string? Agent = null)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "reveal-cvc";
}

/// <summary>
/// Support (or an operator) asks for the certificate and its CVC to be sent to the buyer again, with a reason: a new
/// notification request (a new id), which grants the notifier CVC reads until its result.
/// </summary>
/// <remarks><see cref="Contact"/> is the buyer's contact channel as CRM's client record says when the owner decides (NONE if unknown).</remarks>
public sealed record RequestNotification(
    string CertificateId, string CausationId, DateTimeOffset At, string Reason, string RequestedBy, ContactChannel Contact = ContactChannel.None)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "request-notification";
}

/// <summary>
/// The delivery SLA timer of notification <see cref="NotificationId"/>: if it is still pending, it is overdue. <see cref="At"/>
/// is the deadline (the request's time plus the SLA), so a replay decides the same.
/// </summary>
public sealed record CheckNotificationOverdue(string CertificateId, string CausationId, DateTimeOffset At, string NotificationId)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "notification-overdue";
}

/// <summary>CRM reports how sending a notification went.</summary>
public sealed record RecordNotificationResult(
    string CertificateId, string CausationId, DateTimeOffset At,
    string NotificationId, ContactChannel Contact, NotificationOutcome Outcome, int Attempt, string? Reason, bool WillRetry)
    : CertificateCommand(CertificateId, CausationId, At)
{
    public override string Operation => "notification-result";
}
