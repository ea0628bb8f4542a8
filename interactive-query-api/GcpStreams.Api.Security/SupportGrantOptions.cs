using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>
/// Settings of the CVC support grants (<c>Gcp:SupportTickets</c>): a support CVC disclosure carries a short-lived grant the
/// ticketing system signed for one ticket, one certificate, one agent and one calling client (see
/// <see cref="SupportGrantValidator"/>); this says which keys and issuer to trust, and, in embedded mode only, how the
/// development signer signs (<see cref="DevSupportGrantSigner"/>).
/// </summary>
public sealed class SupportGrantOptions
{
    /// <summary>The configuration section, <c>Gcp:SupportTickets</c>.</summary>
    public const string Section = "Gcp:SupportTickets";

    /// <summary>The default <see cref="Audience"/>: <c>gcp-streams-cvc-support</c>, never the access tokens' audience.</summary>
    public const string DefaultAudience = "gcp-streams-cvc-support";

    /// <summary>
    /// The JOSE header <c>typ</c> of a grant (RFC 8725 §3.11 explicit typing): an access token (<c>at+jwt</c>, <c>JWT</c>) is
    /// never a grant, and a grant is never an access token (<see cref="AccessTokenRules.AccessTokenTypes"/>).
    /// </summary>
    public const string TokenType = "gcp-cvc-grant+jwt";

    /// <summary>The issuer of the development signer when <see cref="Issuer"/> is not set (embedded mode only).</summary>
    public const string DevIssuer = "urn:gcp-streams:dev-ticketing";

    /// <summary>The longest a grant may live (from <c>iat</c> to <c>exp</c>), whatever the settings say: 15 minutes.</summary>
    public const int LongestLifetimeMinutes = 15;

    /// <summary>
    /// The ticketing system's public keys, PEM (<c>-----BEGIN PUBLIC KEY-----</c>: RSA of at least 2048 bits for RS256, or EC
    /// P-256 for ES256), one or more blocks one after the other: to rotate, add the new key, let the ticketing system sign with
    /// it, then remove the old one. Required in cluster mode; in embedded mode the development signer's key is trusted too.
    /// </summary>
    public string? SigningKeysPem { get; set; }

    /// <summary>The ticketing system's issuer (<c>iss</c>) grants must carry. Required in cluster mode; embedded default <see cref="DevIssuer"/>.</summary>
    public string? Issuer { get; set; }

    /// <summary>The audience (<c>aud</c>) grants must carry. Default <see cref="DefaultAudience"/>.</summary>
    public string Audience { get; set; } = DefaultAudience;

    /// <summary>The longest lifetime (<c>exp</c> - <c>iat</c>) of a grant accepted, 1 to <see cref="LongestLifetimeMinutes"/> minutes. Default 15.</summary>
    public int MaxLifetimeMinutes { get; set; } = LongestLifetimeMinutes;

    /// <summary>
    /// Embedded mode only: the development signer's private key, PEM (RSA of at least 2048 bits, or EC P-256); when unset a P-256
    /// key is generated at start. Cluster mode refuses it: there is no development signer there.
    /// </summary>
    public string? DevSigningKeyPem { get; set; }

    /// <summary>Embedded mode only: the lifetime of the grants the development signer mints, 1 to <see cref="MaxLifetimeMinutes"/> minutes. Default 5.</summary>
    public int DevGrantLifetimeMinutes { get; set; } = 5;

    /// <summary>The issuer grants are checked against (and the development signer writes): <see cref="Issuer"/>, else <see cref="DevIssuer"/>.</summary>
    public string EffectiveIssuer => string.IsNullOrWhiteSpace(Issuer) ? DevIssuer : Issuer;

