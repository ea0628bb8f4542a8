using System.Net;
using System.Security.Cryptography;
using GcpStreams.Api.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace GcpStreams.Api.Security.Tests;

public sealed class OptionsTests
{
    private static readonly AuthOptionsValidator Validator = new();

    private static IReadOnlyList<string> Failures(AuthOptions options) =>
        Validator.Validate(null, options).Failures?.ToArray() ?? [];

    [Test]
    public void The_defaults_are_valid_and_define_the_documented_clients()
    {
        var options = new AuthOptions();
        Assert.Multiple(() =>
        {
            Assert.That(Failures(options), Is.Empty);
            Assert.That(options.Mode, Is.EqualTo(AuthMode.Embedded));
            Assert.That(options.Audience, Is.EqualTo("gcp-streams"));
            Assert.That(options.TokenLifetimeMinutes, Is.EqualTo(60));
            Assert.That(options.Clients.Keys, Is.EquivalentTo(new[] { "pos-terminal", "internet-store", "crm-notifier", "support", "admin", "bi" }));
        });
    }

    [Test]
    public void Authority_mode_needs_an_authority()
    {
        Assert.That(Failures(new AuthOptions { Mode = AuthMode.Authority }),
            Is.EqualTo(new[] { "Auth:Authority is required when Auth:Mode is Authority" }));
    }

    [TestCase("not a url", "Auth:Authority must be an absolute http(s) URL (got 'not a url')")]
    [TestCase("ftp://login.example", "Auth:Authority must be an absolute http(s) URL (got 'ftp://login.example')")]
    [TestCase("http://login.example", "Auth:Authority must use https unless Auth:RequireHttpsMetadata is false (got 'http://login.example')")]
    public void A_bad_authority_is_named(string authority, string message)
    {
        Assert.That(Failures(new AuthOptions { Mode = AuthMode.Authority, Authority = authority }), Is.EqualTo(new[] { message }));
    }

    [Test]
    public void An_http_authority_is_fine_without_https_metadata()
    {
        Assert.That(Failures(new AuthOptions { Mode = AuthMode.Authority, Authority = "http://127.0.0.1:5000", RequireHttpsMetadata = false }), Is.Empty);
    }

    [Test]
    public void Every_bad_setting_is_named()
    {
        var options = new AuthOptions { Audience = " ", Issuer = "relative/path", TokenLifetimeMinutes = 0, SigningKeyPem = "garbage", Mode = (AuthMode)7 };
        Assert.That(Failures(options), Is.EquivalentTo(new[]
        {
            "Auth:Mode must be Embedded or Authority (got '7')",
            "Auth:Audience is required",
            "Auth:Issuer must be an absolute http(s) URL (got 'relative/path')",
        }));

        options.Mode = AuthMode.Embedded;
        options.Clients["pos-terminal"].Secret = "";
        options.Clients["support"].Scopes = "gc.read gc.everything";
        options.Clients["admin"].Scopes = " ";
        Assert.That(Failures(options), Is.EquivalentTo(new[]
        {
            "Auth:Audience is required",
            "Auth:Issuer must be an absolute http(s) URL (got 'relative/path')",
            "Auth:TokenLifetimeMinutes must be between 1 and 1440 (got 0)",
            "Auth:SigningKeyPem must be a PEM-encoded RSA private key of at least 2048 bits",
            "Auth:Clients:admin:Scopes must list at least one scope",
            "Auth:Clients:pos-terminal:Secret is required",
            "Auth:Clients:support:Scopes contains the unknown scope 'gc.everything' (known: gc.read gc.reserve gc.cvc.notify gc.cvc.support gc.lock gc.admin gc.backoffice gc.report)",
        }));

        options.Clients.Clear();
        Assert.That(Failures(options), Does.Contain("Auth:Clients must define at least one client when Auth:Mode is Embedded"));
    }

    [Test]
    public void A_small_or_public_only_key_is_refused()
    {
        using var small = RSA.Create(1024);
        using var big = RSA.Create(2048);
        Assert.Multiple(() =>
        {
            Assert.That(Failures(new AuthOptions { SigningKeyPem = small.ExportRSAPrivateKeyPem() }), Has.Count.EqualTo(1));
            Assert.That(Failures(new AuthOptions { SigningKeyPem = big.ExportRSAPublicKeyPem() }), Has.Count.EqualTo(1));
            Assert.That(Failures(new AuthOptions { SigningKeyPem = big.ExportPkcs8PrivateKeyPem() }), Is.Empty);
        });
    }

    [Test]
    public void Configuration_overrides_a_client_and_keeps_its_other_defaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:Clients:pos-terminal:Secret"] = "s3cret",
            ["Auth:Clients:batch:Secret"] = "batch-secret",
            ["Auth:Clients:batch:Scopes"] = "gc.read",
        }).Build();
        var services = new ServiceCollection().AddGcpAuthentication(configuration);
        using var provider = services.BuildServiceProvider();
        var clients = provider.GetRequiredService<IOptions<AuthOptions>>().Value.Clients;
        Assert.Multiple(() =>
        {
            Assert.That(clients["pos-terminal"].Secret, Is.EqualTo("s3cret"));
            Assert.That(clients["pos-terminal"].Scopes, Is.EqualTo("gc.read gc.reserve"));
            Assert.That(clients["batch"].Scopes, Is.EqualTo("gc.read"));
            Assert.That(clients, Has.Count.EqualTo(7));
        });
    }

    [Test]
    public async Task A_bad_setting_stops_startup_with_its_name()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () => await SecuredApp.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Authority",
        }));
        Assert.That(ex!.Message, Does.Contain("Auth:Authority is required when Auth:Mode is Authority"));
    }

    [Test]
    public async Task A_configured_key_issuer_and_lifetime_are_used()
    {
        using var rsa = RSA.Create(2048);
        var settings = new Dictionary<string, string?>
        {
            ["Auth:SigningKeyPem"] = rsa.ExportRSAPrivateKeyPem(),
            ["Auth:Issuer"] = "https://gcp-streams.example/",
            ["Auth:Audience"] = "gift-certificates",
            ["Auth:TokenLifetimeMinutes"] = "5",
        };
        await using var first = await SecuredApp.StartAsync(settings);
        await using var second = await SecuredApp.StartAsync(settings);
        var token = await first.TokenAsync(DevClients.Admin, GcpScopes.Admin);
        var jwt = new JsonWebToken(token);
        Assert.Multiple(() =>
        {
            Assert.That(jwt.Issuer, Is.EqualTo("https://gcp-streams.example/"));
            Assert.That(jwt.Audiences, Is.EqualTo(new[] { "gift-certificates" }));
            Assert.That(jwt.ValidTo - jwt.IssuedAt, Is.EqualTo(TimeSpan.FromMinutes(5)));
        });

        // the same configured key and issuer: the second instance accepts the first one's token
        using var response = await second.GetAsync(SecuredApp.ProbePath(GcpScopes.Admin), token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(second.App.Services.GetRequiredService<EmbeddedSigningKey>().Key.KeyId, Is.EqualTo(jwt.Kid));
    }
}
