using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>
/// What a bearer token must be, beyond its signature, issuer, audience and lifetime (both modes): an access token
/// (header <c>typ</c> <c>at+jwt</c> or <c>JWT</c>, and none of the claims only ID tokens carry) that names its client
/// (<c>client_id</c>, <c>azp</c> or <c>sub</c>), since the client is the caller of every command, the audit identity and
/// the rate-limit partition; and whose <c>gcp_channel</c> claim, when present, is one known channel. A token that breaks a rule is a 401.
/// </summary>
public static class AccessTokenRules
{
    /// <summary>The header <c>typ</c> values of an access token (RFC 9068 §2.1, and the classic <c>JWT</c>), in any case.</summary>
    public static IReadOnlyList<string> AccessTokenTypes { get; } = ["at+jwt", "application/at+jwt", "JWT"];

    /// <summary>The claims that identify the client, in the order they are read.</summary>
    public static IReadOnlyList<string> ClientClaims { get; } = ["client_id", "azp", "sub"];

    /// <summary>Claims only OpenID Connect ID tokens carry (OIDC Core §2, §3.3.2.11).</summary>
    private static readonly string[] IdTokenClaims = ["nonce", "at_hash", "c_hash"];

    /// <summary>The type check: <paramref name="type"/> must be one of <see cref="AccessTokenTypes"/> (ignoring case).</summary>
    /// <param name="type">The header's <c>typ</c>.</param>
    /// <param name="token">The token.</param>
    /// <param name="parameters">The validation parameters.</param>
    /// <returns><paramref name="type"/>.</returns>
    /// <exception cref="SecurityTokenInvalidTypeException">Another type, or none.</exception>
    public static string ValidateType(string? type, SecurityToken token, TokenValidationParameters parameters) =>
        !string.IsNullOrEmpty(type) && AccessTokenTypes.Contains(type, StringComparer.OrdinalIgnoreCase)
            ? type
            : throw new SecurityTokenInvalidTypeException(
                $"The token's type (header typ) is '{(string.IsNullOrEmpty(type) ? "none" : type)}'; an access token is {string.Join(" or ", AccessTokenTypes)}.") { InvalidType = type };

    /// <summary>
    /// Why <paramref name="principal"/>, from a token that passed validation, is still refused: it is an ID token (an
    /// ID-token-only claim, or Keycloak's <c>typ</c> claim <c>ID</c>), or it names no client. <see langword="null"/>
    /// when it is fine.
    /// </summary>
    /// <param name="principal">The token's claims, named as in the token.</param>
    /// <returns>The failure to report, or <see langword="null"/>.</returns>
    public static SecurityTokenValidationException? Refusal(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var idClaim = IdTokenClaims.FirstOrDefault(c => principal.HasClaim(claim => claim.Type == c));
        if (idClaim is not null || principal.HasClaim("typ", "ID"))
        {
            return new SecurityTokenInvalidTypeException(
                $"The token is an ID token (it carries '{idClaim ?? "typ: ID"}'), not an access token.") { InvalidType = "ID token" };
        }

        if (ClientOf(principal) is null)
        {
            return new SecurityTokenWithoutClientException($"The access token names no client: it needs one of the claims {string.Join(", ", ClientClaims)}.");
        }

        var channels = principal.FindAll(GcpClaims.Channel).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        return channels.Count > 1 || (channels.Count == 1 && !GcpClaims.IsChannel(channels[0]))
            ? new SecurityTokenValidationException(
                $"The token's {GcpClaims.Channel} claim must be one channel of {string.Join(", ", GcpClaims.Channels)} (got '{string.Join("', '", channels)}').")
            : null;
    }

    /// <summary>The client a token names: its first non-empty <see cref="ClientClaims"/> claim, or <see langword="null"/>.</summary>
    /// <param name="principal">The token's claims.</param>
    /// <returns>The client id.</returns>
    public static string? ClientOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return ClientClaims.Select(c => principal.FindFirst(c)?.Value).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
    }

    /// <summary>JwtBearer's <c>OnTokenValidated</c>: fails the authentication (401) when <see cref="Refusal"/> says why.</summary>
    /// <param name="context">The validated token's context.</param>
    /// <returns>A completed task.</returns>
    public static Task OnTokenValidated(TokenValidatedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Refusal(context.Principal ?? new ClaimsPrincipal()) is { } refusal)
        {
            context.Fail(refusal);
        }

        return Task.CompletedTask;
    }
}

/// <summary>A valid token that names no client (no <c>client_id</c>, <c>azp</c> nor <c>sub</c>).</summary>
public sealed class SecurityTokenWithoutClientException : SecurityTokenValidationException
{
    /// <summary>Creates the exception.</summary>
    public SecurityTokenWithoutClientException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is missing.</param>
    public SecurityTokenWithoutClientException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is missing.</param>
    /// <param name="innerException">The cause.</param>
    public SecurityTokenWithoutClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
