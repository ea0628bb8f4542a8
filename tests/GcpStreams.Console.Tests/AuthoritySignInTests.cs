using System.Text.RegularExpressions;
using GcpStreams.Integration.Tests;
using Microsoft.Playwright;

namespace GcpStreams.Console.Tests;

/// <summary>
/// Authority mode: the console signs a person in with the authorization-code flow and PKCE against the configured authority (here a
/// small authorization server of the tests, <see cref="TestAuthority"/>), and calls the API with the token it gets.
/// </summary>
[NonParallelizable]
public sealed class AuthoritySignInTests : ConsoleTest
{
    private static TestAuthority authority = null!;
    private static ServiceInstance service = null!;

    private static string Url => service.Url.TrimEnd('/') + "/console/";

    [OneTimeSetUp]
    public static async Task StartAsync()
    {
        authority = await TestAuthority.StartAsync();
        service = await ServiceInstance.StartEmbeddedAsync("gcp-console-authority", new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Authority",
            ["Auth:Authority"] = authority.Url,
            ["Auth:RequireHttpsMetadata"] = "false",
            ["Console:ClientId"] = TestAuthority.ClientId,
            ["Console:AuthorizeEndpoint"] = authority.Url + "/authorize",
            ["Console:TokenEndpoint"] = authority.Url + "/token",
            ["Console:Scopes"] = "gc.read gc.lock gc.backoffice",
        }, untilRunning: false);
        authority.AllowedOrigin = new Uri(service.Url).GetLeftPart(UriPartial.Authority);
        await service.ReadModel.WhenCaughtUp.WaitAsync(ConsoleService.Timeout);
    }

    [OneTimeTearDown]
    public static async Task StopAsync()
    {
        await service.DisposeAsync();
        await authority.DisposeAsync();
    }

    [Test]
    public async Task SignIn_WithCodeAndPkce_ThenTheApiAcceptsTheAuthoritysToken()
    {
        await Page.GotoAsync(Url);
        var signIn = Page.GetByRole(AriaRole.Button, new() { Name = $"Sign in with {new Uri(authority.Url).Authority}" });
        await Expect(signIn).ToBeVisibleAsync();
        await ShotAsync("14-authority-sign-in");
        await signIn.ClickAsync();

        await Expect(Page.Locator("#who-name")).ToHaveTextAsync(TestAuthority.Person);
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Search certificates"); // gc.backoffice
        await Expect(Page).Not.ToHaveURLAsync(new Regex("code=|state="));
        Assert.That(authority.TokenOutcomes, Is.EqualTo(new[] { "ok" }), "the code was redeemed with the verifier of its S256 challenge");
        var request = authority.AuthorizeRequests.Single();
        Assert.That(request["code_challenge_method"], Is.EqualTo("S256"));
        Assert.That(request["code_challenge"], Does.Match("^[A-Za-z0-9_-]{43}$"));
        Assert.That(request["redirect_uri"], Is.EqualTo(Url));
        Assert.That(request["scope"], Is.EqualTo("gc.read gc.lock gc.backoffice"));
        Assert.That(request["state"], Has.Length.GreaterThanOrEqualTo(20));

        await Page.GetByRole(AriaRole.Link, new() { Name = "Pools" }).ClickAsync();
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Pools");
        await Expect(Page.Locator("main")).ToContainTextAsync("No pool is visible"); // the API answered the authority's token (no demo pools here)
        Assert.That(await Page.EvaluateAsync<string?>("() => localStorage.length ? 'localStorage used' : null"), Is.Null);
    }

    [Test]
    public async Task ACallbackThisTabDidNotStart_IsRefused()
    {
        await Page.GotoAsync(Url + "?code=forged&state=forged");
        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("does not match a sign-in started in this tab");
        await Expect(Page).Not.ToHaveURLAsync(new Regex("code="));
        Assert.That(authority.TokenOutcomes, Does.Not.Contain("unknown or used code"), "no token request was made");
    }

    [Test]
    public async Task Pkce_ChallengeAndAuthorizeUrl_AsRfc7636Says()
    {
        await Page.GotoAsync(Url);
        // RFC 7636 Appendix B: the verifier and its S256 challenge
        var challenge = await Page.EvaluateAsync<string>("async () => (await import('./js/pkce.js')).challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')");
        Assert.That(challenge, Is.EqualTo("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        var url = await Page.EvaluateAsync<string>("""
            async () => (await import('./js/pkce.js')).authorizeUrl({ authorizeEndpoint: 'https://login.example/authorize?tenant=retail', clientId: 'gcp-console',
              redirectUri: 'https://gcp.example/console/', scope: 'gc.read gc.lock', state: 'st', challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' })
            """);
        Assert.That(url, Is.EqualTo("https://login.example/authorize?tenant=retail&response_type=code&client_id=gcp-console&redirect_uri=https%3A%2F%2Fgcp.example%2Fconsole%2F"
            + "&scope=gc.read+gc.lock&state=st&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"));
        var verifier = await Page.EvaluateAsync<string>("async () => (await import('./js/pkce.js')).randomToken()");
        Assert.That(verifier, Does.Match("^[A-Za-z0-9_-]{43}$"));
        var redirect = await Page.EvaluateAsync<string>("async () => (await import('./js/pkce.js')).redirectUriOf('https://gcp.example/console/?code=1&state=2#/search')");
        Assert.That(redirect, Is.EqualTo("https://gcp.example/console/"));
    }
}
