using System.Collections.Immutable;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// The stored form of a certificate ledger (store value, JSON): plain lists and maps, so the store format is explicit
/// and evolves by adding fields, independent of the domain's in-memory collections. Its size does not grow with the
/// certificate's payments: the payment history (captures, applied operations) is kept under keys of its own
/// (<see cref="Processing.CertificateProcessor"/>) and only the totals are here. <see cref="Captures"/> and
/// <see cref="AppliedPayments"/> are only read, from ledgers stored before that; the processor moves them out.
/// </summary>
public sealed record CertificateSnapshot(
    string Kind,
    string CertificateId, string PoolId, Channel Channel, long NominalMinor, string Currency,
    long Sequence, IReadOnlyList<string>? Seen,
    string OrderId,
    string? ClientId = null,
    DateTimeOffset IssuedAt = default,
    int CvcKeyVersion = 0,
    IReadOnlyDictionary<string, HoldSnapshot>? Holds = null,
    IReadOnlyDictionary<string, CaptureSnapshot>? Captures = null,
    IReadOnlyList<string>? AppliedPayments = null,
    bool Locked = false,
    string? LockReason = null,
    IReadOnlyList<string>? PendingCvcGrants = null,
    IReadOnlyList<SupportDisclosureSnapshot>? SupportDisclosures = null,
    int CvcDisclosures = 0,
    int CvcDisclosuresAllowed = 0,
    string? CancelReason = null,
    long CancelledMinor = 0,
    IReadOnlyList<PendingNotificationSnapshot>? PendingNotifications = null,
    long? CapturedMinor = null,
    long? RefundedMinor = null,
    byte[]? SeenDigests = null)
{
    public const string ActiveKind = "active";
    public const string CancelledKind = "cancelled";

    public static CertificateSnapshot From(Certificate certificate)
    {
        var common = new CertificateSnapshot(
            ActiveKind, certificate.Identity.CertificateId, certificate.Identity.PoolId, certificate.Identity.Channel, certificate.Identity.NominalMinor,
            certificate.Identity.Currency, certificate.Sequence, Seen: null, certificate.OrderId, certificate.ClientId, certificate.IssuedAt,
            certificate.CvcKeyVersion, Locked: certificate.Locked, LockReason: certificate.LockReason,
            CvcDisclosures: certificate.CvcDisclosures, CvcDisclosuresAllowed: certificate.CvcDisclosuresAllowed, SeenDigests: certificate.Seen.ToBytes());
        return certificate switch
        {
            Certificate.Active a => common with
            {
                Holds = a.Holds.ToDictionary(h => h.Key, h => new HoldSnapshot(h.Value.AmountMinor, h.Value.ExpiresAt), StringComparer.Ordinal),
                CapturedMinor = a.CapturedMinor,
                RefundedMinor = a.RefundedMinor,
                PendingNotifications = [.. a.PendingNotifications.Select(p => new PendingNotificationSnapshot(p.NotificationId, p.RequestedAt, p.Overdue))],
                SupportDisclosures = [.. a.SupportDisclosures.Select(d => new SupportDisclosureSnapshot(d.TicketDigest, d.At))],
            },
            Certificate.Cancelled c => common with { Kind = CancelledKind, CancelReason = c.Reason, CancelledMinor = c.CancelledMinor },
            _ => throw new ArgumentOutOfRangeException(nameof(certificate), certificate.GetType().Name, "Unknown certificate state."),
        };
    }

    public Certificate ToDomain()
    {
        var identity = new CertificateIdentity(CertificateId, PoolId, Channel, NominalMinor, Currency);
        var seen = StoredRecentIds.Read(SeenDigests, Seen);
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
                Holds = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                    (Holds ?? ImmutableDictionary<string, HoldSnapshot>.Empty).Select(h => KeyValuePair.Create(h.Key, new Hold(h.Value.AmountMinor, h.Value.ExpiresAt)))),
                Captures = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                    (Captures ?? ImmutableDictionary<string, CaptureSnapshot>.Empty).Select(c => KeyValuePair.Create(c.Key, c.Value.ToDomain()))),
                AppliedPayments = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, AppliedPayments ?? []),
                CapturedMinor = CapturedMinor ?? Captures?.Values.Sum(c => c.AmountMinor) ?? 0,
                RefundedMinor = RefundedMinor ?? Captures?.Values.Sum(c => c.RefundedMinor) ?? 0,
                Locked = Locked,
                LockReason = LockReason,
                PendingNotifications = PendingNotifications is not null
                    ? [.. PendingNotifications.Select(p => new PendingNotification(p.NotificationId, p.RequestedAt, p.Overdue))]
                    : [.. (PendingCvcGrants ?? []).Select(id => new PendingNotification(id, IssuedAt))], // stored before issue 12: one grant per id
                SupportDisclosures = [.. (SupportDisclosures ?? []).Select(d => new SupportDisclosure(d.TicketDigest, d.At))],
                CvcDisclosures = CvcDisclosures,
                CvcDisclosuresAllowed = CvcDisclosuresAllowed,
            },
            CancelledKind => new Certificate.Cancelled
            {
                Identity = identity,
                Sequence = Sequence,
                Seen = seen,
                OrderId = OrderId,
                ClientId = ClientId,
                IssuedAt = IssuedAt,
                CvcKeyVersion = CvcKeyVersion,
                Locked = Locked,
                LockReason = LockReason,
                CvcDisclosures = CvcDisclosures,
                CvcDisclosuresAllowed = CvcDisclosuresAllowed,
                Reason = CancelReason ?? string.Empty,
                CancelledMinor = CancelledMinor,
            },
            _ => throw new InvalidOperationException($"unknown stored certificate kind '{Kind}'"),
        };
    }
}

