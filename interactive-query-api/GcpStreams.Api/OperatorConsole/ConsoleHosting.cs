using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.OperatorConsole;

/// <summary>
/// The support and POS console at <c>/console</c>: plain HTML, CSS and ES modules embedded in the service's assembly
/// (<c>ConsoleAssets/</c>, no build step, nothing fetched from elsewhere) served as static files with a strict
/// Content-Security-Policy, and <c>GET /console/config.json</c>, which tells the page how to sign in (the development token
/// endpoint and the dev clients' ids in embedded mode; the authority's endpoints and the console's client id for the
/// authorization-code flow with PKCE in Authority mode). Everything else the console shows comes from the API itself.
/// </summary>
public static class ConsoleHosting
{
    /// <summary>Where the console is served.</summary>
    public const string Path = "/console";

    /// <summary>The sign-in settings the page reads.</summary>
    public const string ConfigPath = Path + "/config.json";

    private const string AssetsRoot = "ConsoleAssets";

    public static IServiceCollection AddGcpConsole(this IServiceCollection services)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidation>();
        return services;
    }

    /// <summary>
    /// Serves the console's files (before authentication, the audit and the rate limits: they are the same public files for
    /// everyone and hold no data). <c>/console</c> redirects to <c>/console/</c>, which is <c>index.html</c>.
    /// </summary>
    public static IApplicationBuilder UseGcpConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var console = app.Services.GetRequiredService<IOptions<ConsoleOptions>>().Value;
        if (!console.Enabled)
        {
            return app;
        }

        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var policy = Policy(auth, console);
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleHosting).Assembly, AssetsRoot);
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = Path,
            FileProvider = files,
            OnPrepareResponse = file =>
            {
                var headers = file.Context.Response.Headers;
                headers.ContentSecurityPolicy = policy;
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
                headers.CacheControl = "no-cache"; // revalidated (ETag) at every load: a new version of the service is picked up at once
            },
        });
        return app;
    }

    /// <summary>Maps <c>GET /console/config.json</c> (anonymous: it holds no secret).</summary>
    public static IEndpointRouteBuilder MapGcpConsole(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var console = services.GetRequiredService<IOptions<ConsoleOptions>>().Value;
        if (!console.Enabled)
        {
            return endpoints;
        }

        endpoints.MapGet(ConfigPath, (IOptions<AuthOptions> auth, IOptions<ConsoleOptions> options, IServiceProvider sp, HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "no-store";
                return TypedResults.Ok(Config(auth.Value, options.Value, SupportGrantsHosting.HasDevSigner(sp)));
            })
            .AllowAnonymous()
            .ExcludeFromDescription()
            .WithName("ConsoleConfig");
        return endpoints;
    }

    /// <summary>What the page needs to sign in; never a secret.</summary>
    public static ConsoleConfig Config(AuthOptions auth, ConsoleOptions console, bool devSupportTickets)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(console);
        if (auth.Mode == AuthMode.Embedded)
        {
            var clients = auth.Clients.OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => new ConsoleDevClient(c.Key, GcpScopes.Parse(c.Value.Scopes), string.IsNullOrEmpty(c.Value.Channel) ? null : c.Value.Channel))
                .ToArray();
            return new ConsoleConfig("embedded", GcpAuthenticationExtensions.TokenPath, null, null, null, clients, devSupportTickets, ReportsAvailable: true);
        }

        return console.HasAuthoritySignIn
            ? new ConsoleConfig("authority", console.TokenEndpoint, console.AuthorizeEndpoint, console.ClientId, console.Scopes, [], devSupportTickets, ReportsAvailable: true)
            : new ConsoleConfig("unconfigured", null, null, null, null, [], devSupportTickets, ReportsAvailable: true);
    }

    /// <summary>
    /// The console's Content-Security-Policy: its own scripts and styles only (no inline script or style, no eval), Trusted Types
    /// required for every DOM sink that parses HTML (the console builds its DOM from nodes, never from markup), requests to this
    /// service and, in Authority mode, to the authority's token endpoint (the code exchange), no plugin, no framing, no base.
    /// </summary>
    public static string Policy(AuthOptions auth, ConsoleOptions console)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(console);
        var connect = auth.Mode == AuthMode.Authority && console.HasAuthoritySignIn && Uri.TryCreate(console.TokenEndpoint, UriKind.Absolute, out var token)
            ? "'self' " + token.GetLeftPart(UriPartial.Authority)
            : "'self'";
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            + $"connect-src {connect}; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
            + "require-trusted-types-for 'script'; trusted-types 'none'";
    }
}

/// <summary>The console's sign-in settings (<c>GET /console/config.json</c>).</summary>
/// <param name="Mode"><c>embedded</c> (the development token endpoint, a dev client chosen on the sign-in page), <c>authority</c> (authorization code + PKCE), or <c>unconfigured</c> (Authority mode without Console:ClientId).</param>
/// <param name="TokenEndpoint">Where tokens come from.</param>
/// <param name="AuthorizeEndpoint">Authority mode: where the browser signs in.</param>
/// <param name="ClientId">Authority mode: the console's public client id.</param>
/// <param name="Scopes">Authority mode: the scopes asked for.</param>
/// <param name="DevClients">Embedded mode: the dev clients (ids, scopes, channel; never their secrets).</param>
/// <param name="DevSupportTickets">Whether <c>POST /dev/support-tickets</c> mints CVC support grants here (embedded mode).</param>
/// <param name="ReportsAvailable">Whether the daily report API exists (GET /reports/daily, scope gc.report: it does).</param>
public sealed record ConsoleConfig(
    string Mode,
    string? TokenEndpoint,
    string? AuthorizeEndpoint,
    string? ClientId,
    string? Scopes,
    IReadOnlyList<ConsoleDevClient> DevClients,
    bool DevSupportTickets,
    bool ReportsAvailable);

/// <summary>A dev client the embedded sign-in page offers.</summary>
public sealed record ConsoleDevClient(string ClientId, IReadOnlyList<string> Scopes, string? Channel);
