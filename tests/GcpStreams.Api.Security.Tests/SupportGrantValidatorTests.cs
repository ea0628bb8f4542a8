using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security.Tests;

/// <summary>
/// The CVC support grant: a compact JWS the ticketing system signs for one ticket, one certificate, one agent and one client.
/// Grants valid in every respect but one are refused, each naming the check that failed; keys rotate; the dev signer's
/// grants pass.
/// </summary>
public sealed class SupportGrantValidatorTests
{
    private const string Issuer = "https://tickets.example/";
    private const string Certificate = "7700142839572011";
    private const string Client = "support";

    private static readonly ECDsa Ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly RSA Rsa = RSA.Create(2048);
    private static readonly SigningCredentials EcCredentials = new(new ECDsaSecurityKey(Ec), SecurityAlgorithms.EcdsaSha256);
    private static readonly SigningCredentials RsaCredentials = new(new RsaSecurityKey(Rsa), SecurityAlgorithms.RsaSha256);

    /// <summary>Trusts the EC key (the new one) and the RSA key (the old one): a rotation under way.</summary>
    private static readonly SupportGrantValidator Validator = new(
        SupportGrantKeys.ParsePublic(Ec.ExportSubjectPublicKeyInfoPem() + "\n" + Rsa.ExportSubjectPublicKeyInfoPem()),
        Issuer, SupportGrantOptions.DefaultAudience, TimeSpan.FromMinutes(15));

    [OneTimeTearDown]
    public static void DisposeKeys()
    {
        Ec.Dispose();
        Rsa.Dispose();
    }

    [Test]
    public async Task A_grant_signed_by_a_trusted_key_for_this_certificate_and_client_is_accepted_with_its_claims()
    {
        var now = DateTime.UtcNow;
        var check = await Validator.ValidateAsync(Grant(EcCredentials, now), Certificate, Client);

        Assert.That(check.IsValid, Is.True, check.Failure);
        var grant = check.Grant!;
        Assert.That((grant.TicketId, grant.CertificateId, grant.AgentId, grant.ClientId, grant.GrantId), Is.EqualTo(("TICKET-123", Certificate, "agent.ivanova", Client, "grant-1")));
        Assert.That(grant.ExpiresAt - grant.IssuedAt, Is.EqualTo(TimeSpan.FromMinutes(5)));
    }

    [Test]
    public async Task Both_keys_of_a_rotation_are_trusted_each_with_its_own_algorithm()
    {
        Assert.That((await Validator.ValidateAsync(Grant(RsaCredentials), Certificate, Client)).IsValid, Is.True, "the old RSA key, RS256");
        Assert.That((await Validator.ValidateAsync(Grant(EcCredentials), Certificate, Client)).IsValid, Is.True, "the new EC key, ES256");
        Assert.That(Validator.Keys.Select(k => k.KeyId).Distinct().Count(), Is.EqualTo(2), "each key has its thumbprint as key id");
    }

    [Test]
    public async Task A_grant_signed_by_another_key_is_refused()
    {
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await AssertRefusedAsync(Grant(new SigningCredentials(new ECDsaSecurityKey(stranger), SecurityAlgorithms.EcdsaSha256)), "signature", "does not verify with any trusted ticketing key");
    }

    [Test]
    public async Task A_grant_whose_payload_was_altered_is_refused()
    {
        var parts = Grant(EcCredentials).Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace(Certificate, "7700000000000000", StringComparison.Ordinal);
        var forged = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        await AssertRefusedAsync(forged, "signature", "signed by another key, or altered", certificate: "7700000000000000");
    }

    [TestCase("at+jwt", "typ 'at+jwt' (an access token is not a grant)")]
    [TestCase("JWT", "typ 'JWT' (an access token is not a grant)")]
    [TestCase("gcp-cvc-grant", "typ 'gcp-cvc-grant'")]
    public async Task A_token_of_another_type_is_refused_even_signed_by_a_trusted_key(string typ, string said) =>
        await AssertRefusedAsync(Grant(EcCredentials, typ: typ), "type", said);

