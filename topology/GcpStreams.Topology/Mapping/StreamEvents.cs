using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Mapping;

/// <summary>Who an event is about, for its envelope: the key, channel, pool and currency of the aggregate that decided it.</summary>
/// <param name="Key">The record key on the stream: the certificate id, or the pool id for pool-level events.</param>
public sealed record EventSubject(string Key, string? CertificateId, string? PoolId, Channel Channel, string? Currency, long Sequence);

/// <summary>
/// Turns domain events into <c>GiftCertificates.Stream</c> records. The event id is derived from the aggregate, the causing input
/// and the event's position in the decision, so a replay of the same inputs yields byte-identical events.
/// </summary>
public static class StreamEvents
{
    /// <param name="aggregateKey">The event's record key.</param>
    /// <param name="causationId">The causing input's id.</param>
    /// <param name="index">The event's position in the decision.</param>
    /// <param name="salt">
    /// Set when the cause repeats: the alert of an ignored duplicate carries the id of the input it repeats, so its id also
    /// names the delivery (<see cref="DuplicateSalt"/>), not to collide with the events of the first delivery.
    /// </param>
    public static string EventId(string aggregateKey, string causationId, int index, string? salt = null) => salt is null
        ? DeterministicId.Derive("event", aggregateKey, causationId, index.ToString(System.Globalization.CultureInfo.InvariantCulture))
        : DeterministicId.Derive("event", aggregateKey, causationId, index.ToString(System.Globalization.CultureInfo.InvariantCulture), salt);

