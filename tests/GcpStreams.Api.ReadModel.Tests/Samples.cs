using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel.Tests;

/// <summary>Synthetic CertificateState records and stream events.</summary>
internal static class Samples
{
    public static readonly DateTime Epoch = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    public static CertificateState State(
        string id,
        string pool = "pool-pos-50",
        CertificateStatus status = CertificateStatus.ACTIVE,
        Channel channel = Channel.POS,
        string? order = null,
        string? client = null,
        long sequence = 1,
        string? lastEventId = null) => new()
        {
            certificateId = id,
            poolId = pool,
            channel = channel,
            status = status,
            nominalMinor = 5000,
            currency = "EUR",
            balanceMinor = 5000,
            heldMinor = 0,
            orderId = order,
            clientId = client,
            issuedAt = status is CertificateStatus.AVAILABLE or CertificateStatus.RESERVED ? null : Epoch,
            reservedUntil = status is CertificateStatus.RESERVED ? Epoch.AddMinutes(30) : null,
            cvcDisclosures = 0,
            cvcDisclosuresAllowed = 0,
            lastEventId = lastEventId ?? $"{id}-e{sequence}",
            sequence = sequence,
            updatedAt = Epoch.AddSeconds(sequence),
        };

    public static GiftCertificateEvent Event(string eventId, string eventType, object payload, string? certificateId, string? pool = "pool-pos-50", long sequence = 1, Channel channel = Channel.POS) => new()
    {
        eventId = eventId,
        eventType = eventType,
        certificateId = certificateId,
        poolId = pool,
        channel = channel,
        currency = "EUR",
        occurredAt = Epoch.AddSeconds(sequence),
        causationId = "cause-" + eventId,
        sequence = sequence,
        payload = payload,
    };

    public static GiftCertificateEvent Loaded(string eventId, string pool, int count, long availableAfter, long sequence, int lowWatermark = 2, int? series = 3) =>
        Event(eventId, "pool.loaded", new PoolLoaded { count = count, firstSlot = 0, lastSlot = count - 1, nominalMinor = 5000, availableAfter = availableAfter, lowWatermark = lowWatermark, series = series, poolVersion = sequence }, null, pool, sequence);

    /// <summary>A certificate.reserved event: <paramref name="sequence"/> is the certificate's, <paramref name="poolVersion"/> the pool's (default: the same).</summary>
    public static GiftCertificateEvent Reserved(string eventId, string certificateId, string pool, long availableAfter, long sequence, string? order = "order-1", long? poolVersion = null) =>
        Event(eventId, "certificate.reserved", new CertificateReserved
        {
            requestId = "req-" + eventId, orderId = order, nominalMinor = 5000, reservedUntil = Epoch.AddMinutes(30), availableAfter = availableAfter, poolVersion = poolVersion ?? sequence,
        }, certificateId, pool, sequence);

    public static GiftCertificateEvent Issued(string eventId, string certificateId, string pool, string order = "order-1", long sequence = 1) =>
        Event(eventId, "certificate.issued", new CertificateIssued { orderId = order, clientId = "client-1", nominalMinor = 5000, balanceAfterMinor = 5000 }, certificateId, pool, sequence);

    public static GiftCertificateEvent Redeemed(string eventId, string certificateId, long amount, long balanceAfter, long sequence) =>
        Event(eventId, "certificate.redeemed", new CertificateRedeemed { paymentId = "pay-" + eventId, amountMinor = amount, balanceAfterMinor = balanceAfter, heldAfterMinor = 0 }, certificateId, sequence: sequence);

    public static GiftCertificateEvent Rejected(string eventId, string certificateId, long sequence) =>
        Event(eventId, "operation.rejected", new OperationRejected { operation = "capture", reason = RejectionReason.INSUFFICIENT_FUNDS, message = "too much", amountMinor = 99999 }, certificateId, sequence: sequence);

    public static GiftCertificateEvent Blocked(string eventId, string pool, long sequence) =>
        Event(eventId, "issue.blocked", new IssueBlocked { requestId = "req-" + eventId, nominalMinor = 5000, reason = "pool empty" }, null, pool, sequence);

    public static GiftCertificateEvent Expired(string eventId, string certificateId, string pool, long availableAfter, long sequence) =>
        Event(eventId, "certificate.reservation_expired", new CertificateReservationExpired { reservedUntil = Epoch.AddMinutes(30), availableAfter = availableAfter, poolVersion = sequence }, certificateId, pool, sequence);
}
