using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>A verified CVC support grant: what the ticketing system allowed, to whom, until when.</summary>
/// <param name="TicketId">The support ticket (claim <c>ticket_id</c>).</param>
/// <param name="CertificateId">The certificate (claim <c>certificate_id</c>).</param>
/// <param name="AgentId">The support agent, a person (claim <c>agent_id</c>).</param>
/// <param name="ClientId">The OAuth2 client the grant is issued to (claim <c>client_id</c>).</param>
/// <param name="GrantId">The grant's id (<c>jti</c>).</param>
/// <param name="IssuedAt">When it was issued (<c>iat</c>).</param>
/// <param name="ExpiresAt">When it expires (<c>exp</c>).</param>
public sealed record SupportGrant(string TicketId, string CertificateId, string AgentId, string ClientId, string GrantId, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);

/// <summary>The outcome of checking a grant: the grant, or which check failed and why (never the grant itself).</summary>
/// <param name="Grant">The verified grant, or <see langword="null"/>.</param>
/// <param name="FailedCheck">A short name of the check that failed (<c>signature</c>, <c>expired</c>, <c>certificate</c>, ...), or <see langword="null"/>.</param>
/// <param name="Failure">What failed, precisely, for the problem's <c>detail</c>; or <see langword="null"/>.</param>
public sealed record SupportGrantCheck(SupportGrant? Grant, string? FailedCheck, string? Failure)
{
    /// <summary>Whether the grant passed every check.</summary>
    public bool IsValid => Grant is not null;

    internal static SupportGrantCheck Fail(string check, string failure) => new(null, check, failure);
}

/// <summary>
/// Verifies a CVC support grant: a compact JWS the ticketing system signs for one support ticket, one certificate, one agent
/// and one calling client, for a few minutes. It must have the header <c>typ</c> <see cref="SupportGrantOptions.TokenType"/>
/// (so no access token passes as a grant), be signed with RS256 by a trusted RSA key or ES256 by a trusted P-256 key (each
/// key its own algorithm; <c>none</c>, HMAC and every other algorithm refused), name the configured issuer and audience, be
/// within its lifetime (30 s of clock skew) and live at most <see cref="SupportGrantOptions.MaxLifetimeMinutes"/> from
/// <c>iat</c> to <c>exp</c>, carry a <c>jti</c>, and its <c>ticket_id</c>, <c>agent_id</c>, <c>certificate_id</c> and
/// <c>client_id</c>: the certificate must be the one asked for and the client the caller. Thread-safe.
/// </summary>
public sealed partial class SupportGrantValidator
{
    /// <summary>Longest grant accepted, in characters (a grant is a few hundred).</summary>
    public const int MaxGrantLength = 8_192;

    /// <summary>Longest <c>jti</c> accepted.</summary>
    public const int MaxGrantIdLength = 200;

    /// <summary>The clock skew allowed on <c>iat</c>, <c>nbf</c> and <c>exp</c>.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    private readonly JsonWebTokenHandler handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters parameters;
    private readonly string issuer;
    private readonly string audience;
    private readonly TimeSpan maxLifetime;
    private readonly TimeProvider time;

