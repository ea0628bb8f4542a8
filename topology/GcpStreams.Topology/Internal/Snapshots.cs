using System.Collections.Immutable;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// The stored form of a certificate ledger (store value, JSON): plain lists and maps, so the store format is explicit
/// and evolves by adding fields, independent of the domain's in-memory collections.
/// </summary>
public sealed record CertificateSnapshot(
    string Kind,
    string CertificateId, string PoolId, Channel Channel, long NominalMinor, string Currency,
    long Sequence, IReadOnlyList<string> Seen,
    string OrderId,
    string? ClientId = null,
    DateTimeOffset IssuedAt = default,
    int CvcKeyVersion = 0,
    IReadOnlyDictionary<string, long>? Holds = null,
    IReadOnlyDictionary<string, CaptureSnapshot>? Captures = null,
    IReadOnlyList<string>? AppliedPayments = null,
    bool Locked = false,
    string? LockReason = null,
    IReadOnlyList<string>? PendingCvcGrants = null,
    IReadOnlyList<string>? SupportDisclosures = null,
    int CvcDisclosures = 0,
    int CvcDisclosuresAllowed = 0,
    string? CancelReason = null)
{
    public const string ActiveKind = "active";
    public const string CancelledKind = "cancelled";

    public static CertificateSnapshot From(Certificate certificate) => certificate switch
    {
        Certificate.Active a => new CertificateSnapshot(
            ActiveKind, a.Identity.CertificateId, a.Identity.PoolId, a.Identity.Channel, a.Identity.NominalMinor, a.Identity.Currency,
            a.Sequence, a.Seen.Ids, a.OrderId, a.ClientId, a.IssuedAt, a.CvcKeyVersion,
            a.Holds, a.Captures.ToDictionary(c => c.Key, c => new CaptureSnapshot(c.Value.AmountMinor, c.Value.RefundedMinor), StringComparer.Ordinal),
            [.. a.AppliedPayments], a.Locked, a.LockReason, [.. a.PendingCvcGrants], [.. a.SupportDisclosures], a.CvcDisclosures, a.CvcDisclosuresAllowed),
        Certificate.Cancelled c => new CertificateSnapshot(
            CancelledKind, c.Identity.CertificateId, c.Identity.PoolId, c.Identity.Channel, c.Identity.NominalMinor, c.Identity.Currency,
            c.Sequence, c.Seen.Ids, c.OrderId, CancelReason: c.Reason),
        _ => throw new ArgumentOutOfRangeException(nameof(certificate), certificate.GetType().Name, "Unknown certificate state."),
    };

    public Certificate ToDomain()
    {
        var identity = new CertificateIdentity(CertificateId, PoolId, Channel, NominalMinor, Currency);
        var seen = RecentIds.From(Seen);
        return Kind switch
        {
            ActiveKind => new Certificate.Active
            {
                Identity = identity,
                Sequence = Sequence,
                Seen = seen,
                OrderId = OrderId,
                ClientId = ClientId,
                IssuedAt = IssuedAt,
                CvcKeyVersion = CvcKeyVersion,
                Holds = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, Holds ?? ImmutableDictionary<string, long>.Empty),
                Captures = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                    (Captures ?? ImmutableDictionary<string, CaptureSnapshot>.Empty).Select(c => KeyValuePair.Create(c.Key, new Capture(c.Value.AmountMinor, c.Value.RefundedMinor)))),
                AppliedPayments = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, AppliedPayments ?? []),
                Locked = Locked,
                LockReason = LockReason,
                PendingCvcGrants = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, PendingCvcGrants ?? []),
                SupportDisclosures = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, SupportDisclosures ?? []),
                CvcDisclosures = CvcDisclosures,
                CvcDisclosuresAllowed = CvcDisclosuresAllowed,
            },
            CancelledKind => new Certificate.Cancelled { Identity = identity, Sequence = Sequence, Seen = seen, OrderId = OrderId, Reason = CancelReason ?? string.Empty },
            _ => throw new InvalidOperationException($"unknown stored certificate kind '{Kind}'"),
        };
    }
}

public sealed record CaptureSnapshot(long AmountMinor, long RefundedMinor);

/// <summary>The stored form of a pool's counters (store value, JSON).</summary>
public sealed record PoolSnapshot(
    string PoolId, Channel Channel, long NominalMinor, string Currency, int LowWatermark, int Series,
    long Generated, long Head, long Tail, long Reserved, long Issued, long Loaded, long Sequence, IReadOnlyList<string> Seen)
{
    public static PoolSnapshot From(Pool p) => new(
        p.PoolId, p.Channel, p.NominalMinor, p.Currency, p.LowWatermark, p.Series, p.Generated, p.Head, p.Tail, p.Reserved, p.Issued, p.Loaded, p.Sequence, p.Seen.Ids);

    public Pool ToDomain() => new()
    {
        PoolId = PoolId,
        Channel = Channel,
        NominalMinor = NominalMinor,
        Currency = Currency,
        LowWatermark = LowWatermark,
        Series = Series,
        Generated = Generated,
        Head = Head,
        Tail = Tail,
        Reserved = Reserved,
        Issued = Issued,
        Loaded = Loaded,
        Sequence = Sequence,
        Seen = RecentIds.From(Seen),
    };
}
