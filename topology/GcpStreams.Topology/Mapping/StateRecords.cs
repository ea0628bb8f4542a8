using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Mapping;

/// <summary>The compacted <c>GiftCertificates.State</c> record of a certificate: its latest state, never a secret.</summary>
public static class StateRecords
{
    public static C.CertificateState Of(Certificate certificate, string lastEventId, DateTimeOffset updatedAt)
    {
        var record = Base(certificate.Identity, EnumMap.Convert<CertificateStatus, C.CertificateStatus>(certificate.Status), lastEventId, certificate.Sequence, updatedAt);
        record.locked = certificate.Locked;
        record.lockReason = certificate.LockReason;
        record.balanceMinor = certificate.BalanceMinor;
        record.heldMinor = certificate.HeldMinor;
        record.orderId = certificate.OrderId;
        record.clientId = certificate.ClientId;
        record.issuedAt = certificate.IssuedAt.UtcDateTime;
        record.cvcDisclosures = certificate.CvcDisclosures;
        record.cvcDisclosuresAllowed = certificate.CvcDisclosuresAllowed;
        return record;
    }

    /// <summary>A certificate its pool handed out and that no order has issued yet.</summary>
    public static C.CertificateState Reserved(Pool pool, PoolCertificateReserved e, string lastEventId) =>
        WithReservation(Base(Identity(pool, e.CertificateId), C.CertificateStatus.RESERVED, lastEventId, e.CertificateSequence, e.At), e.OrderId, e.ReservedUntil);

    /// <summary>A certificate whose reservation expired or was released: back in its pool, available again.</summary>
    public static C.CertificateState Available(Pool pool, string certificateId, long certificateSequence, DateTimeOffset at, string lastEventId) =>
        Base(Identity(pool, certificateId), C.CertificateStatus.AVAILABLE, lastEventId, certificateSequence, at);

    private static CertificateIdentity Identity(Pool pool, string certificateId) => new(certificateId, pool.PoolId, pool.Channel, pool.NominalMinor, pool.Currency);

    private static C.CertificateState WithReservation(C.CertificateState record, string? orderId, DateTimeOffset until)
    {
        record.orderId = orderId;
        record.reservedUntil = until.UtcDateTime;
        return record;
    }

    private static C.CertificateState Base(CertificateIdentity identity, C.CertificateStatus status, string lastEventId, long sequence, DateTimeOffset updatedAt) => new()
    {
        certificateId = identity.CertificateId,
        poolId = identity.PoolId,
        channel = EnumMap.Convert<Channel, C.Channel>(identity.Channel),
        status = status,
        nominalMinor = identity.NominalMinor,
        currency = identity.Currency,
        lastEventId = lastEventId,
        sequence = sequence,
        updatedAt = updatedAt.UtcDateTime,
    };
}
