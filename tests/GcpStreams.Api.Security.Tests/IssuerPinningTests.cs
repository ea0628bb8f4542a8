using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using GcpStreams.Api.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace GcpStreams.Api.Security.Tests;

/// <summary>Embedded mode pins its issuer: the request's Host header never chooses what a token says or what is accepted.</summary>
public sealed class IssuerPinningTests
{
    private const string EvilHost = "evil.example";

    private SecuredApp _app = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _app = await SecuredApp.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _app.DisposeAsync();

    private string Pinned => _app.BaseAddress.ToString().TrimEnd('/');

    [Test]
    public async Task A_token_requested_with_another_Host_carries_the_pinned_issuer()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, GcpAuthenticationExtensions.TokenPath)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = DevClients.Admin, ["client_secret"] = "admin-secret",
            }),
        };
        request.Headers.Host = EvilHost;
        using var response = await _app.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);

        var token = JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
        Assert.That(new JsonWebToken(token).Issuer.TrimEnd('/'), Is.EqualTo(Pinned));

        // and it works wherever it is sent: the issuer is not the Host's
        using var probe = await _app.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task A_token_naming_the_Host_as_issuer_is_refused_even_when_sent_with_that_Host()
    {
        var key = _app.App.Services.GetRequiredService<EmbeddedSigningKey>();
        var now = DateTime.UtcNow;
        var forged = Tokens.Sign(key.SigningCredentials, $"http://{EvilHost}/", GcpScopes.Read, now.AddMinutes(-1), now.AddHours(1));

        using var request = new HttpRequestMessage(HttpMethod.Get, SecuredApp.ProbePath(GcpScopes.Read));
        request.Headers.Host = EvilHost;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", forged);
        using var response = await _app.Http.SendAsync(request);

        var problem = await PolicyTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Invalid access token issuer"));
    }

    [Test]
    public async Task Discovery_names_the_pinned_issuer_whatever_the_Host()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, GcpAuthenticationExtensions.DiscoveryPath);
        request.Headers.Host = EvilHost;
        using var response = await _app.Http.SendAsync(request);
        using var discovery = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(discovery.RootElement.GetProperty("issuer").GetString()!.TrimEnd('/'), Is.EqualTo(Pinned));
    }

    [TestCase(new[] { "http://127.0.0.1:8080" }, "http://127.0.0.1:8080")]
    [TestCase(new[] { "http://0.0.0.0:8080" }, "http://localhost:8080")]
    [TestCase(new[] { "http://[::]:8080" }, "http://localhost:8080")]
    [TestCase(new[] { "http://+:8080" }, "http://localhost:8080")]
    [TestCase(new[] { "http://*:80" }, "http://localhost")]
    [TestCase(new[] { "http://127.0.0.1:8080", "https://gcp.example:8443" }, "https://gcp.example:8443")]
    public void The_issuer_comes_from_the_listening_address(string[] addresses, string issuer) =>
        Assert.That(EmbeddedIssuer.FromAddresses(addresses), Is.EqualTo(issuer));

    [Test]
    public void Without_an_address_or_a_configured_issuer_there_is_none_to_guess()
    {
        Assert.That(EmbeddedIssuer.FromAddresses([]), Is.Null);
        using var services = new ServiceCollection().BuildServiceProvider();
        var issuer = new EmbeddedIssuer(Options.Create(new AuthOptions()), services);
        Assert.That(() => issuer.Value, Throws.InvalidOperationException.With.Message.Contains("Auth:Issuer"));

        var configured = new EmbeddedIssuer(Options.Create(new AuthOptions { Issuer = "https://gcp.example/realm" }), services);
        Assert.Multiple(() =>
        {
            Assert.That(configured.Uri, Is.EqualTo(new Uri("https://gcp.example/realm")), "a configured issuer is written as configured");
            Assert.That(configured.Matches("https://GCP.example/realm/"), Is.True);
            Assert.That(configured.Matches("https://gcp.example/"), Is.False);
        });
    }
}
