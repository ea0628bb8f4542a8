using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Console.Tests;

/// <summary>
/// A small OAuth2 authorization server for the tests, on a free port: OpenID discovery and JWKS (the service validates its tokens
/// through them, as with any authority), an authorization endpoint that signs in one person at once (no login page) and sends the
/// browser back with a code, and a token endpoint that redeems the code only with the PKCE verifier of its S256 challenge
/// (RFC 7636 §4.6), answering the console's origin with CORS. It remembers what it was asked.
/// </summary>
internal sealed class TestAuthority : IAsyncDisposable
{
    public const string ClientId = "gcp-console";
    public const string Person = "agent.petrova";

    private readonly WebApplication app;
    private readonly RSA key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string Challenge, string RedirectUri, string Scope)> codes = new(StringComparer.Ordinal);

    private TestAuthority(WebApplication app) => this.app = app;

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    /// <summary>The origin allowed to call the token endpoint (the service's), set once it listens.</summary>
    public string? AllowedOrigin { get; set; }

    /// <summary>The scopes granted to the person (whatever the console asks).</summary>
    public string GrantedScopes { get; set; } = "gc.read gc.lock gc.backoffice";

    /// <summary>Every authorization request's query, in order.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> AuthorizeRequests { get; } = new();

    /// <summary>Every token request's outcome: "ok", or the reason it was refused.</summary>
    public ConcurrentQueue<string> TokenOutcomes { get; } = new();

    public static async Task<TestAuthority> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var authority = new TestAuthority(app);
        app.MapGet("/.well-known/openid-configuration", authority.Discovery);
        app.MapGet("/jwks", authority.Jwks);
        app.MapGet("/authorize", authority.Authorize);
        app.MapPost("/token", (Func<HttpContext, Task<IResult>>)authority.TokenAsync);
        await app.StartAsync();
        return authority;
    }

    private IResult Discovery() => Results.Json(new Dictionary<string, object>
    {
        ["issuer"] = Url,
        ["jwks_uri"] = Url + "/jwks",
        ["authorization_endpoint"] = Url + "/authorize",
        ["token_endpoint"] = Url + "/token",
        ["response_types_supported"] = new[] { "code" },
        ["code_challenge_methods_supported"] = new[] { "S256" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        ["subject_types_supported"] = new[] { "public" },
    });

    private IResult Jwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.ExportParameters(false)) { KeyId = "test-authority" });
        return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
    }

    private IResult Authorize(HttpContext context)
    {
        var query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        AuthorizeRequests.Enqueue(query);
        var redirect = query.GetValueOrDefault("redirect_uri") ?? string.Empty;
        if (query.GetValueOrDefault("response_type") != "code" || query.GetValueOrDefault("client_id") != ClientId
            || query.GetValueOrDefault("code_challenge_method") != "S256" || string.IsNullOrEmpty(query.GetValueOrDefault("code_challenge"))
            || AllowedOrigin is null || !redirect.StartsWith(AllowedOrigin + "/console/", StringComparison.Ordinal))
        {
            return Results.BadRequest("invalid authorization request");
        }

        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        codes[code] = (query["code_challenge"], redirect, query.GetValueOrDefault("scope") ?? string.Empty);
        return Results.Redirect($"{redirect}?code={code}&state={Uri.EscapeDataString(query.GetValueOrDefault("state") ?? string.Empty)}");
    }

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        if (AllowedOrigin is not null)
        {
            context.Response.Headers.AccessControlAllowOrigin = AllowedOrigin;
        }

        var form = await context.Request.ReadFormAsync();
        string Refuse(string why)
        {
            TokenOutcomes.Enqueue(why);
            return why;
        }

        if (form["grant_type"] != "authorization_code" || form["client_id"] != ClientId)
        {
            return Results.Json(new { error = "invalid_request", error_description = Refuse("grant type or client") }, statusCode: 400);
        }

        if (!codes.TryRemove(form["code"].ToString(), out var issued))
        {
            return Results.Json(new { error = "invalid_grant", error_description = Refuse("unknown or used code") }, statusCode: 400);
        }

        var verifier = form["code_verifier"].ToString();
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (verifier.Length < 43 || challenge != issued.Challenge)
        {
            return Results.Json(new { error = "invalid_grant", error_description = Refuse("the verifier does not match the challenge") }, statusCode: 400);
        }

        if (form["redirect_uri"] != issued.RedirectUri)
        {
            return Results.Json(new { error = "invalid_grant", error_description = Refuse("redirect_uri differs") }, statusCode: 400);
        }

        TokenOutcomes.Enqueue("ok");
        var now = DateTime.UtcNow;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Url,
            Audience = "gcp-streams",
            TokenType = "at+jwt",
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            Subject = new ClaimsIdentity([new Claim("sub", Person), new Claim("client_id", ClientId), new Claim("scope", GrantedScopes), new Claim("preferred_username", Person)]),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = "test-authority" }, SecurityAlgorithms.RsaSha256),
        });
        return Results.Json(new { access_token = token, token_type = "Bearer", expires_in = 600, scope = GrantedScopes });
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        key.Dispose();
    }
}
