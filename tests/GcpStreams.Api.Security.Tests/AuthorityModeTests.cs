using System.Net;
using GcpStreams.Api.Security;
using Microsoft.Extensions.DependencyInjection;

namespace GcpStreams.Api.Security.Tests;

/// <summary>A second app in Authority mode trusts the first app's token endpoint through its discovery document and JWKS.</summary>
public sealed class AuthorityModeTests
{
    private SecuredApp _issuer = null!;
    private SecuredApp _api = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _issuer = await SecuredApp.StartAsync();
        _api = await SecuredApp.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Authority",
            ["Auth:Authority"] = _issuer.BaseAddress.ToString(),
            ["Auth:RequireHttpsMetadata"] = "false",
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _api.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    [Test]
    public async Task Tokens_of_the_authority_are_accepted_and_scopes_enforced()
    {
        var token = await _issuer.TokenAsync(DevClients.CrmNotifier);
        using (var ok = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.CvcNotify), token))
        {
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), await ok.Content.ReadAsStringAsync());
            Assert.That((await SecuredApp.ReadProbeAsync(ok)).ClientId, Is.EqualTo(DevClients.CrmNotifier));
        }

        using var forbidden = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Lock), token);
        var problem = await PolicyTests.AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        Assert.That(problem.GetProperty("requiredScope").GetString(), Is.EqualTo(GcpScopes.Lock));
    }

    [Test]
    public async Task Forged_or_expired_tokens_are_refused()
    {
        var real = await _issuer.TokenAsync(DevClients.PosTerminal, GcpScopes.Read);
        var issuer = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(real).Issuer; // as the discovery document states it
        var key = _issuer.App.Services.GetRequiredService<EmbeddedSigningKey>();
        var tampered = Tokens.Tampered(real);
        var cases = new (string Token, string Title)[]
        {
            (Tokens.Expired(key.SigningCredentials, issuer, GcpScopes.Read), "Expired access token"),
            (Tokens.SignedByAnotherKey(issuer, GcpScopes.Read), "Invalid access token signature"),
            (tampered, "Invalid access token signature"),
        };
        foreach (var (token, title) in cases)
        {
            using var response = await _api.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
            var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo(title));
        }
    }

    [Test]
    public async Task Authority_mode_serves_no_token_endpoint()
    {
        using var response = await _api.RequestTokenAsync(DevClients.Admin, "admin-secret");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(_api.App.Services.GetService<EmbeddedSigningKey>(), Is.Null);
    }

    [Test]
    public async Task A_configured_issuer_overrides_the_discovered_one()
    {
        await using var strict = await SecuredApp.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Authority",
            ["Auth:Authority"] = _issuer.BaseAddress.ToString(),
            ["Auth:RequireHttpsMetadata"] = "false",
            ["Auth:Issuer"] = "https://login.example/",
        });
        using var response = await strict.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), await _issuer.TokenAsync(DevClients.Support));
        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Invalid access token issuer"));
    }
}