    /// <summary>What is wrong with these settings whatever the mode, each naming its setting; empty when nothing is.</summary>
    /// <returns>The failures.</returns>
    public IReadOnlyList<string> Problems()
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(SigningKeysPem))
        {
            try
            {
                SupportGrantKeys.ParsePublic(SigningKeysPem);
            }
            catch (ArgumentException e)
            {
                failures.Add($"{Section}:SigningKeysPem: {e.Message}");
            }
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            failures.Add($"{Section}:Audience is required");
        }
        else if (string.Equals(Audience, AuthOptions.DefaultAudience, StringComparison.Ordinal))
        {
            failures.Add($"{Section}:Audience must not be the access tokens' audience '{AuthOptions.DefaultAudience}'");
        }

        if (MaxLifetimeMinutes is < 1 or > LongestLifetimeMinutes)
        {
            failures.Add($"{Section}:MaxLifetimeMinutes must be between 1 and {LongestLifetimeMinutes} (got {MaxLifetimeMinutes})");
        }

        if (DevGrantLifetimeMinutes < 1 || DevGrantLifetimeMinutes > Math.Max(1, MaxLifetimeMinutes))
        {
            failures.Add($"{Section}:DevGrantLifetimeMinutes must be between 1 and {Section}:MaxLifetimeMinutes ({MaxLifetimeMinutes}) (got {DevGrantLifetimeMinutes})");
        }

        if (!string.IsNullOrWhiteSpace(DevSigningKeyPem))
        {
            try
            {
                using var key = SupportGrantKeys.ParsePrivate(DevSigningKeyPem);
            }
            catch (ArgumentException e)
            {
                failures.Add($"{Section}:DevSigningKeyPem: {e.Message}");
            }
        }

        return failures;
    }
}

/// <summary>The claims of a CVC support grant besides the registered ones (<c>iss</c>, <c>aud</c>, <c>iat</c>, <c>exp</c>, <c>jti</c>).</summary>
public static class SupportGrantClaims
{
    /// <summary>The support ticket the disclosure is made under (becomes the command's and the event's ticket).</summary>
    public const string TicketId = "ticket_id";

    /// <summary>The certificate whose CVC may be disclosed (must be the path's id).</summary>
    public const string CertificateId = "certificate_id";

    /// <summary>The support agent, the person working the ticket (named in the event).</summary>
    public const string AgentId = "agent_id";

    /// <summary>The OAuth2 client the grant is issued to (must be the caller's client).</summary>
    public const string ClientId = "client_id";
}

/// <summary>Reads the ticketing keys from PEM: public keys to trust, and the development signer's private key.</summary>
public static class SupportGrantKeys
{
    /// <summary>
    /// The public keys of <paramref name="pem"/>: one or more <c>PUBLIC KEY</c> (SPKI) or <c>RSA PUBLIC KEY</c> blocks, RSA of at
    /// least 2048 bits or EC P-256. Each key's <c>KeyId</c> is its RFC 7638 thumbprint.
    /// </summary>
    /// <param name="pem">The PEM text.</param>
    /// <returns>The keys, in order.</returns>
    /// <exception cref="ArgumentException">No key, a private key, another kind of block, or a key that is too weak or on another curve.</exception>
    public static IReadOnlyList<AsymmetricSecurityKey> ParsePublic(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var keys = new List<AsymmetricSecurityKey>();
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var block = rest[fields.Location].ToString();
            keys.Add(label switch
            {
                "PUBLIC KEY" => FromSubjectPublicKeyInfo(block),
                "RSA PUBLIC KEY" => Rsa(block),
                _ when label.Contains("PRIVATE", StringComparison.Ordinal) => throw new ArgumentException($"block {keys.Count + 1} is a private key ('{label}'): give the ticketing system's public keys only"),
                _ => throw new ArgumentException($"block {keys.Count + 1} is a '{label}'; expected 'PUBLIC KEY' blocks (RSA of at least 2048 bits, or EC P-256)"),
            });
            rest = rest[fields.Location.End..];
        }

        return keys.Count > 0 ? keys : throw new ArgumentException("holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
    }

