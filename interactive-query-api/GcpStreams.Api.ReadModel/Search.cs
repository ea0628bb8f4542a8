using System.Buffers.Text;
using System.Text;
using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// What to search for: every criterion that is set must hold (an intersection); none set means every certificate.
/// String criteria compare ordinally (exact match, case-sensitive).
/// </summary>
public sealed record CertificateFilter(
    CertificateStatus? Status = null,
    Channel? Channel = null,
    string? PoolId = null,
    string? OrderId = null,
    string? ClientId = null)
{
    /// <summary>The filter that matches every certificate.</summary>
    public static readonly CertificateFilter None = new();

    /// <summary>True when no criterion is set (paging over every certificate id).</summary>
    public bool IsEmpty => Status is null && Channel is null && PoolId is null && OrderId is null && ClientId is null;

    /// <summary>True when <paramref name="state"/> meets every criterion that is set.</summary>
    public bool Matches(CertificateState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return (Status is not { } status || state.status == status)
            && (Channel is not { } channel || state.channel == channel)
            && (PoolId is null || string.Equals(state.poolId, PoolId, StringComparison.Ordinal))
            && (OrderId is null || string.Equals(state.orderId, OrderId, StringComparison.Ordinal))
            && (ClientId is null || string.Equals(state.clientId, ClientId, StringComparison.Ordinal));
    }
}

/// <summary>
/// One page of a search, ordered by certificate id (ordinal). <see cref="NextCursor"/> is null on the last page;
/// otherwise pass it back to get the page after this one. The states are shared with the model: treat them as read-only.
/// </summary>
public sealed record CertificatePage(IReadOnlyList<CertificateState> Items, string? NextCursor);

/// <summary>
/// The opaque paging cursor: the last certificate id of a page, base64url-encoded behind a version tag.
/// A cursor stays valid while certificates change: the next page starts strictly after that id.
/// </summary>
public static class SearchCursor
{
    private const string Prefix = "c1:";

    /// <summary>The cursor that continues after <paramref name="lastCertificateId"/>.</summary>
    public static string Encode(string lastCertificateId)
    {
        ArgumentNullException.ThrowIfNull(lastCertificateId);
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + lastCertificateId));
    }

    /// <summary>The certificate id a cursor continues after.</summary>
    /// <exception cref="FormatException">The cursor was not made by <see cref="Encode"/>.</exception>
    public static string Decode(string cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException e)
        {
            throw new FormatException("The paging cursor is not valid.", e);
        }

        return text.StartsWith(Prefix, StringComparison.Ordinal) && text.Length > Prefix.Length
            ? text[Prefix.Length..]
            : throw new FormatException("The paging cursor is not valid.");
    }
}
