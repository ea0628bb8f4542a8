using System.Security.Claims;

namespace GcpStreams.Api.Security;

/// <summary>
/// The service's own claims in an access token. In embedded mode the token endpoint writes them from the dev client's
/// settings (<see cref="DevClientOptions.Channel"/>); in Authority mode the authorization server must map them onto the
/// client's access tokens (a hard-coded claim of the client, or a claim mapper).
/// </summary>
public static class GcpClaims
{
    /// <summary>
    /// The sales channel the caller is bound to (<c>POS</c>, <c>INTERNET_STORE</c>, ...): it sees and reserves only that
    /// channel's certificates and pools, with masked numbers. A caller without it is not bound to a channel.
    /// </summary>
    public const string Channel = "gcp_channel";

    /// <summary>The channel names <see cref="Channel"/> may carry (the symbols of the contracts' <c>Channel</c> enum but UNKNOWN).</summary>
    public static IReadOnlyList<string> Channels { get; } = ["POS", "INTERNET_STORE", "MOBILE_APP", "CALL_CENTER", "PARTNER"];

    /// <summary>Whether <paramref name="channel"/> is one of <see cref="Channels"/> (exact, upper case).</summary>
    /// <param name="channel">A channel name.</param>
    /// <returns><see langword="true"/> for a known channel.</returns>
    public static bool IsChannel(string? channel) => channel is not null && Channels.Contains(channel, StringComparer.Ordinal);

    /// <summary>The channel <paramref name="principal"/> is bound to, or <see langword="null"/> when it names none.</summary>
    /// <param name="principal">The token's claims.</param>
    /// <returns>The claim's value, as sent (validated by <see cref="AccessTokenRules.Refusal"/>).</returns>
    public static string? ChannelOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindFirst(Channel)?.Value;
    }
}
