using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// One event of a certificate's history: a compact projection of its <see cref="GiftCertificateEvent"/>.
/// </summary>
/// <param name="EventId">The deterministic event id.</param>
/// <param name="EventType">Dotted type, e.g. <c>certificate.redeemed</c>.</param>
/// <param name="OccurredAt">Event time (from the input, not the wall clock).</param>
/// <param name="Sequence">
/// The envelope sequence. Careful: <c>certificate.reserved</c> and <c>certificate.reservation_expired</c> are decided by
/// the pool and carry the pool's sequence; from <c>certificate.issued</c> on, the certificate's own sequence (from 1).
/// </param>
/// <param name="PoolId">Pool of the certificate, when known.</param>
/// <param name="Channel">Channel of the certificate (UNKNOWN when none is known).</param>
/// <param name="Currency">Currency of the amounts.</param>
/// <param name="CorrelationId">Correlation id propagated from the input, if any.</param>
/// <param name="AmountMinor">Amount of the operation, when the payload has one (authorize, redeem, release, refund, rejection).</param>
/// <param name="BalanceAfterMinor">Balance after the event, when the payload says (issue, redeem, refund).</param>
/// <param name="HeldAfterMinor">Total held after the event, when the payload says (authorize, redeem, release).</param>
/// <param name="Detail">A short human detail when the payload has one: reason, order id, payment id.</param>
/// <param name="StoreId">The store (or POS location) of the input that caused the event, when it named one (a payment's storeId).</param>
public sealed record HistoryEntry(
    string EventId,
    string EventType,
    DateTimeOffset OccurredAt,
    long Sequence,
    string? PoolId,
    Channel Channel,
    string? Currency,
    string? CorrelationId,
    long? AmountMinor,
    long? BalanceAfterMinor,
    long? HeldAfterMinor,
    string? Detail,
    string? StoreId = null)
{
    /// <summary>Projects an event envelope.</summary>
    public static HistoryEntry From(GiftCertificateEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        long? amount = null, balance = null, held = null;
        string? detail = null;
        switch (e.payload)
        {
            case CertificateIssued x:
                amount = x.nominalMinor;
                balance = x.balanceAfterMinor;
                held = x.heldAfterMinor;
                detail = x.orderId;
                break;
            case CertificateAuthorized x:
                amount = x.amountMinor;
                balance = x.balanceAfterMinor;
                held = x.heldAfterMinor;
                detail = x.paymentId;
                break;
            case CertificateRedeemed x:
                amount = x.amountMinor;
                balance = x.balanceAfterMinor;
                held = x.heldAfterMinor;
                detail = x.paymentId;
                break;
            case CertificateHoldReleased x:
                amount = x.amountMinor;
                balance = x.balanceAfterMinor;
                held = x.heldAfterMinor;
                detail = x.expired ? $"{x.authorizationId} expired" : x.paymentId;
                break;
            case CertificateRefunded x:
                amount = x.amountMinor;
                balance = x.balanceAfterMinor;
                held = x.heldAfterMinor;
                detail = x.paymentId;
                break;
            case CertificateReserved x:
                detail = x.orderId;
                break;
            case CertificateCancelled x:
                amount = x.amountMinor;
                balance = x.balanceAfterMinor;
                held = x.heldAfterMinor;
                detail = x.reason;
                break;
            case CertificateReservationReleased x:
                detail = x.reason;
                break;
            case CertificateLocked x:
                detail = x.reason;
                break;
            case CertificateUnlocked x:
                detail = x.reason;
                break;
            case OperationRejected x:
                amount = x.amountMinor;
                detail = $"{x.operation}: {x.reason}";
                break;
            case Alert x:
                detail = $"{x.kind}: {x.message}";
                break;
            case NotificationRequested x:
                detail = x.requestedBy is null ? x.notificationId : $"{x.notificationId} again, asked by {x.requestedBy}: {x.reason}";
                break;
            case NotificationSent x:
                detail = $"{x.notificationId} by {x.contactChannel}, attempt {x.attempt}";
                break;
            case NotificationFailed x:
                detail = $"{x.notificationId} by {x.contactChannel}, attempt {x.attempt}{(x.willRetry ? " (will retry)" : string.Empty)}: {x.reason}";
                break;
            case NotificationOverdue x:
                detail = $"{x.notificationId} has no result after {x.slaSeconds} s";
                break;
        }

        return new HistoryEntry(e.eventId, e.eventType, new DateTimeOffset(DateTime.SpecifyKind(e.occurredAt, DateTimeKind.Utc)), e.sequence,
            e.poolId, e.channel, e.currency, e.correlationId, amount, balance, held, detail, e.storeId);
    }
}

