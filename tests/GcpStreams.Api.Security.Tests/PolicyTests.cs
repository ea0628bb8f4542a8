using System.Net;
using System.Text.Json;
using GcpStreams.Api.Security;
using Microsoft.Extensions.DependencyInjection;

namespace GcpStreams.Api.Security.Tests;

/// <summary>Every policy x {no token, wrong scope, expired, another key, tampered, right scope}, over HTTP with real tokens.</summary>
public sealed class PolicyTests
{
    private SecuredApp _app = null!;

    private static IEnumerable<string> Scopes => GcpScopes.All;

    [OneTimeSetUp]
    public async Task StartAsync() => _app = await SecuredApp.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _app.DisposeAsync();

    private string Issuer => _app.BaseAddress.ToString().TrimEnd('/');

    [TestCaseSource(nameof(Scopes))]
    public async Task No_token_is_a_401_problem(string scope)
    {
        using var response = await _app.GetAsync(SecuredApp.ProbePath(scope), token: null);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Multiple(() =>
        {
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Missing access token"));
            Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith("No access token"));
        });
    }

    [TestCaseSource(nameof(Scopes))]
    public async Task A_token_without_the_scope_is_a_403_problem_naming_it(string scope)
    {
        var others = string.Join(' ', GcpScopes.All.Where(s => s != scope));
        var token = await _app.TokenAsync(DevClients.Admin, others);
        using var response = await _app.GetAsync(SecuredApp.ProbePath(scope), token);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Insufficient scope"));
            Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith($"Missing scope '{scope}'"));
            Assert.That(problem.GetProperty("requiredScope").GetString(), Is.EqualTo(scope));
            Assert.That(problem.GetProperty("error").GetString(), Is.EqualTo("insufficient_scope"));
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer error=\"insufficient_scope\"").And.EndWith($"scope=\"{scope}\""));
        });
    }

    [TestCaseSource(nameof(Scopes))]
    public async Task An_expired_token_is_a_401_problem(string scope)
    {
        var key = _app.App.Services.GetRequiredService<EmbeddedSigningKey>();
        using var response = await _app.GetAsync(SecuredApp.ProbePath(scope), Tokens.Expired(key.SigningCredentials, Issuer, scope));
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Expired access token"));
            Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith("The access token expired at"));
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer error=\"invalid_token\", error_description=\"The access token expired"));
        });
    }

    [TestCaseSource(nameof(Scopes))]
    public async Task A_token_signed_by_another_key_is_a_401_problem(string scope)
    {
        using var response = await _app.GetAsync(SecuredApp.ProbePath(scope), Tokens.SignedByAnotherKey(Issuer, scope));
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Invalid access token signature"));
    }

    [TestCaseSource(nameof(Scopes))]
    public async Task A_tampered_token_is_a_401_problem(string scope)
    {
        var narrow = scope == GcpScopes.Read ? GcpScopes.Reserve : GcpScopes.Read;
        var token = Tokens.Tampered(await _app.TokenAsync(DevClients.Admin, narrow));
        using var response = await _app.GetAsync(SecuredApp.ProbePath(scope), token);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Invalid access token signature"));
    }

    [TestCaseSource(nameof(Scopes))]
    public async Task The_right_scope_is_200(string scope)
    {
        var token = await _app.TokenAsync(DevClients.Admin, scope);
        using var response = await _app.GetAsync(SecuredApp.ProbePath(scope), token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var probe = await SecuredApp.ReadProbeAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That(probe.ClientId, Is.EqualTo(DevClients.Admin));
            Assert.That(probe.Name, Is.EqualTo(DevClients.Admin));
            Assert.That(probe.Scopes, Is.EqualTo(new[] { scope }));
        });
    }

    [Test]
    public async Task A_self_signed_token_with_the_server_key_and_a_valid_lifetime_is_accepted()
    {
        // the test hook for expired tokens (signing with the server's key) is itself sound
        var key = _app.App.Services.GetRequiredService<EmbeddedSigningKey>();
        var now = DateTime.UtcNow;
        using var response = await _app.GetAsync(SecuredApp.ProbePath(GcpScopes.Read),
            Tokens.Sign(key.SigningCredentials, Issuer, GcpScopes.Read, now.AddMinutes(-1), now.AddHours(1)));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task A_token_for_another_audience_or_issuer_or_not_a_jwt_is_a_401_problem()
    {
        var key = _app.App.Services.GetRequiredService<EmbeddedSigningKey>();
        var now = DateTime.UtcNow;
        var cases = new (string Token, string Title)[]
        {
            (Tokens.Sign(key.SigningCredentials, Issuer, GcpScopes.Read, now.AddMinutes(-1), now.AddHours(1), audience: "someone-else"), "Invalid access token audience"),
            (Tokens.Sign(key.SigningCredentials, "http://elsewhere.example", GcpScopes.Read, now.AddMinutes(-1), now.AddHours(1)), "Invalid access token issuer"),
            (Tokens.Sign(key.SigningCredentials, Issuer, GcpScopes.Read, now.AddHours(1), now.AddHours(2)), "Access token not yet valid"),
            ("not-a-jwt", "Malformed access token"),
        };
        foreach (var (token, title) in cases)
        {
            using var response = await _app.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
            var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo(title));
        }
    }

    [Test]
    public async Task Another_authorization_scheme_is_a_401_saying_no_bearer_token()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, SecuredApp.ProbePath(GcpScopes.Read));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "YWRtaW46YWRtaW4tc2VjcmV0");
        using var response = await _app.Http.SendAsync(request);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith("The Authorization header does not carry a bearer token"));
    }

    [Test]
    public async Task An_explicit_forbid_is_a_403_problem()
    {
        var token = await _app.TokenAsync(DevClients.PosTerminal);
        using var response = await _app.GetAsync("/probe/forbid", token);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("The access token does not allow this request."));
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(status), body);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), body);
        });
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement.Clone();
        Assert.That(root.GetProperty("status").GetInt32(), Is.EqualTo((int)status));
        return root;
    }
}
