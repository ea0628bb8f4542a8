using System.Net;
using System.Text.Json;
using GcpStreams.Api.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace GcpStreams.Api.Security.Tests;

public sealed class TokenEndpointTests
{
    private SecuredApp _app = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _app = await SecuredApp.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _app.DisposeAsync();

    private static readonly object[] ClientScopes =
    [
        new object?[] { DevClients.PosTerminal, new[] { "gc.read", "gc.reserve" }, "POS" },
        new object?[] { DevClients.InternetStore, new[] { "gc.read", "gc.reserve" }, "INTERNET_STORE" },
        new object?[] { DevClients.CrmNotifier, new[] { "gc.read", "gc.cvc.notify" }, null },
        new object?[] { DevClients.Support, new[] { "gc.read", "gc.lock", "gc.cvc.support", "gc.backoffice" }, null },
        new object?[] { DevClients.Admin, new[] { "gc.read", "gc.reserve", "gc.cvc.notify", "gc.cvc.support", "gc.lock", "gc.admin", "gc.backoffice", "gc.report" }, null },
        new object?[] { DevClients.Bi, new[] { "gc.report" }, null },
    ];

    [TestCaseSource(nameof(ClientScopes))]
    public async Task Each_dev_client_gets_a_signed_token_with_exactly_its_scopes_and_channel(string clientId, string[] scopes, string? channel)
    {
        using var response = await _app.RequestTokenAsync(clientId, DevClients.Defaults()[clientId].Secret);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        using var json = JsonDocument.Parse(body);
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("token_type").GetString(), Is.EqualTo("Bearer"));
            Assert.That(response.Headers.CacheControl?.NoStore, Is.True, "RFC 6749 §5.1: token responses are not stored");
            Assert.That(json.RootElement.GetProperty("expires_in").GetInt32(), Is.InRange(3590, 3600));
        });

        var jwt = new JsonWebToken(json.RootElement.GetProperty("access_token").GetString());
        var key = _app.App.Services.GetRequiredService<EmbeddedSigningKey>();
        Assert.Multiple(() =>
        {
            Assert.That(jwt.Alg, Is.EqualTo("RS256"));
            Assert.That(jwt.Kid, Is.EqualTo(key.Key.KeyId));
            Assert.That(jwt.GetClaim("scope").Value.Split(' '), Is.EquivalentTo(scopes));
            Assert.That(jwt.GetClaim("client_id").Value, Is.EqualTo(clientId));
            Assert.That(jwt.TryGetClaim(GcpClaims.Channel, out var bound) ? bound.Value : null, Is.EqualTo(channel));
            Assert.That(jwt.Subject, Is.EqualTo(clientId));
            Assert.That(jwt.Audiences, Is.EqualTo(new[] { AuthOptions.DefaultAudience }));
            Assert.That(jwt.Issuer.TrimEnd('/'), Is.EqualTo(_app.BaseAddress.ToString().TrimEnd('/')));
            Assert.That(jwt.ValidTo - jwt.IssuedAt, Is.EqualTo(TimeSpan.FromMinutes(60)));
        });
    }

    [Test]
    public async Task Client_credentials_may_come_with_HTTP_Basic()
    {
        using var response = await _app.RequestTokenAsync(DevClients.CrmNotifier, "crm-notifier-secret", basic: true);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task A_requested_scope_narrows_the_grant()
    {
        var token = new JsonWebToken(await _app.TokenAsync(DevClients.Support, "gc.lock"));
        Assert.That(token.GetClaim("scope").Value, Is.EqualTo("gc.lock"));
    }

    [TestCase("support", "wrong-secret", false)]
    [TestCase("support", "wrong-secret", true)]
    [TestCase("nobody", "support-secret", false)]
    [TestCase("support", "", false)]
    public async Task Bad_client_credentials_are_401_invalid_client(string clientId, string secret, bool basic)
    {
        using var response = await _app.RequestTokenAsync(clientId, secret, basic: basic);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), await response.Content.ReadAsStringAsync());
        Assert.That(await ErrorAsync(response), Is.EqualTo("invalid_client"));
        Assert.That(response.Headers.WwwAuthenticate.Single().Scheme, Is.EqualTo("Basic"));
    }

    [TestCase("password")]
    [TestCase("authorization_code")]
    [TestCase("urn:example:unknown")]
    public async Task Another_grant_type_is_400_unsupported_grant_type(string grantType)
    {
        using var response = await _app.RequestTokenAsync(DevClients.Admin, "admin-secret", grantType: grantType);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await ErrorAsync(response), Is.EqualTo("unsupported_grant_type"));
    }

    [TestCase(DevClients.PosTerminal, "gc.cvc.support")]
    [TestCase(DevClients.CrmNotifier, "gc.cvc.support")]
    [TestCase(DevClients.Support, "gc.cvc.notify")]
    [TestCase(DevClients.CrmNotifier, "gc.read gc.lock")]
    [TestCase(DevClients.Admin, "gc.everything")]
    public async Task An_unallowed_scope_is_400_invalid_scope(string clientId, string scope)
    {
        using var response = await _app.RequestTokenAsync(clientId, DevClients.Defaults()[clientId].Secret, scope);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await ErrorAsync(response), Is.EqualTo("invalid_scope"));
    }

    [Test]
    public async Task Discovery_and_JWKS_publish_the_endpoint_and_the_signing_key()
    {
        using var discovery = JsonDocument.Parse(await _app.Http.GetStringAsync(GcpAuthenticationExtensions.DiscoveryPath));
        var root = discovery.RootElement;
        var baseUrl = _app.BaseAddress.ToString().TrimEnd('/');
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("issuer").GetString()!.TrimEnd('/'), Is.EqualTo(baseUrl));
            Assert.That(root.GetProperty("token_endpoint").GetString(), Is.EqualTo(baseUrl + GcpAuthenticationExtensions.TokenPath));
            Assert.That(root.GetProperty("jwks_uri").GetString(), Is.EqualTo(baseUrl + GcpAuthenticationExtensions.JwksPath));
            Assert.That(root.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "client_credentials" }));
            Assert.That(root.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()), Is.SupersetOf(GcpScopes.All));
        });

        using var jwks = JsonDocument.Parse(await _app.Http.GetStringAsync(GcpAuthenticationExtensions.JwksPath));
        var key = _app.App.Services.GetRequiredService<EmbeddedSigningKey>();
        var published = jwks.RootElement.GetProperty("keys").EnumerateArray().Single();
        Assert.Multiple(() =>
        {
            Assert.That(published.GetProperty("kid").GetString(), Is.EqualTo(key.Key.KeyId));
            Assert.That(published.GetProperty("kty").GetString(), Is.EqualTo("RSA"));
            Assert.That(published.TryGetProperty("d", out _), Is.False, "the private exponent must not be published");
        });
    }

    private static async Task<string?> ErrorAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").GetString();
    }
}
