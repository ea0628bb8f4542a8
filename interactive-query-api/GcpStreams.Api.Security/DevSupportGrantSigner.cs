using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>
/// Embedded mode only: a stand-in for the ticketing system, so the demo and the tests can get CVC support grants. It signs
/// with <see cref="SupportGrantOptions.DevSigningKeyPem"/> when set (RS256 for RSA, ES256 for P-256), else with a P-256 key
/// generated at start (grants then die with the process), as <see cref="SupportGrantOptions.EffectiveIssuer"/>; the
/// validator of embedded mode trusts its public key. Cluster mode never creates one.
/// </summary>
public sealed class DevSupportGrantSigner : IDisposable
{
    private readonly AsymmetricAlgorithm key;
    private readonly CryptoProviderFactory providers = new();
    private readonly JsonWebTokenHandler handler = new();
    private readonly SigningCredentials credentials;
    private readonly string issuer;
    private readonly string audience;
    private readonly TimeProvider time;

    /// <summary>Creates the signer from validated options.</summary>
    /// <param name="options">The <c>Gcp:SupportTickets</c> settings.</param>
    /// <param name="time">The clock (tests may move it).</param>
    public DevSupportGrantSigner(SupportGrantOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        key = string.IsNullOrWhiteSpace(options.DevSigningKeyPem) ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : SupportGrantKeys.ParsePrivate(options.DevSigningKeyPem);
        PublicKey = SupportGrantKeys.PublicOf(key);
        SecurityKey signing = key switch
        {
            RSA rsa => new RsaSecurityKey(rsa) { KeyId = PublicKey.KeyId },
            ECDsa ec => new ECDsaSecurityKey(ec) { KeyId = PublicKey.KeyId },
            _ => throw new InvalidOperationException("unsupported key"),
        };
        // providers over this key instance are cached here, not process-wide (keyed by key id): another host in the process
        // with the same configured key must not sign with this instance once it is disposed
        signing.CryptoProviderFactory = providers;
        credentials = new SigningCredentials(signing, SupportGrantKeys.AlgorithmOf(PublicKey)!);
        issuer = options.EffectiveIssuer;
        audience = options.Audience;
        Lifetime = TimeSpan.FromMinutes(options.DevGrantLifetimeMinutes);
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>The public half of the signing key (its <c>KeyId</c> is the RFC 7638 thumbprint), trusted by the validator.</summary>
    public AsymmetricSecurityKey PublicKey { get; }

    /// <summary>The public key as PEM (SPKI), as a real ticketing system's would be configured.</summary>
    public string PublicKeyPem => key switch
    {
        RSA rsa => rsa.ExportSubjectPublicKeyInfoPem(),
        ECDsa ec => ec.ExportSubjectPublicKeyInfoPem(),
        _ => string.Empty,
    };

    /// <summary>How long the grants minted here live.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>Mints a grant for <paramref name="clientId"/> to have <paramref name="certificateId"/>'s CVC disclosed under a ticket.</summary>
    /// <param name="certificateId">The certificate.</param>
    /// <param name="ticketId">The support ticket.</param>
    /// <param name="agentId">The support agent (a person).</param>
    /// <param name="clientId">The client the grant is for: the caller that will present it.</param>
    /// <returns>The compact JWS, its id and its expiry.</returns>
    public (string Grant, string GrantId, DateTimeOffset ExpiresAt) Mint(string certificateId, string ticketId, string agentId, string clientId)
    {
        var now = time.GetUtcNow();
        var expires = now + Lifetime;
        var grantId = Guid.NewGuid().ToString("N");
        var grant = handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = SupportGrantOptions.TokenType,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = credentials,
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Jti, grantId),
                new Claim(SupportGrantClaims.TicketId, ticketId),
                new Claim(SupportGrantClaims.CertificateId, certificateId),
                new Claim(SupportGrantClaims.AgentId, agentId),
                new Claim(SupportGrantClaims.ClientId, clientId),
            ]),
        });
        return (grant, grantId, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        (providers.CryptoProviderCache as IDisposable)?.Dispose();
        key.Dispose();
    }
}
