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
    CertificateIdentity Identity, string OrderId, string? ClientId, long BalanceAfterMinor, int CvcKeyVersion)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Issued;
}

public sealed record NotificationRequested(
    string CertificateId, string CausationId, DateTimeOffset At,
    string NotificationId, string? ClientId, ContactChannel Contact)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.NotificationRequested;
}

public sealed record PaymentAuthorized(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, long AmountMinor, long HeldAfterMinor, long AvailableAfterMinor)
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

public sealed record HoldReleased(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string AuthorizationId, long AmountMinor, long HeldAfterMinor)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.HoldReleased;
}

public sealed record CertificateRefunded(
    string CertificateId, string CausationId, DateTimeOffset At,
    string PaymentId, string CapturePaymentId, long AmountMinor, long BalanceAfterMinor)
    : CertificateEvent(CertificateId, CausationId, At)
{
    public override string EventType => EventTypes.Refunded;
}

public sealed record CertificateCancelled(string CertificateId, string CausationId, DateTimeOffset At, string OrderId, string Reason)
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

/// <summary>The CVC was disclosed to <see cref="RequestedBy"/>. The event never contains the CVC.</summary>
public sealed record CvcDisclosed(
    string CertificateId, string CausationId, DateTimeOffset At,
    string RequestId, DisclosureKind Kind, string? NotificationId, string? SupportTicket, int KeyVersion, string RequestedBy, int DisclosuresSoFar)
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