    [Test]
    public async Task An_access_token_is_never_a_grant()
    {
        // an access token of this API's own audience, with every claim a grant has, signed by a trusted key
        var token = Grant(RsaCredentials, typ: "at+jwt", audience: AuthOptions.DefaultAudience, extra: claims => claims["scope"] = "gc.cvc.support");
        await AssertRefusedAsync(token, "type", "an access token is not a grant");
    }

    [TestCase(SecurityAlgorithms.RsaSha384)]
    [TestCase(SecurityAlgorithms.RsaSsaPssSha256)]
    public async Task A_trusted_RSA_key_signs_with_RS256_only(string algorithm) =>
        await AssertRefusedAsync(Grant(new SigningCredentials(new RsaSecurityKey(Rsa), algorithm)), "algorithm", $"signed with '{algorithm}'; accepted: RS256");

    [Test]
    public async Task An_HMAC_grant_is_refused()
    {
        var secret = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        await AssertRefusedAsync(Grant(new SigningCredentials(secret, SecurityAlgorithms.HmacSha256)), "algorithm", "signed with 'HS256'");
    }

    [Test]
    public async Task An_unsigned_grant_is_refused()
    {
        var header = Base64UrlEncoder.Encode($$"""{"alg":"none","typ":"{{SupportGrantOptions.TokenType}}"}""");
        var payload = Grant(EcCredentials).Split('.')[1];
        await AssertRefusedAsync($"{header}.{payload}.", "algorithm", "signed with 'none'");
    }

    [Test]
    public async Task A_grant_of_another_issuer_or_audience_is_refused()
    {
        await AssertRefusedAsync(Grant(EcCredentials, issuer: "https://evil.example/"), "issuer", "issued by 'https://evil.example/', not by the trusted ticketing system 'https://tickets.example/'");
        await AssertRefusedAsync(Grant(EcCredentials, audience: AuthOptions.DefaultAudience), "audience", "for audience 'gcp-streams', not 'gcp-streams-cvc-support'");
    }

    [Test]
    public async Task An_expired_grant_is_refused_and_one_not_valid_yet_too()
    {
        var now = DateTime.UtcNow;
        await AssertRefusedAsync(Grant(EcCredentials, now.AddMinutes(-20)), "expired", "expired at");
        await AssertRefusedAsync(Grant(EcCredentials, now.AddMinutes(-5), notBefore: now.AddMinutes(2)), "not-yet-valid", "not valid before");
    }

    [Test]
    public async Task A_grant_may_live_15_minutes_at_most_and_needs_its_issue_time_and_expiry()
    {
        var now = DateTime.UtcNow;
        Assert.That((await Validator.ValidateAsync(Grant(EcCredentials, now, lifetime: TimeSpan.FromMinutes(15)), Certificate, Client)).IsValid, Is.True);
        await AssertRefusedAsync(Grant(EcCredentials, now, lifetime: TimeSpan.FromMinutes(16)), "lifetime", "lives 16 minutes from iat to exp; a grant may live at most 15");
        await AssertRefusedAsync(Grant(EcCredentials, now, lifetime: TimeSpan.FromDays(365)), "lifetime", "a grant may live at most 15");
        await AssertRefusedAsync(Grant(EcCredentials, now, withIssuedAt: false), "lifetime", "no issue time (iat)");
        await AssertRefusedAsync(Grant(EcCredentials, now, withExpiry: false), "lifetime", "no expiry (exp)");
        await AssertRefusedAsync(Grant(EcCredentials, now.AddMinutes(5)), "lifetime", "issued in the future");
    }