    /// <summary>A private key for the development signer: RSA of at least 2048 bits (RS256) or EC P-256 (ES256).</summary>
    /// <param name="pem">PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM.</param>
    /// <returns>The key; dispose it.</returns>
    /// <exception cref="ArgumentException">Not such a key.</exception>
    public static AsymmetricAlgorithm ParsePrivate(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var label = PemEncoding.TryFind(pem, out var fields) ? pem[fields.Label] : null;
        if (label is "EC PRIVATE KEY" || (label is "PRIVATE KEY" && IsEc(pem)))
        {
            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(pem);
                RequireP256(ec);
                return ec;
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                ec.Dispose();
                throw new ArgumentException("must be a PEM private key: RSA of at least 2048 bits, or EC P-256", e);
            }
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048 || rsa.ExportParameters(includePrivateParameters: true).D is not { Length: > 0 })
            {
                throw new ArgumentException($"an RSA key of {rsa.KeySize} bits");
            }

            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new ArgumentException("must be a PEM private key: RSA of at least 2048 bits, or EC P-256", e);
        }
    }

    /// <summary>The public half of <paramref name="key"/> as a security key with its RFC 7638 thumbprint as key id.</summary>
    /// <param name="key">An RSA or ECDsa key.</param>
    /// <returns>The public key.</returns>
    public static AsymmetricSecurityKey PublicOf(AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => WithThumbprint(new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false))),
        ECDsa ec => FromSubjectPublicKeyInfo(PemEncoding.WriteString("PUBLIC KEY", ec.ExportSubjectPublicKeyInfo())),
        _ => throw new ArgumentException($"unsupported key {key?.GetType().Name}", nameof(key)),
    };

    /// <summary>The JWS algorithm a key signs with: RS256 for RSA, ES256 for EC P-256.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The algorithm, or <see langword="null"/> for another kind of key.</returns>
    public static string? AlgorithmOf(SecurityKey key) => key switch
    {
        RsaSecurityKey => SecurityAlgorithms.RsaSha256,
        ECDsaSecurityKey => SecurityAlgorithms.EcdsaSha256,
        _ => null,
    };

    private static AsymmetricSecurityKey FromSubjectPublicKeyInfo(string block)
    {
        var der = Der(block);
        var ec = ECDsa.Create();
        try
        {
            ec.ImportSubjectPublicKeyInfo(der, out _);
            RequireP256(ec);
            return WithThumbprint(new ECDsaSecurityKey(ec)); // the security key keeps the instance for as long as it is trusted
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            ec.Dispose();
            if (e is ArgumentException)
            {
                throw;
            }

            // not an EC key: RSA, or nothing
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(der, out _);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException("a 'PUBLIC KEY' block is neither an RSA nor an EC public key", e);
        }

        return RsaKey(rsa);
    }

    private static AsymmetricSecurityKey Rsa(string block)
    {
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportRSAPublicKey(Der(block), out _);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException("an 'RSA PUBLIC KEY' block does not hold an RSA public key", e);
        }

        return RsaKey(rsa);
    }

    private static AsymmetricSecurityKey RsaKey(RSA rsa) =>
        rsa.KeySize >= 2048
            ? WithThumbprint(new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false)))
            : throw new ArgumentException($"an RSA key has {rsa.KeySize} bits; at least 2048 are required");

    private static byte[] Der(string block) =>
        PemEncoding.TryFind(block, out var fields) ? Convert.FromBase64String(block[fields.Base64Data]) : throw new ArgumentException("a PEM block does not parse");

    private static void RequireP256(ECDsa ec)
    {
        var curve = ec.ExportParameters(includePrivateParameters: false).Curve;
        if (!curve.IsNamed || curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new ArgumentException($"an EC key is on curve '{curve.Oid.FriendlyName ?? curve.Oid.Value}'; ES256 needs P-256");
        }
    }

    private static bool IsEc(string pem)
    {
        using var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static AsymmetricSecurityKey WithThumbprint(AsymmetricSecurityKey key)
    {
        var jwk = key switch
        {
            RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(rsa),
            ECDsaSecurityKey ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(ec),
            _ => throw new ArgumentException($"unsupported key {key.GetType().Name}"),
        };
        key.KeyId = Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
        return key;
    }
}
