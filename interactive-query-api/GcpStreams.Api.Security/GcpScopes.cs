namespace GcpStreams.Api.Security;

/// <summary>
/// The OAuth2 scopes of the gift-certificate API. A token carries them in its <c>scope</c> claim, space-separated
/// (RFC 8693 §4.2 / RFC 9068 §2.2.3), as OpenIddict and most authorization servers emit it.
/// </summary>
/// <remarks><see cref="Admin"/> does not imply the other scopes: a caller needs each scope an endpoint asks for
/// (the dev <c>admin</c> client is simply granted all of them).</remarks>
public static class GcpScopes
{
    /// <summary>Look up certificates, pools and history.</summary>
    public const string Read = "gc.read";

    /// <summary>Reserve the next certificate of a pool.</summary>
    public const string Reserve = "gc.reserve";

    /// <summary>Read a certificate's CVC for a notification request until its result is recorded: the CRM notifier's scope.</summary>
    public const string CvcNotify = "gc.cvc.notify";

    /// <summary>Disclose a certificate's CVC to support: once per support ticket, with a reason, a bounded number of times a day.</summary>
    public const string CvcSupport = "gc.cvc.support";

    /// <summary>Lock and unlock certificates.</summary>
    public const string Lock = "gc.lock";

    /// <summary>Administer pools (load certificates) and other operator actions.</summary>
    public const string Admin = "gc.admin";

    /// <summary>
    /// Back office: search every channel and by client id, and see full certificate numbers. A caller bound to a channel
    /// (the <c>gcp_channel</c> claim) stays bound to it whatever its scopes.
    /// </summary>
    public const string BackOffice = "gc.backoffice";

    /// <summary>Read the BI daily reports (<c>GET /reports/daily</c>): figures per day and channel, no certificate numbers.</summary>
    public const string Report = "gc.report";

    /// <summary>Every scope, in a stable order.</summary>
    public static IReadOnlyList<string> All { get; } = [Read, Reserve, CvcNotify, CvcSupport, Lock, Admin, BackOffice, Report];

    /// <summary>Whether <paramref name="scope"/> is one of <see cref="All"/> (ordinal comparison).</summary>
    /// <param name="scope">The scope to check.</param>
    /// <returns><see langword="true"/> for a known scope.</returns>
    public static bool IsKnown(string scope) => All.Contains(scope, StringComparer.Ordinal);

    /// <summary>Splits a space-separated scope string (the OAuth2 <c>scope</c> syntax) into distinct scopes, in order.</summary>
    /// <param name="scopes">The scope string; <see langword="null"/> or blank gives an empty list.</param>
    /// <returns>The distinct scopes.</returns>
    public static IReadOnlyList<string> Parse(string? scopes) =>
        string.IsNullOrWhiteSpace(scopes)
            ? []
            : scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
}
