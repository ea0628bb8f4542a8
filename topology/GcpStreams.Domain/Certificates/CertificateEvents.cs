namespace GcpStreams.Domain.Certificates;

/// <summary>
/// What happened to one certificate. Every event carries the causation id and time of the command that caused it;
/// the topology adds the envelope (derived event id, channel, correlation) when it publishes it.
/// </summary>
public abstract record CertificateEvent(string CertificateId, string CausationId, DateTimeOffset At)
{
    /// <summary>The name on <c>GiftCertificates.Stream</c> and in its <c>event-type</c> header.</summary>
    public abstract string EventType { get; }
}

public sealed record CertificateIssued(
    string CertificateId, string CausationId, DateTimeOffset At,
    CertificateIdentity Identity, string OrderId, string? ClientId, long BalanceAfterMinor, int CvcKeyVersion, long SequenceBefore = 0)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Issued;
}

/// <summary>
/// The buyer must get the certificate and its CVC: for the issue, or again when support asked (<see cref="RequestedBy"/> and
/// <see cref="Reason"/> set). It grants the notifier CVC reads for <see cref="NotificationId"/> until its result.
/// </summary>
public sealed record NotificationRequested(
    string CertificateId, string CausationId, DateTimeOffset At,
    string NotificationId, string? ClientId, ContactChannel Contact, long NominalMinor = 0, string? RequestedBy = null, string? Reason = null)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.NotificationRequested;
}

/// <summary>A notification had no result within the delivery SLA (raised once per notification).</summary>
public sealed record NotificationOverdue(
    string CertificateId, string CausationId, DateTimeOffset At, string NotificationId, DateTimeOffset RequestedAt, TimeSpan Sla, string? ClientId)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.NotificationOverdue;
}

public sealed record PaymentAuthorized(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, long AmountMinor, long BalanceAfterMinor, long HeldAfterMinor, long AvailableAfterMinor, DateTimeOffset ExpiresAt)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Authorized;
}

public sealed record CertificateRedeemed(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string? AuthorizationId, long AmountMinor, long BalanceAfterMinor, long HeldAfterMinor)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Redeemed;
}

/// <summary>
/// What an authorization still held was released: by a VOID payment (<see cref="PaymentId"/>), or because the hold lapsed
/// (<see cref="Expired"/>, no payment id) when Payments neither captured nor voided it in time.
/// </summary>
public sealed record HoldReleased(
    string CertificateId, string CausationId, DateTimeOffset At,
    string? PaymentId, string AuthorizationId, long AmountMinor, long BalanceAfterMinor, long HeldAfterMinor, bool Expired = false)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.HoldReleased;
}

public sealed record CertificateRefunded(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string CapturePaymentId, long AmountMinor, long BalanceAfterMinor, long HeldAfterMinor)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Refunded;
}

/// <summary>An unused certificate's purchase was returned: its whole balance (<see cref="AmountMinor"/>) is taken off.</summary>
public sealed record CertificateCancelled(
    string CertificateId, string CausationId, DateTimeOffset At, string OrderId, string Reason, long AmountMinor, long BalanceAfterMinor, long HeldAfterMinor)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Cancelled;
}

public sealed record CertificateLocked(string CertificateId, string CausationId, DateTimeOffset At, string Reason, string RequestedBy)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Locked;
}

public sealed record CertificateUnlocked(string CertificateId, string CausationId, DateTimeOffset At, string Reason, string RequestedBy)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Unlocked;
}

/// <summary>
/// The CVC was disclosed to <see cref="RequestedBy"/> (the client; for support also the <see cref="Agent"/>, the person the
/// ticket's grant names). The event never contains the CVC.
/// </summary>
public sealed record CvcDisclosed(
    string CertificateId, string CausationId, DateTimeOffset At,
    string RequestId, DisclosureKind Kind, string? NotificationId, string? SupportTicket, string? Reason, int KeyVersion, string RequestedBy, int DisclosuresSoFar,
    string? Agent = null)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.CvcDisclosed;
}

public sealed record NotificationSent(
    string CertificateId, string CausationId, DateTimeOffset At, string NotificationId, ContactChannel Contact, int Attempt)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.NotificationSent;
}

public sealed record NotificationFailed(
    string CertificateId, string CausationId, DateTimeOffset At,
    string NotificationId, ContactChannel Contact, int Attempt, string Reason, bool WillRetry)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.NotificationFailed;
}

/// <summary>An operation was refused; the state is unchanged but for the sequence and the seen ids.</summary>
public sealed record CertificateOperationRejected(
    string CertificateId, string CausationId, DateTimeOffset At,
    string Operation, RejectionReason Reason, string Message, long? AmountMinor = null, string? PaymentId = null)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.OperationRejected;
}

/// <summary>Something a person should look at (channel mismatch, use of a locked certificate, ...).</summary>
public sealed record CertificateAlert(
    string CertificateId, string CausationId, DateTimeOffset At, AlertKind Kind, AlertSeverity Severity, string Message)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Alert;
}
