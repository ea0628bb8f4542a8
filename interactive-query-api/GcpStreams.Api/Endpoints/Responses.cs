using GcpStreams.Api.ReadModel;
using GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// A certificate as the API shows it (never the CVC, which the read model does not hold); <see cref="CertificateId"/> is masked to
/// its last four digits, and <see cref="OrderId"/> and <see cref="ClientId"/> are null, for callers not entitled to them (<see cref="CallerAccess"/>). Amounts are in minor units
/// of <see cref="Currency"/>; the balance is the nominal minus what was captured plus what was refunded, and
/// <see cref="HeldMinor"/> is what authorizations hold of it.
/// </summary>
/// <param name="Sequence">
/// The version of this state: until issue the pool's sequence (the reservation was decided by the pool), from
/// <c>certificate.issued</c> on the certificate's own, from 1.
/// </param>
public sealed record CertificateResponse(
    string CertificateId,
    string Status,
    long BalanceMinor,
    long HeldMinor,
    long NominalMinor,
    string Currency,
    string Channel,
    string PoolId,
    bool Locked,
    string? LockReason,
    string? OrderId,
    string? ClientId,
    DateTimeOffset? ReservedUntil,
    DateTimeOffset? IssuedAt,
    long Sequence,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The state as <paramref name="access"/> may see it: the number masked and the buyer and order left out where it must not (<see cref="CallerAccess"/>).</summary>
    public static CertificateResponse From(CertificateState s, CallerAccess access) => new(
        access.Number(s.certificateId), s.status.ToString(), s.balanceMinor, s.heldMinor, s.nominalMinor, s.currency, s.channel.ToString(), s.poolId,
        s.locked, s.lockReason, access.SeesCustomer ? s.orderId : null, access.SeesCustomer ? s.clientId : null,
        Utc(s.reservedUntil), Utc(s.issuedAt), s.sequence, Utc(s.updatedAt));

    internal static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    internal static DateTimeOffset? Utc(DateTime? time) => time is { } t ? Utc(t) : null;
}

/// <summary>
/// One page of a search, ordered by certificate id. <see cref="NextCursor"/> null means the end; otherwise pass it as
/// <c>cursor</c> for the next page — a page may be short or even empty and still have a cursor (a page stops after a
/// bounded number of candidates), so only a null cursor ends the listing.
/// </summary>
public sealed record CertificatePageResponse(IReadOnlyList<CertificateResponse> Items, string? NextCursor);

/// <summary>
/// One event of a certificate's history (amounts in minor units; null when the event has none); <see cref="StoreId"/> is the store
/// (or POS location) of the payment that caused it, when the payment named one.
/// </summary>
public sealed record HistoryEventResponse(
    string EventId,
    string EventType,
    DateTimeOffset OccurredAt,
    long Sequence,
    string? PoolId,
    string Channel,
    string? Currency,
    string? CorrelationId,
    long? AmountMinor,
    long? BalanceAfterMinor,
    long? HeldAfterMinor,
    string? Detail,
    string? StoreId)
{
    /// <summary>The event as <paramref name="access"/> may see it: without the order id (the detail of a reservation or issue) for a POS caller.</summary>
    public static HistoryEventResponse From(HistoryEntry e, CallerAccess access) => new(
        e.EventId, e.EventType, e.OccurredAt, e.Sequence, e.PoolId, e.Channel.ToString(), e.Currency, e.CorrelationId,
        e.AmountMinor, e.BalanceAfterMinor, e.HeldAfterMinor, access.SeesCustomer || !NamesOrder(e.EventType) ? e.Detail : null, e.StoreId);

    private static bool NamesOrder(string eventType) => eventType is Domain.EventTypes.Reserved or Domain.EventTypes.Issued;
}

/// <summary>A certificate's events, in stream order.</summary>
public sealed record CertificateHistoryResponse(string CertificateId, IReadOnlyList<HistoryEventResponse> Events);

/// <summary>
/// The levels of a pool: <see cref="Available"/> certificates left to reserve, <see cref="Reserved"/> held for orders,
/// <see cref="Issued"/> sold (active, partially redeemed, exhausted or cancelled), <see cref="Loaded"/> in total;
/// <see cref="IsLow"/> when available is below the low watermark.
/// </summary>
public sealed record PoolResponse(
    string PoolId,
    string Channel,
    long NominalMinor,
    string? Currency,
    long Available,
    int Reserved,
    int Issued,
    long Loaded,
    int LowWatermark,
    bool IsLow,
    long IssueBlocked,
    long Sequence,
    DateTimeOffset? UpdatedAt,
    int? Series)
{
    public static PoolResponse From(PoolView p) => new(
        p.PoolId, p.Channel.ToString(), p.NominalMinor, p.Currency, p.Available, p.Reserved, p.Issued, p.Loaded, p.LowWatermark, p.IsLow,
        p.IssueBlocked, p.Sequence, p.UpdatedAt, p.Series);
}

/// <summary>Every pool, ordered by pool id.</summary>
public sealed record PoolListResponse(IReadOnlyList<PoolResponse> Items);
