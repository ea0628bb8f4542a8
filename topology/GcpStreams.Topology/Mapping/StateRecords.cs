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
        switch (certificate)
        {
            case Certificate.Active a:
                record.locked = a.Locked;
                record.lockReason = a.LockReason;
                record.balanceMinor = a.BalanceMinor;
                record.heldMinor = a.HeldMinor;
                record.orderId = a.OrderId;
                record.clientId = a.ClientId;
                record.issuedAt = a.IssuedAt.UtcDateTime;
                record.cvcDisclosures = a.CvcDisclosures;
                record.cvcDisclosuresAllowed = a.CvcDisclosuresAllowed;
                break;
            case Certificate.Cancelled c:
                record.orderId = c.OrderId;
                break;
        }

        return record;
    }

    /// <summary>A certificate its pool handed out and that no order has issued yet.</summary>
    public static C.CertificateState Reserved(Pool pool, PoolCertificateReserved e, string lastEventId) =>
        WithReservation(Base(Identity(pool, e.CertificateId), C.CertificateStatus.RESERVED, lastEventId, pool.Sequence, e.At), e.OrderId, e.ReservedUntil);

    /// <summary>A certificate whose reservation expired: back in its pool, available again.</summary>
    public static C.CertificateState Available(Pool pool, Domain.Pools.ReservationExpired e, string lastEventId) =>
        Base(Identity(pool, e.CertificateId), C.CertificateStatus.AVAILABLE, lastEventId, pool.Sequence, e.At);

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