    [TestCase(SupportGrantClaims.TicketId, "ticket", "needs a ticket id (claim ticket_id)")]
    [TestCase(SupportGrantClaims.AgentId, "agent", "needs the agent's id (claim agent_id)")]
    [TestCase(JwtRegisteredClaimNames.Jti, "jti", "needs an id (jti)")]
    [TestCase(SupportGrantClaims.CertificateId, "certificate", "names no certificate (claim certificate_id)")]
    [TestCase(SupportGrantClaims.ClientId, "client", "names no client (claim client_id)")]
    public async Task A_grant_without_one_of_its_claims_is_refused(string claim, string check, string said) =>
        await AssertRefusedAsync(Grant(EcCredentials, extra: claims => claims.Remove(claim)), check, said);

    [Test]
    public async Task A_ticket_id_that_is_not_an_id_is_refused() =>
        await AssertRefusedAsync(Grant(EcCredentials, extra: claims => claims[SupportGrantClaims.TicketId] = "T 1; drop"), "ticket", "1 to 64 letters");

    [Test]
    public async Task A_grant_for_another_certificate_or_another_client_is_refused()
    {
        var grant = Grant(EcCredentials);
        await AssertRefusedAsync(grant, "certificate", $"for certificate '{Certificate}', not 7700000000000000", certificate: "7700000000000000");
        await AssertRefusedAsync(grant, "client", "issued to client 'support', not to the caller 'admin'", client: "admin");
    }

    [Test]
    public async Task What_is_not_a_compact_JWS_is_refused_as_such()
    {
        await AssertRefusedAsync("TICKET-123", "format", "not a compact JWS");
        await AssertRefusedAsync(new string('a', SupportGrantValidator.MaxGrantLength + 1), "format", "at most 8192");
    }

    [Test]
    public async Task The_development_signer_mints_grants_the_validator_of_its_key_accepts()
    {
        foreach (var (pem, algorithm) in new[]
        {
            ((string?)null, "ES256"), (Rsa.ExportPkcs8PrivateKeyPem(), "RS256"), (Rsa.ExportRSAPrivateKeyPem(), "RS256"), (Ec.ExportECPrivateKeyPem(), "ES256"), (Ec.ExportPkcs8PrivateKeyPem(), "ES256"),
        })
        {
            using var signer = new DevSupportGrantSigner(new SupportGrantOptions { DevSigningKeyPem = pem });
            var validator = new SupportGrantValidator([signer.PublicKey], SupportGrantOptions.DevIssuer, SupportGrantOptions.DefaultAudience, TimeSpan.FromMinutes(15));
            var (grant, grantId, expiresAt) = signer.Mint(Certificate, "TICKET-9", "agent-1", Client);

            var check = await validator.ValidateAsync(grant, Certificate, Client);
            Assert.That(check.IsValid, Is.True, $"{pem?[..30] ?? "generated"}: {check.Failure}");
            Assert.That((check.Grant!.TicketId, check.Grant.AgentId, check.Grant.GrantId, check.Grant.ExpiresAt), Is.EqualTo(("TICKET-9", "agent-1", grantId, expiresAt)));
            Assert.That(new JsonWebToken(grant).Alg, Is.EqualTo(algorithm));
            Assert.That(signer.PublicKeyPem, Does.StartWith("-----BEGIN PUBLIC KEY-----"));
            Assert.That(expiresAt - DateTimeOffset.UtcNow, Is.LessThanOrEqualTo(TimeSpan.FromMinutes(5)), "5 minutes by default");
        }
    }

