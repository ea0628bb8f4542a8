using GcpStreams.Api.OperatorConsole;
using GcpStreams.Api.Security;
using Microsoft.Extensions.Options;

namespace GcpStreams.Console.Tests;

/// <summary>The console's settings are checked at start, each failure naming the setting; its sign-in config never holds a secret.</summary>
public sealed class ConsoleOptionsTests
{
    private static readonly AuthOptions Authority = new() { Mode = AuthMode.Authority, Authority = "https://login.example/realms/retail" };

    [Test]
    public void AuthoritySignIn_NeedsAllThree_AbsoluteHttpsUrls_AndAuthorityMode()
    {
        Assert.That(Validate(Authority, new()).Succeeded, Is.True, "nothing set: the console says sign-in is not configured");
        Assert.That(Validate(Authority, Complete()).Succeeded, Is.True);
        Assert.That(Failures(Authority, new() { ClientId = "gcp-console" }), Has.Some.Contains("Console:AuthorizeEndpoint is required").And.Some.Contains("Console:TokenEndpoint is required"));
        Assert.That(Failures(Authority, Complete(o => o.ClientId = " ")), Has.Some.Contains("Console:ClientId is required"));
        Assert.That(Failures(Authority, Complete(o => o.TokenEndpoint = "http://login.example/token")), Has.Some.Contains("Console:TokenEndpoint must use https"));
        Assert.That(Failures(Authority, Complete(o => o.AuthorizeEndpoint = "/authorize")), Has.Some.Contains("Console:AuthorizeEndpoint must be an absolute http(s) URL"));
        Assert.That(Failures(Authority, Complete(o => o.Scopes = " ")), Has.Some.Contains("Console:Scopes"));
        Assert.That(Failures(new AuthOptions(), Complete()), Has.Some.Contains("are for Auth:Mode=Authority"));
        Assert.That(Validate(new AuthOptions { Mode = AuthMode.Authority, Authority = "http://127.0.0.1:1", RequireHttpsMetadata = false },
            Complete(o => o.TokenEndpoint = "http://127.0.0.1:1/token")).Succeeded, Is.True, "http with Auth:RequireHttpsMetadata=false (tests, local clusters)");
    }

    [Test]
    public void LiveTailSettings_AreBounded()
    {
        var validation = new LiveTailOptionsValidation();
        Assert.That(validation.Validate(null, new LiveTailOptions()).Succeeded, Is.True);
        Assert.That(validation.Validate(null, new LiveTailOptions { BufferEvents = 0, MaxStreams = 0, HeartbeatSeconds = 0 }).Failures,
            Has.Some.Contains("Gcp:LiveTail:BufferEvents").And.Some.Contains("Gcp:LiveTail:MaxStreams").And.Some.Contains("Gcp:LiveTail:HeartbeatSeconds"));
    }

    [Test]
    public void Config_EmbeddedListsDevClientsWithoutSecrets_AuthorityItsEndpoints_AndThePolicyAllowsOnlyTheTokenEndpoint()
    {
        var embedded = ConsoleHosting.Config(new AuthOptions(), new ConsoleOptions(), devSupportTickets: true);
        Assert.That(embedded.Mode, Is.EqualTo("embedded"));
        Assert.That(embedded.DevClients.Select(c => c.ClientId), Does.Contain("support").And.Contain("pos-terminal"));
        Assert.That(System.Text.Json.JsonSerializer.Serialize(embedded), Does.Not.Contain("secret"));

        var authority = ConsoleHosting.Config(Authority, Complete(), devSupportTickets: false);
        Assert.That((authority.Mode, authority.ClientId, authority.DevClients.Count), Is.EqualTo(("authority", "gcp-console", 0)));
        Assert.That(ConsoleHosting.Config(Authority, new ConsoleOptions(), false).Mode, Is.EqualTo("unconfigured"));
        Assert.That(ConsoleHosting.Policy(Authority, Complete()), Does.Contain("connect-src 'self' https://login.example;"));
    }

    [Test]
    public void ContentSecurityPolicy_IsStrict()
    {
        var policy = GcpStreams.Api.OperatorConsole.ConsoleHosting.Policy(new(), new());
        Assert.That(policy, Does.Contain("script-src 'self';").And.Contain("style-src 'self';").And.Contain("require-trusted-types-for 'script'")
            .And.Contain("frame-ancestors 'none'").And.Not.Contain("unsafe"));
    }

    private static ConsoleOptions Complete(Action<ConsoleOptions>? change = null)
    {
        var options = new ConsoleOptions
        {
            ClientId = "gcp-console",
            AuthorizeEndpoint = "https://login.example/realms/retail/protocol/openid-connect/auth",
            TokenEndpoint = "https://login.example/realms/retail/protocol/openid-connect/token",
        };
        change?.Invoke(options);
        return options;
    }

    private static ValidateOptionsResult Validate(AuthOptions auth, ConsoleOptions console) => new ConsoleOptionsValidation(Options.Create(auth)).Validate(null, console);

    private static IEnumerable<string> Failures(AuthOptions auth, ConsoleOptions console) => Validate(auth, console).Failures ?? [];
}