    /// <summary>Creates a validator that trusts <paramref name="keys"/>.</summary>
    /// <param name="keys">The ticketing system's public keys (RSA for RS256, EC P-256 for ES256); more than one while rotating.</param>
    /// <param name="issuer">The issuer grants must name.</param>
    /// <param name="audience">The audience grants must name.</param>
    /// <param name="maxLifetime">The longest <c>exp</c> - <c>iat</c> accepted.</param>
    /// <param name="time">The clock (tests may move it).</param>
    public SupportGrantValidator(IEnumerable<SecurityKey> keys, string issuer, string audience, TimeSpan maxLifetime, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        var trusted = keys.ToArray();
        if (trusted.Length == 0 || trusted.Any(k => SupportGrantKeys.AlgorithmOf(k) is null))
        {
            throw new ArgumentException("at least one key, each an RSA or an EC P-256 key", nameof(keys));
        }

        this.issuer = issuer;
        this.audience = audience;
        this.maxLifetime = maxLifetime;
        this.time = time ?? TimeProvider.System;
        parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = trusted,
            ValidIssuer = issuer,
            ValidAudience = audience,
            ValidTypes = [SupportGrantOptions.TokenType],
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256],
            // each key signs with its own algorithm only: RS256 with an RSA key, ES256 with a P-256 key
            AlgorithmValidator = (algorithm, key, _, _) => string.Equals(algorithm, SupportGrantKeys.AlgorithmOf(key), StringComparison.Ordinal),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            LifetimeValidator = (notBefore, expires, _, _) => Lifetime(notBefore, expires),
            ClockSkew = ClockSkew,
            ValidateIssuerSigningKey = true,
            TryAllIssuerSigningKeys = true,
        };
    }

    /// <summary>The keys trusted, for the operators' view (key ids are RFC 7638 thumbprints).</summary>
    public IReadOnlyList<SecurityKey> Keys => [.. parameters.IssuerSigningKeys];

    /// <summary>Checks <paramref name="grant"/> for a disclosure of <paramref name="certificateId"/>'s CVC to <paramref name="clientId"/>.</summary>
    /// <param name="grant">The compact JWS as sent.</param>
    /// <param name="certificateId">The certificate asked for (the path's id).</param>
    /// <param name="clientId">The calling OAuth2 client.</param>
    /// <returns>The grant, or which check failed.</returns>
    public async Task<SupportGrantCheck> ValidateAsync(string grant, string certificateId, string clientId)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (grant.Length > MaxGrantLength)
        {
            return SupportGrantCheck.Fail("format", $"The grant is {grant.Length} characters long; a grant is a compact JWS of at most {MaxGrantLength}.");
        }

        JsonWebToken token;
        try
        {
            token = new JsonWebToken(grant);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            return SupportGrantCheck.Fail("format", "The grant is not a compact JWS (a signed JWT: header.payload.signature, base64url).");
        }

        // the type first: an access token (or anything else) is said to be one, whoever signed it
        if (token.IsEncrypted || !string.Equals(token.Typ, SupportGrantOptions.TokenType, StringComparison.Ordinal))
        {
            var typ = token.IsEncrypted ? "an encrypted JWT (JWE)" : string.IsNullOrEmpty(token.Typ) ? "no typ" : $"typ '{token.Typ}'";
            var accessToken = AccessTokenRules.AccessTokenTypes.Contains(token.Typ, StringComparer.OrdinalIgnoreCase) ? " (an access token is not a grant)" : string.Empty;
            return SupportGrantCheck.Fail("type", $"The grant has {typ}{accessToken}; a CVC support grant has the header typ '{SupportGrantOptions.TokenType}'.");
        }

        var result = await handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return Describe(result.Exception, token);
        }

        return Claims(token, certificateId, clientId);
    }

    private SupportGrantCheck Describe(Exception? failure, JsonWebToken token) => failure switch
    {
        SecurityTokenInvalidAlgorithmException or SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException when !IsPinned(token.Alg) => SupportGrantCheck.Fail("algorithm",
            $"The grant is signed with '{token.Alg}'; accepted: RS256 with an RSA key, ES256 with an EC P-256 key."),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException or SecurityTokenInvalidAlgorithmException => SupportGrantCheck.Fail("signature",
            "The grant's signature does not verify with any trusted ticketing key (Gcp:SupportTickets:SigningKeysPem): signed by another key, or altered."),
        SecurityTokenExpiredException e => SupportGrantCheck.Fail("expired",
            $"The grant expired at {e.Expires:yyyy-MM-ddTHH:mm:ssZ}; ask the ticketing system for a new one."),
        SecurityTokenNotYetValidException e => SupportGrantCheck.Fail("not-yet-valid", $"The grant is not valid before {e.NotBefore:yyyy-MM-ddTHH:mm:ssZ}."),
        SecurityTokenNoExpirationException => SupportGrantCheck.Fail("lifetime", "The grant has no expiry (exp); a grant lives a few minutes."),
        SecurityTokenInvalidLifetimeException e => SupportGrantCheck.Fail("lifetime", e.Message),
        SecurityTokenInvalidIssuerException => SupportGrantCheck.Fail("issuer",
            $"The grant was issued by '{Shown(token.Issuer)}', not by the trusted ticketing system '{issuer}'."),
        SecurityTokenInvalidAudienceException => SupportGrantCheck.Fail("audience",
            $"The grant is for audience '{Shown(string.Join(' ', token.Audiences))}', not '{audience}'."),
        SecurityTokenInvalidTypeException => SupportGrantCheck.Fail("type", $"A CVC support grant has the header typ '{SupportGrantOptions.TokenType}'."),
        _ => SupportGrantCheck.Fail("invalid", "The grant is invalid: " + (failure?.GetType().Name ?? "unknown reason") + "."),
    };

    private static bool IsPinned(string? algorithm) => algorithm is SecurityAlgorithms.RsaSha256 or SecurityAlgorithms.EcdsaSha256;

    /// <summary>Lifetime: <c>exp</c> required and not past (with skew), <c>nbf</c> (when given) reached; the length is checked with <c>iat</c> later.</summary>
    private bool Lifetime(DateTime? notBefore, DateTime? expires)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("no exp");
        }

        if (expires.Value.ToUniversalTime() < now - ClockSkew)
        {
            throw new SecurityTokenExpiredException("expired") { Expires = expires.Value.ToUniversalTime() };
        }

        if (notBefore is { } nbf && nbf.ToUniversalTime() > now + ClockSkew)
        {
            throw new SecurityTokenNotYetValidException("not yet valid") { NotBefore = nbf.ToUniversalTime() };
        }

        return true;
    }

    private SupportGrantCheck Claims(JsonWebToken token, string certificateId, string clientId)
    {
        if (!token.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out var iatSeconds))
        {
            return SupportGrantCheck.Fail("lifetime", "The grant has no issue time (iat).");
        }

        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(iatSeconds);
        var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(token.ValidTo, DateTimeKind.Utc));
        if (issuedAt > time.GetUtcNow() + ClockSkew)
        {
            return SupportGrantCheck.Fail("lifetime", $"The grant is issued in the future ({issuedAt:yyyy-MM-ddTHH:mm:ssZ}).");
        }

        if (expiresAt - issuedAt > maxLifetime)
        {
            return SupportGrantCheck.Fail("lifetime",
                $"The grant lives {(expiresAt - issuedAt).TotalMinutes:0.#} minutes from iat to exp; a grant may live at most {maxLifetime.TotalMinutes:0.#} (Gcp:SupportTickets:MaxLifetimeMinutes).");
        }

        if (String(token, JwtRegisteredClaimNames.Jti) is not { Length: > 0 and <= MaxGrantIdLength } grantId)
        {
            return SupportGrantCheck.Fail("jti", $"The grant needs an id (jti) of 1 to {MaxGrantIdLength} characters.");
        }

        if (String(token, SupportGrantClaims.TicketId) is not { } ticket || !IdFormat().IsMatch(ticket))
        {
            return SupportGrantCheck.Fail("ticket", $"The grant needs a ticket id (claim {SupportGrantClaims.TicketId}): 1 to 64 letters, digits, '.', '_', ':' or '-'.");
        }

        if (String(token, SupportGrantClaims.AgentId) is not { } agent || !AgentFormat().IsMatch(agent))
        {
            return SupportGrantCheck.Fail("agent", $"The grant needs the agent's id (claim {SupportGrantClaims.AgentId}): 1 to 64 letters, digits, '.', '_', ':', '@' or '-'.");
        }

        var grantedCertificate = String(token, SupportGrantClaims.CertificateId);
        if (!string.Equals(grantedCertificate, certificateId, StringComparison.Ordinal))
        {
            return SupportGrantCheck.Fail("certificate", grantedCertificate is null
                ? $"The grant names no certificate (claim {SupportGrantClaims.CertificateId})."
                : $"The grant is for certificate '{Shown(grantedCertificate)}', not {certificateId}.");
        }

        var grantedClient = String(token, SupportGrantClaims.ClientId);
        if (!string.Equals(grantedClient, clientId, StringComparison.Ordinal))
        {
            return SupportGrantCheck.Fail("client", grantedClient is null
                ? $"The grant names no client (claim {SupportGrantClaims.ClientId})."
                : $"The grant is issued to client '{Shown(grantedClient)}', not to the caller '{clientId}'.");
        }

        return new SupportGrantCheck(new SupportGrant(ticket, certificateId, agent, clientId, grantId, issuedAt, expiresAt), null, null);
    }

    private static string? String(JsonWebToken token, string claim) =>
        token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>A value from the grant for a problem's detail: printable ASCII only, at most 64 characters.</summary>
    private static string Shown(string? value)
    {
        var text = new string((value ?? string.Empty).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return text.Length <= 64 ? text : text[..64] + "…";
    }

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,64}\z")]
    private static partial Regex IdFormat();

    [GeneratedRegex(@"^[A-Za-z0-9._:@-]{1,64}\z")]
    private static partial Regex AgentFormat();
}