/// <summary>The stored history of one payment of a certificate (store value, JSON): the operations applied under its id, and its capture.</summary>
public sealed record PaymentSnapshot(IReadOnlyList<string> Operations, CaptureSnapshot? Capture)
{
    public static PaymentSnapshot Of(Certificate.Active certificate, string paymentId) => new(
        [.. certificate.AppliedPayments.Where(k => PaymentOperations.PaymentIdOf(k) == paymentId).Select(PaymentOperations.OperationOf)],
        certificate.Captures.TryGetValue(paymentId, out var capture) ? CaptureSnapshot.From(capture) : null);
}

public sealed record CaptureSnapshot(long AmountMinor, long RefundedMinor)
{
    public static CaptureSnapshot From(Capture capture) => new(capture.AmountMinor, capture.RefundedMinor);

    public Capture ToDomain() => new(AmountMinor, RefundedMinor);
}

public sealed record HoldSnapshot(long AmountMinor, DateTimeOffset ExpiresAt);

public sealed record SupportDisclosureSnapshot(string TicketDigest, DateTimeOffset At);

public sealed record PendingNotificationSnapshot(string NotificationId, DateTimeOffset RequestedAt, bool Overdue);

/// <summary>The stored form of a pool's counters (store value, JSON).</summary>
public sealed record PoolSnapshot(
    string PoolId, Channel Channel, long NominalMinor, string Currency, int LowWatermark, int Series,
    long Generated, long Head, long Tail, long Reserved, long Issued, long Loaded, long Sequence, IReadOnlyList<string>? Seen,
    long IssueBlocked = 0, long Version = 0, byte[]? SeenDigests = null)
{
    public static PoolSnapshot From(Pool p) => new(
        p.PoolId, p.Channel, p.NominalMinor, p.Currency, p.LowWatermark, p.Series, p.Generated, p.Head, p.Tail, p.Reserved, p.Issued, p.Loaded, p.Sequence, Seen: null,
        p.IssueBlocked, p.Version, p.Seen.ToBytes());

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
        Seen = StoredRecentIds.Read(SeenDigests, Seen),
        IssueBlocked = IssueBlocked,
        Version = Version,
    };
}

/// <summary>
/// An aggregate's recent input ids as stored: <c>seenDigests</c>, 8 bytes per id (base64 in the JSON); records stored before
/// that carry the ids themselves in <c>seen</c>, read once and written back as digests.
/// </summary>
internal static class StoredRecentIds
{
    public static RecentIds Read(byte[]? digests, IReadOnlyList<string>? ids) =>
        digests is not null ? RecentIds.FromBytes(digests) : RecentIds.From(ids ?? []);
}
