using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GcpStreams.Api.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security.Tests;

/// <summary>
/// Authority mode accepts only access tokens that name their client, signed with an accepted algorithm: tokens signed by
/// the authority's own key, valid in every other respect, that break one rule are 401 problems saying which.
/// </summary>
public sealed class AccessTokenRulesTests
{
    private SecuredApp _authority = null!;
    private SecuredApp _api = null!;
    private string _issuer = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _authority = await SecuredApp.StartAsync();
        _api = await SecuredApp.StartAsync(AuthoritySettings(algorithms: null));
        _issuer = new JsonWebToken(await _authority.TokenAsync(DevClients.Admin)).Issuer; // as the discovery document states it
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _api.DisposeAsync();
        await _authority.DisposeAsync();
    }

    private Dictionary<string, string?> AuthoritySettings(string? algorithms)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Authority",
            ["Auth:Authority"] = _authority.BaseAddress.ToString(),
            ["Auth:RequireHttpsMetadata"] = "false",
        };
        if (algorithms is not null)
        {
            settings["Auth:Algorithms"] = algorithms;
        }

        return settings;
    }

    [Test]
    public async Task A_well_formed_access_token_is_accepted_with_either_access_token_type()
    {
        foreach (var typ in new[] { "at+jwt", "JWT", "application/at+jwt" })
        {
            using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign(typ, Claims()));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"typ {typ}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Test]
    public async Task Another_algorithm_than_the_configured_ones_is_refused()
    {
        // the authority's own RSA key, but RS384: the signature verifies, the algorithm is not pinned
        var token = Sign("at+jwt", Claims(), alg: "RS384");
        using var refused = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
        var problem = await PolicyTests.AssertProblemAsync(refused, HttpStatusCode.Unauthorized);
        // IdentityModel tries the algorithm while checking the signature, and reports it as a signature that does not verify
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Invalid access token signature"));

        await using var lenient = await SecuredApp.StartAsync(AuthoritySettings("RS256 RS384"));
        using var accepted = await lenient.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.OK), "Auth:Algorithms lists RS384");
    }

    [TestCase("JWT", "nonce")]
    [TestCase("JWT", "at_hash")]
    [TestCase("JWT", "c_hash")]
    public async Task An_ID_token_is_refused(string typ, string idClaim)
    {
        var claims = Claims();
        claims[idClaim] = "n-0S6_WzA2Mj";
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign(typ, claims));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Not an access token"));
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(idClaim));
        });
    }

    [Test]
    public async Task A_Keycloak_style_ID_token_is_refused()
    {
        var claims = Claims();
        claims["typ"] = "ID";
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign("JWT", claims));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Not an access token"));
    }

    [TestCase(null)]
    [TestCase("id_token+jwt")]
    [TestCase("logout+jwt")]
    public async Task A_token_of_another_type_or_none_is_refused(string? typ)
    {
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign(typ, Claims()));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Not an access token"));
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain($"'{typ ?? "none"}'"));
        });
    }

    [Test]
    public async Task A_token_without_a_client_identity_is_refused()
    {
        var claims = Claims();
        claims.Remove("sub");
        claims.Remove("client_id");
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign("at+jwt", claims));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Access token without a client"));
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer error=\"invalid_token\""));
        });
    }

    [TestCase("client_id")]
    [TestCase("azp")]
    [TestCase("sub")]
    public async Task Any_one_client_claim_is_enough(string claim)
    {
        var claims = Claims();
        claims.Remove("sub");
        claims.Remove("client_id");
        claims[claim] = "batch-job";
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign("at+jwt", claims));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task Embedded_mode_applies_the_same_rules_to_tokens_signed_with_its_key()
    {
        var key = _authority.App.Services.GetRequiredService<EmbeddedSigningKey>();
        var claims = Claims();
        claims.Remove("sub");
        claims.Remove("client_id");
        var token = Jws(key.Key, "RS256", "at+jwt", claims);
        using var response = await _authority.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Access token without a client"));
    }

    [Test]
    public async Task A_known_channel_claim_binds_the_token()
    {
        var claims = Claims();
        claims[GcpClaims.Channel] = "POS";
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign("at+jwt", claims));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    [TestCase("MARS")]
    [TestCase("pos")]
    [TestCase("")]
    public async Task A_token_bound_to_an_unknown_channel_is_refused(string channel)
    {
        var claims = Claims();
        claims[GcpClaims.Channel] = channel;
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign("at+jwt", claims));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(GcpClaims.Channel).And.Contain($"'{channel}'"));
    }

    [Test]
    public async Task A_token_bound_to_two_channels_is_refused()
    {
        var claims = Claims();
        claims[GcpClaims.Channel] = new[] { "POS", "MOBILE_APP" };
        using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), Sign("at+jwt", claims));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("must be one channel"));
    }

    [TestCase("HS256", "Auth:Algorithms contains 'HS256', which is not accepted")]
    [TestCase("none", "Auth:Algorithms contains 'none', which is not accepted")]
    [TestCase(" ", "Auth:Algorithms must name at least one algorithm")]
    public void A_bad_algorithm_list_is_named(string algorithms, string message)
    {
        var failures = new AuthOptionsValidator().Validate(null, new AuthOptions { Algorithms = algorithms }).Failures;
        Assert.That(failures, Has.Some.StartsWith(message));
    }

    private Dictionary<string, object> Claims()
    {
        var now = DateTimeOffset.UtcNow;
        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["iss"] = _issuer,
            ["aud"] = AuthOptions.DefaultAudience,
            ["sub"] = "pos-terminal",
            ["client_id"] = "pos-terminal",
            ["scope"] = GcpScopes.Read,
            ["iat"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["nbf"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        };
    }

    /// <summary>A token signed by the authority's own key, with exactly this header type (none when null) and these claims.</summary>
    private string Sign(string? typ, Dictionary<string, object> claims, string alg = "RS256") =>
        Jws(_authority.App.Services.GetRequiredService<EmbeddedSigningKey>().Key, alg, typ, claims);

    /// <summary>A JWS written by hand, so the header holds exactly what the test says (no default <c>typ</c>).</summary>
    private static string Jws(RsaSecurityKey key, string alg, string? typ, Dictionary<string, object> claims)
    {
        var header = new Dictionary<string, object> { ["alg"] = alg, ["kid"] = key.KeyId };
        if (typ is not null)
        {
            header["typ"] = typ;
        }

        var signingInput = $"{Base64UrlEncoder.Encode(JsonSerializer.Serialize(header))}.{Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims))}";
        var hash = alg switch
        {
            "RS256" => HashAlgorithmName.SHA256,
            "RS384" => HashAlgorithmName.SHA384,
            _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "the tests sign RS256 or RS384"),
        };
        var signature = key.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), hash, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64UrlEncoder.Encode(signature)}";
    }
}
