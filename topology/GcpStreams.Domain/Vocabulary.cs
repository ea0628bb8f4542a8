namespace GcpStreams.Domain;

/// <summary>Sales channel. A certificate is bound to its pool's channel when it is reserved; use from any other channel is rejected.</summary>
public enum Channel
{
    Unknown = 0,
    Pos,
    InternetStore,
    MobileApp,
    CallCenter,
    Partner,
}

/// <summary>How the buyer is told about the certificate (and its CVC).</summary>
public enum ContactChannel
{
    None = 0,
    Email,
    Sms,
}

/// <summary>Why a CVC was disclosed: for a notification request (until its result), or once per explicit support request with a reason.</summary>
public enum DisclosureKind
{
    Notification = 1,
    Support,
}

/// <summary>Lifecycle status as other teams see it. Locking is a flag beside it, not a status.</summary>
public enum CertificateStatus
{
    Available = 1,
    Reserved,
    Active,
    PartiallyRedeemed,
    Exhausted,
    Cancelled,
}

/// <summary>Why an operation was refused. A refusal is an event, never an exception.</summary>
public enum RejectionReason
{
    NotFound = 1,
    InvalidStatus,
    Locked,
    ChannelMismatch,
    CurrencyMismatch,
    InsufficientFunds,
    ExceedsHold,
    ExceedsCaptured,
    UnknownAuthorization,
    UnknownCapture,
    InvalidAmount,
    PoolEmpty,
    PoolMismatch,
    AlreadyExists,
    CvcDisclosureNotAllowed,
    ReservationExpired,
    NotReserved,
    NominalMismatch,
    OrderMismatch,
    IdempotencyConflict,

    /// <summary>The caller already holds the most open reservations a client may hold in the pool.</summary>
    ReservationLimit,
}

/// <summary>What an alert on the stream is about.</summary>
public enum AlertKind
{
    PoolLow = 1,
    PoolEmpty,
    ChannelMismatch,
    CurrencyMismatch,
    InsufficientFunds,
    LockedCertificateUse,
    InvalidEvent,
    ReconciliationMismatch,
    DuplicateEvent,
    CvcDisclosureLimit,

    /// <summary>An instance could not write a record to an output or changelog topic (raised by the host, not by a decision).</summary>
    ProduceFailed,
}

/// <summary>How urgently a person should look at an alert.</summary>
public enum AlertSeverity
{
    Info = 1,
    Warning,
    Critical,
}

/// <summary>The outcome a CRM notifier reports for one notification attempt.</summary>
public enum NotificationOutcome
{
    Sent = 1,
    Failed,
}