/// <summary>
/// A pool as the read model sees it.
/// </summary>
/// <param name="PoolId">The pool id.</param>
/// <param name="Channel">Channel of the pool (from its events, or from its certificates' states when no pool event was read).</param>
/// <param name="NominalMinor">Nominal of every certificate of the pool.</param>
/// <param name="Currency">Currency of the pool.</param>
/// <param name="LowWatermark">Below this many available certificates a POOL_LOW alert is raised (from the latest pool.loaded).</param>
/// <param name="Available">
/// Certificates available in the pool: <c>availableAfter</c> of the pool event with the highest <c>poolVersion</c>
/// (pool.loaded, certificate.reserved, certificate.reservation_expired, certificate.reservation_released). Those events come
/// on different partitions (reservations are keyed by certificate), so the highest version wins, not the last one read.
/// </param>
/// <param name="Loaded">Sum of <c>count</c> over the distinct pool.loaded events.</param>
/// <param name="Reserved">Certificates of the pool whose latest state is RESERVED (from GiftCertificates.State).</param>
/// <param name="Issued">
/// Certificates of the pool whose latest state is past issue: ACTIVE, PARTIALLY_REDEEMED, EXHAUSTED or CANCELLED
/// (from GiftCertificates.State, so it survives stream retention; a cancelled certificate was issued once).
/// </param>
/// <param name="IssueBlocked">How many issue.blocked events the pool had (requests refused because it was empty).</param>
/// <param name="Sequence">The pool's sequence: that of its latest own event on the stream (pool.loaded, issue.blocked; 0 when only states were read).</param>
/// <param name="UpdatedAt">occurredAt of the pool's latest event (own, or of one of its certificates' reservations), if any.</param>
/// <param name="Series">The pool's certificate number series, once a generating load is on the stream; null for imported-only pools.</param>
public sealed record PoolView(
    string PoolId,
    Channel Channel,
    long NominalMinor,
    string? Currency,
    int LowWatermark,
    long Available,
    long Loaded,
    int Reserved,
    int Issued,
    long IssueBlocked,
    long Sequence,
    DateTimeOffset? UpdatedAt,
    int? Series = null)
{
    /// <summary>True when the available count is below the low watermark.</summary>
    public bool IsLow => Available < LowWatermark;
}

/// <summary>What the stream says about one pool (mutable; owned by <see cref="ReadModelStore"/> under its lock).</summary>
internal sealed class PoolProjection(string poolId)
{
    private long version = -1;

    public string PoolId { get; } = poolId;
    public Channel Channel { get; private set; }
    public long NominalMinor { get; private set; }
    public string? Currency { get; private set; }
    public int LowWatermark { get; private set; }
    public int? Series { get; private set; }
    public long Available { get; private set; }
    public long Loaded { get; private set; }
    public long IssueBlocked { get; private set; }
    public long Sequence { get; private set; }
    public DateTimeOffset? UpdatedAt { get; private set; }
    public bool FromStream { get; private set; }

    /// <summary>
    /// Applies a pool event or a reservation event of one of the pool's certificates; false for a pool event read again.
    /// The pool's own numbered events (pool.loaded, issue.blocked) come in order on the pool's partition, so one at or below
    /// the pool's sequence was applied already; the levels of the others go by poolVersion, so reading one again changes nothing.
    /// </summary>
    public bool Apply(GiftCertificateEvent e)
    {
        var numbered = e.certificateId is null && e.payload is PoolLoaded or Contracts.IssueBlocked;
        if (numbered && e.sequence <= Sequence)
        {
            return false;
        }

        FromStream = true;
        if (e.channel != Channel.UNKNOWN)
        {
            Channel = e.channel;
        }

        Currency = e.currency ?? Currency;
        (long Version, long Available)? level = null;
        switch (e.payload)
        {
            case PoolLoaded x:
                Loaded += x.count;
                NominalMinor = x.nominalMinor;
                LowWatermark = x.lowWatermark;
                Series = x.series ?? Series;
                level = (x.poolVersion, x.availableAfter);
                break;
            case CertificateReserved x:
                NominalMinor = NominalMinor == 0 ? x.nominalMinor : NominalMinor;
                level = (x.poolVersion, x.availableAfter);
                break;
            case CertificateReservationExpired x:
                level = (x.poolVersion, x.availableAfter);
                break;
            case CertificateReservationReleased x:
                level = (x.poolVersion, x.availableAfter);
                break;
            case Contracts.IssueBlocked:
                IssueBlocked++;
                break;
        }

        if (numbered)
        {
            Sequence = e.sequence;
        }

        if (level is { } l && l.Version >= version)
        {
            version = l.Version;
            Available = l.Available;
            UpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(e.occurredAt, DateTimeKind.Utc));
        }
        else if (level is null && e.certificateId is null)
        {
            UpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(e.occurredAt, DateTimeKind.Utc));
        }

        return true;
    }

    /// <summary>The projection as stored (key <c>P poolId</c>).</summary>
    public byte[] Serialize()
    {
        using var stream = new MemoryStream(128);
        using (var w = new BinaryWriter(stream))
        {
            w.Write(version);
            w.Write((byte)Channel);
            w.Write(NominalMinor);
            Storage.Values.Optional(w, Currency);
            w.Write(LowWatermark);
            Storage.Values.Optional(w, Series);
            w.Write(Available);
            w.Write(Loaded);
            w.Write(IssueBlocked);
            w.Write(Sequence);
            Storage.Values.Optional(w, UpdatedAt?.UtcTicks);
            w.Write(FromStream);
        }

        return stream.ToArray();
    }

    /// <summary>A projection read back from <see cref="Serialize"/>.</summary>
    public static PoolProjection Deserialize(string poolId, byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        var pool = new PoolProjection(poolId) { version = r.ReadInt64() };
        pool.Channel = (Channel)r.ReadByte();
        pool.NominalMinor = r.ReadInt64();
        pool.Currency = Storage.Values.OptionalString(r);
        pool.LowWatermark = r.ReadInt32();
        pool.Series = Storage.Values.OptionalInt(r);
        pool.Available = r.ReadInt64();
        pool.Loaded = r.ReadInt64();
        pool.IssueBlocked = r.ReadInt64();
        pool.Sequence = r.ReadInt64();
        pool.UpdatedAt = Storage.Values.OptionalLong(r) is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        pool.FromStream = r.ReadBoolean();
        return pool;
    }

    public void Learn(CertificateState state)
    {
        if (FromStream)
        {
            return;
        }

        Channel = state.channel;
        NominalMinor = state.nominalMinor;
        Currency = state.currency;
    }
}