    [Test]
    public void Keys_are_public_RSA_of_2048_bits_or_EC_P256()
    {
        using var small = RSA.Create(1024);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.That(SupportGrantKeys.ParsePublic(Rsa.ExportRSAPublicKeyPem()), Has.Count.EqualTo(1), "an RSA PUBLIC KEY block too");
        Assert.That(() => SupportGrantKeys.ParsePublic("no key here"), Throws.ArgumentException.With.Message.Contains("holds no PEM public key"));
        Assert.That(() => SupportGrantKeys.ParsePublic(Ec.ExportPkcs8PrivateKeyPem()), Throws.ArgumentException.With.Message.Contains("is a private key"));
        Assert.That(() => SupportGrantKeys.ParsePublic(small.ExportSubjectPublicKeyInfoPem()), Throws.ArgumentException.With.Message.Contains("1024 bits; at least 2048"));
        Assert.That(() => SupportGrantKeys.ParsePublic(p384.ExportSubjectPublicKeyInfoPem()), Throws.ArgumentException.With.Message.Contains("ES256 needs P-256"));
        Assert.That(() => SupportGrantKeys.ParsePrivate(small.ExportPkcs8PrivateKeyPem()), Throws.ArgumentException);
        Assert.That(() => SupportGrantKeys.ParsePrivate(Rsa.ExportSubjectPublicKeyInfoPem()), Throws.ArgumentException);
    }

    [Test]
    public void The_settings_name_what_is_wrong()
    {
        Assert.That(new SupportGrantOptions().Problems(), Is.Empty, "the defaults are fine (embedded mode)");
        var bad = new SupportGrantOptions
        {
            SigningKeysPem = Ec.ExportPkcs8PrivateKeyPem(), Audience = AuthOptions.DefaultAudience, MaxLifetimeMinutes = 60, DevGrantLifetimeMinutes = 0, DevSigningKeyPem = "nope",
        };
        Assert.That(bad.Problems(), Is.EqualTo(new[]
        {
            "Gcp:SupportTickets:SigningKeysPem: block 1 is a private key ('PRIVATE KEY'): give the ticketing system's public keys only",
            "Gcp:SupportTickets:Audience must not be the access tokens' audience 'gcp-streams'",
            "Gcp:SupportTickets:MaxLifetimeMinutes must be between 1 and 15 (got 60)",
            "Gcp:SupportTickets:DevGrantLifetimeMinutes must be between 1 and Gcp:SupportTickets:MaxLifetimeMinutes (60) (got 0)",
            "Gcp:SupportTickets:DevSigningKeyPem: must be a PEM private key: RSA of at least 2048 bits, or EC P-256",
        }));
    }

    private static async Task AssertRefusedAsync(string grant, string check, string said, string certificate = Certificate, string client = Client)
    {
        var result = await Validator.ValidateAsync(grant, certificate, client);
        Assert.That(result.IsValid, Is.False);
        Assert.That(result.FailedCheck, Is.EqualTo(check), result.Failure);
        Assert.That(result.Failure, Does.Contain(said));
        if (grant.Split('.') is [_, var payload, ..])
        {
            Assert.That(result.Failure, Does.Not.Contain(payload), "the detail never echoes the grant");
        }
    }

    /// <summary>A grant as a ticketing system signs it: every claim, 5 minutes from <paramref name="issuedAt"/>, unless told otherwise.</summary>
    private static string Grant(SigningCredentials credentials, DateTime? issuedAt = null, string typ = SupportGrantOptions.TokenType, string issuer = Issuer,
        string audience = SupportGrantOptions.DefaultAudience, TimeSpan? lifetime = null, DateTime? notBefore = null, bool withIssuedAt = true, bool withExpiry = true,
        Action<Dictionary<string, object>>? extra = null)
    {
        var iat = issuedAt ?? DateTime.UtcNow;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Jti] = "grant-1",
            [SupportGrantClaims.TicketId] = "TICKET-123",
            [SupportGrantClaims.CertificateId] = Certificate,
            [SupportGrantClaims.AgentId] = "agent.ivanova",
            [SupportGrantClaims.ClientId] = Client,
        };
        extra?.Invoke(claims);
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = typ,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = withIssuedAt ? iat : null,
            NotBefore = notBefore,
            Expires = withExpiry ? iat + (lifetime ?? TimeSpan.FromMinutes(5)) : null,
            Claims = claims,
            SigningCredentials = credentials,
        });
    }
}