    /// <summary>What tells one delivery of an input from another: its source coordinates (the same on a replay of the same topics).</summary>
    public static string DuplicateSalt(Internal.SourceRecord? source) =>
        source is null ? "duplicate" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"duplicate:{source.Topic}/{source.Partition}/{source.Offset}");

    /// <param name="storeId">The store (or POS location) the causing input named (a payment's storeId), if any.</param>
    public static C.GiftCertificateEvent Envelope(EventSubject subject, string eventType, string causationId, DateTimeOffset at, string? correlationId, int index, object payload, string? salt = null,
        string? storeId = null) => new()
    {
        eventId = EventId(subject.Key, causationId, index, salt),
        eventType = eventType,
        certificateId = subject.CertificateId,
        poolId = subject.PoolId,
        channel = EnumMap.Convert<Channel, C.Channel>(subject.Channel),
        currency = subject.Currency,
        occurredAt = at.UtcDateTime,
        causationId = causationId,
        correlationId = correlationId,
        sequence = subject.Sequence,
        payload = payload,
        storeId = storeId,
    };

    /// <summary>The stream payload of a certificate ledger event.</summary>
    public static object Payload(CertificateEvent e) => e switch
    {
        CertificateIssued x => new C.CertificateIssued { orderId = x.OrderId, clientId = x.ClientId, nominalMinor = x.Identity.NominalMinor, balanceAfterMinor = x.BalanceAfterMinor, heldAfterMinor = 0 },
        NotificationRequested x => new C.NotificationRequested
        {
            notificationId = x.NotificationId, clientId = x.ClientId, contactChannel = Map(x.Contact), nominalMinor = x.NominalMinor > 0 ? x.NominalMinor : null,
            requestedBy = x.RequestedBy, reason = x.Reason,
        },
        NotificationOverdue x => new C.NotificationOverdue
        {
            notificationId = x.NotificationId, requestedAt = x.RequestedAt.UtcDateTime, slaSeconds = (int)Math.Min(int.MaxValue, x.Sla.TotalSeconds), clientId = x.ClientId,
        },
        PaymentAuthorized x => new C.CertificateAuthorized
        {
            paymentId = x.PaymentId, amountMinor = x.AmountMinor, balanceAfterMinor = x.BalanceAfterMinor, heldAfterMinor = x.HeldAfterMinor,
            availableAfterMinor = x.AvailableAfterMinor, expiresAt = x.ExpiresAt.UtcDateTime,
        },
        CertificateRedeemed x => new C.CertificateRedeemed { paymentId = x.PaymentId, authorizationId = x.AuthorizationId, amountMinor = x.AmountMinor, balanceAfterMinor = x.BalanceAfterMinor, heldAfterMinor = x.HeldAfterMinor },
        HoldReleased x => new C.CertificateHoldReleased
        {
            paymentId = x.PaymentId, authorizationId = x.AuthorizationId, amountMinor = x.AmountMinor, balanceAfterMinor = x.BalanceAfterMinor,
            heldAfterMinor = x.HeldAfterMinor, expired = x.Expired,
        },
        CertificateRefunded x => new C.CertificateRefunded
        {
            paymentId = x.PaymentId, capturePaymentId = x.CapturePaymentId, amountMinor = x.AmountMinor, balanceAfterMinor = x.BalanceAfterMinor, heldAfterMinor = x.HeldAfterMinor,
        },
        CertificateCancelled x => new C.CertificateCancelled
        {
            orderId = x.OrderId, reason = x.Reason, amountMinor = x.AmountMinor, balanceAfterMinor = x.BalanceAfterMinor, heldAfterMinor = x.HeldAfterMinor,
        },
        CertificateLocked x => new C.CertificateLocked { reason = x.Reason, requestedBy = x.RequestedBy },
        CertificateUnlocked x => new C.CertificateUnlocked { reason = x.Reason, requestedBy = x.RequestedBy },
        CvcDisclosed x => new C.CvcDisclosed
        {
            requestId = x.RequestId, kind = EnumMap.Convert<DisclosureKind, C.DisclosureKind>(x.Kind), notificationId = x.NotificationId, supportTicket = x.SupportTicket,
            reason = x.Reason, keyVersion = x.KeyVersion, requestedBy = x.RequestedBy, disclosuresSoFar = x.DisclosuresSoFar, agent = x.Agent,
        },
        NotificationSent x => new C.NotificationSent { notificationId = x.NotificationId, contactChannel = Map(x.Contact), attempt = x.Attempt },
        NotificationFailed x => new C.NotificationFailed { notificationId = x.NotificationId, contactChannel = Map(x.Contact), attempt = x.Attempt, reason = x.Reason, willRetry = x.WillRetry },
        CertificateOperationRejected x => Rejected(x.Operation, x.Reason, x.Message, x.AmountMinor, x.PaymentId),
        CertificateAlert x => Alert(x.Kind, x.Severity, x.Message, null),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "No stream payload for this certificate event."),
    };

    /// <summary>The stream payload of a pool event (<paramref name="pool"/> is the pool after it); null for internal bookkeeping that is not published.</summary>
    public static object? Payload(PoolEvent e, Pool? pool) => e switch
    {
        PoolLoaded x => new C.PoolLoaded
        {
            count = x.Numbers.Count,
            firstSlot = x.FirstSlot,
            lastSlot = x.FirstSlot + x.Numbers.Count - 1,
            nominalMinor = x.NominalMinor,
            availableAfter = x.AvailableAfter,
            lowWatermark = x.LowWatermark,
            series = x.Series >= 0 ? x.Series : null,
            poolVersion = Version(pool),
        },
        PoolCertificateReserved x => new C.CertificateReserved
        {
            requestId = x.RequestId, orderId = x.OrderId, nominalMinor = x.NominalMinor, reservedUntil = x.ReservedUntil.UtcDateTime, availableAfter = x.AvailableAfter,
            poolVersion = Version(pool),
        },
        Domain.Pools.ReservationExpired x => new C.CertificateReservationExpired { reservedUntil = x.ReservedUntil.UtcDateTime, availableAfter = x.AvailableAfter, poolVersion = Version(pool) },
        Domain.Pools.ReservationReleased x => new C.CertificateReservationReleased { orderId = x.OrderId, reason = x.Reason, availableAfter = x.AvailableAfter, poolVersion = Version(pool) },
        Domain.Pools.IssueBlocked x => new C.IssueBlocked { requestId = x.RequestId, orderId = x.OrderId, nominalMinor = x.NominalMinor, reason = x.Message },
        PoolOperationRejected x => Rejected(x.Operation, x.Reason, x.Message, null, null),
        PoolAlert x => Alert(x.Kind, x.Severity, x.Message, null),
        ReservationIssued => null, // the ledger publishes certificate.issued
        ReservationReplayed => null, // the stream has the first reservation already
        PoolLoadReplayed => null, // the stream has the first load already
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "No stream payload for this pool event."),
    };

    /// <summary>The certificate a pool event is about, if any: such events are keyed by the certificate id.</summary>
    public static string? CertificateOf(PoolEvent e) => e switch
    {
        PoolCertificateReserved x => x.CertificateId,
        Domain.Pools.ReservationExpired x => x.CertificateId,
        Domain.Pools.ReservationReleased x => x.CertificateId,
        ReservationIssued x => x.CertificateId,
        ReservationReplayed x => x.CertificateId,
        PoolOperationRejected x => x.CertificateId,
        PoolAlert x => x.CertificateId,
        _ => null,
    };

    /// <summary>
    /// The sequence number of a pool event on the stream: the certificate's own for a certificate's reservation events (reserved,
    /// expired, released); the pool's for the pool's events; the current number (unchanged) for refusals and alerts.
    /// </summary>
    public static long SequenceOf(PoolEvent e, Pool? pool, Func<string, long> certificateSequence) => e switch
    {
        PoolCertificateReserved x => x.CertificateSequence,
        Domain.Pools.ReservationExpired x => x.CertificateSequence,
        Domain.Pools.ReservationReleased x => x.CertificateSequence,
        PoolOperationRejected { CertificateId: { } id } => certificateSequence(id),
        PoolAlert { CertificateId: { } id } => certificateSequence(id),
        _ => pool?.Sequence ?? 0,
    };

    private static long Version(Pool? pool) => pool?.Version ?? 0;

    public static C.ContactChannel Map(ContactChannel contact) => EnumMap.Convert<ContactChannel, C.ContactChannel>(contact);

    private static C.OperationRejected Rejected(string operation, RejectionReason reason, string message, long? amount, string? paymentId) => new()
    {
        operation = operation,
        reason = EnumMap.Convert<RejectionReason, C.RejectionReason>(reason),
        message = message,
        amountMinor = amount,
        paymentId = paymentId,
    };

    public static C.Alert Alert(AlertKind kind, AlertSeverity severity, string message, IDictionary<string, string>? details) => new()
    {
        kind = EnumMap.Convert<AlertKind, C.AlertKind>(kind),
        severity = EnumMap.Convert<AlertSeverity, C.AlertSeverity>(severity),
        message = message,
        details = details ?? new Dictionary<string, string>(),
    };
}
