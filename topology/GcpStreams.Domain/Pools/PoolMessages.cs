namespace GcpStreams.Domain.Pools;

/// <summary>Something asked of one pool; <see cref="CausationId"/> and <see cref="At"/> come from the input, as for certificates.</summary>
public abstract record PoolCommand(string PoolId, string CausationId, DateTimeOffset At)
{
    public abstract string Operation { get; }
}

/// <summary>
/// Add certificates to a pool (creating it on the first load): either <see cref="ImportedNumbers"/> as given,
/// or <see cref="Count"/> numbers generated in the pool's series (<see cref="Series"/> is needed on the first such load only).
/// </summary>
public sealed record LoadPool(
    string PoolId, string CausationId, DateTimeOffset At,
    Channel Channel, long NominalMinor, string Currency, int LowWatermark, int? Series, int Count, IReadOnlyList<string> ImportedNumbers,
    string? IdempotencyKey = null, string RequestFingerprint = "")
    : PoolCommand(PoolId, CausationId, At)
{
    public override string Operation => "load";
}

/// <summary>
/// <c>POST /certificates/next</c>: hand out the next available certificate for <see cref="HoldFor"/>. With an
/// <see cref="IdempotencyKey"/>, a retry with the same key and the same request (<see cref="RequestFingerprint"/>) gets the
/// certificate the first request got; the same key with another request is refused.
/// </summary>
public sealed record ReserveNext(
    string PoolId, string CausationId, DateTimeOffset At,
    string RequestId, Channel Channel, long NominalMinor, string Currency, string? OrderId, TimeSpan HoldFor,
    string? IdempotencyKey = null, string RequestFingerprint = "", string? Caller = null)
    : PoolCommand(PoolId, CausationId, At)
{
    public override string Operation => "reserve";
}

/// <summary>
/// The order a reservation was for was cancelled, or its payment failed: if the certificate's reservation is still open (not
/// issued) and was made for this order (or for no order), the certificate goes back to the tail at once.
/// </summary>
public sealed record ReleaseReservation(string PoolId, string CausationId, DateTimeOffset At, string CertificateId, string OrderId, string Reason)
    : PoolCommand(PoolId, CausationId, At)
{
    public override string Operation => "release";
}

/// <summary>The reservation timer: if the certificate's reservation is still open past its deadline, it goes back to the tail.</summary>
public sealed record ExpireReservation(string PoolId, string CausationId, DateTimeOffset At, string CertificateId)
    : PoolCommand(PoolId, CausationId, At)
{
    public override string Operation => "expire";
}

/// <summary>
/// A paid order line bought this certificate: the pool checks the reservation (open, in time, same order, same
/// channel, nominal and currency) and hands the certificate to its ledger.
/// </summary>
public sealed record IssueReserved(
    string PoolId, string CausationId, DateTimeOffset At,
    string CertificateId, string OrderId, string? ClientId, ContactChannel Contact, Channel Channel, long NominalMinor, string Currency)
    : PoolCommand(PoolId, CausationId, At)
{
    public override string Operation => "issue";
}

public abstract record PoolEvent(string PoolId, string CausationId, DateTimeOffset At)
{
    public abstract string EventType { get; }
}

/// <summary>Certificates were appended at slots <see cref="FirstSlot"/> onward. <see cref="Numbers"/> feed the slot store; the stream carries only counts.</summary>
public sealed record PoolLoaded(
    string PoolId, string CausationId, DateTimeOffset At,
    Channel Channel, long NominalMinor, string Currency, int LowWatermark, int Series,
    long FirstSlot, IReadOnlyList<string> Numbers, long GeneratedAfter, long AvailableAfter,
    string? IdempotencyKey = null, string RequestFingerprint = "")
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.PoolLoaded;
}

/// <summary>
/// A retried load (same idempotency key, same request): nothing is added again; the caller gets the first load's outcome.
/// Not published: the stream already has that load.
/// </summary>
public sealed record PoolLoadReplayed(
    string PoolId, string CausationId, DateTimeOffset At, string OriginalRequestId, long FirstSlot, int Count)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.PoolLoaded;
}

/// <summary>The certificate in <see cref="Slot"/> was handed out for <see cref="ReservedUntil"/>; this is its event number <see cref="CertificateSequence"/>.</summary>
public sealed record PoolCertificateReserved(
    string PoolId, string CausationId, DateTimeOffset At,
    long Slot, string CertificateId, string RequestId, string? OrderId, Channel Channel, long NominalMinor, string Currency,
    DateTimeOffset ReservedUntil, long AvailableAfter, long CertificateSequence, string? IdempotencyKey = null, string RequestFingerprint = "",
    string? Caller = null)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.Reserved;
}

/// <summary>
/// A retried reservation (same idempotency key, same request): nothing new is handed out; the caller gets the certificate of
/// the first request again. Not published: the stream already has that reservation.
/// </summary>
public sealed record ReservationReplayed(
    string PoolId, string CausationId, DateTimeOffset At, string CertificateId, string OriginalRequestId, DateTimeOffset ReservedUntil)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.Reserved;
}

/// <summary>A reservation expired unissued; the certificate went back into slot <see cref="Slot"/> at the tail.</summary>
public sealed record ReservationExpired(
    string PoolId, string CausationId, DateTimeOffset At, string CertificateId, DateTimeOffset ReservedUntil, long Slot, long AvailableAfter, long CertificateSequence)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.ReservationExpired;
}

/// <summary>A reservation ended early because its order was cancelled or its payment failed; the certificate went back into slot <see cref="Slot"/>.</summary>
public sealed record ReservationReleased(
    string PoolId, string CausationId, DateTimeOffset At, string CertificateId, string OrderId, string Reason, long Slot, long AvailableAfter, long CertificateSequence)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.ReservationReleased;
}

/// <summary>
/// The pool confirmed a paid order's reservation: the certificate leaves the pool for good. The topology turns this
/// into the certificate's <c>IssueCertificate</c>; the stream shows it as the ledger's <c>certificate.issued</c>, numbered after
/// the <see cref="CertificateSequence"/> events the certificate had in the pool.
/// </summary>
public sealed record ReservationIssued(
    string PoolId, string CausationId, DateTimeOffset At,
    string CertificateId, string OrderId, string? ClientId, ContactChannel Contact, Channel Channel, long NominalMinor, string Currency, long CertificateSequence)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.Issued;
}

/// <summary>A reservation could not be served: the pool is empty (or was never loaded). R1.0.7.</summary>
public sealed record IssueBlocked(
    string PoolId, string CausationId, DateTimeOffset At, string RequestId, string? OrderId, long NominalMinor, RejectionReason Reason, string Message)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.IssueBlocked;
}

/// <summary>A pool operation was refused; <see cref="CertificateId"/> is set when it concerns one certificate (an issue or expiry).</summary>
public sealed record PoolOperationRejected(
    string PoolId, string CausationId, DateTimeOffset At, string Operation, RejectionReason Reason, string Message, string? CertificateId = null)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.OperationRejected;
}

public sealed record PoolAlert(
    string PoolId, string CausationId, DateTimeOffset At, AlertKind Kind, AlertSeverity Severity, string Message, string? CertificateId = null)
    : PoolEvent(PoolId, CausationId, At)
{
    public override string EventType => EventTypes.Alert;
}
