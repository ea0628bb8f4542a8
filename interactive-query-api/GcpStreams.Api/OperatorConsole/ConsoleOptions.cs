using GcpStreams.Api.Security;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.OperatorConsole;

/// <summary>
/// Section <c>Console</c>: the support and POS console served at <c>/console</c>. In embedded auth mode the console signs in
/// through the development token endpoint and needs nothing here. In Authority mode it signs people in with the
/// authorization-code flow and PKCE (RFC 7636) against the authority: its public client id and the authority's authorize and
/// token endpoints are required for that (without them the console says sign-in is not configured).
/// </summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>The default <see cref="Scopes"/>: everything the console can use; the authority grants each person what it allows.</summary>
    public const string DefaultScopes = "gc.read gc.reserve gc.lock gc.cvc.support gc.backoffice";

    /// <summary>Serve the console at <c>/console</c> (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Authority mode: the console's OAuth2 client id at the authority (a public client: no secret, PKCE).</summary>
    public string? ClientId { get; set; }

    /// <summary>Authority mode: the authority's authorization endpoint (where the browser is sent to sign in).</summary>
    public string? AuthorizeEndpoint { get; set; }

    /// <summary>Authority mode: the authority's token endpoint (the browser exchanges the code there: it must allow the console's origin, CORS).</summary>
    public string? TokenEndpoint { get; set; }

    /// <summary>The scopes the console asks for, space-separated (<see cref="DefaultScopes"/>).</summary>
    public string Scopes { get; set; } = DefaultScopes;

    /// <summary>Whether the authorization-code sign-in is configured (a client id is set).</summary>
    public bool HasAuthoritySignIn => !string.IsNullOrWhiteSpace(ClientId);
}

/// <summary>
/// Section <c>Gcp:LiveTail</c>: the Server-Sent Events live tails of the event stream (<c>GET /certificates/{id}/events</c>,
/// <c>GET /pools/{id}/events</c>).
/// </summary>
public sealed class LiveTailOptions
{
    public const string Section = "Gcp:LiveTail";

    /// <summary>Most live tails open at once on one instance; beyond it 503 live-tail-busy with Retry-After.</summary>
    public int MaxStreams { get; set; } = 200;

    /// <summary>Events one tail may have waiting to be written; a connection that falls further behind is ended with an <c>overflow</c> event.</summary>
    public int BufferEvents { get; set; } = 256;

    /// <summary>Seconds between keep-alive comments on a quiet tail (so proxies and the browser keep the connection).</summary>
    public int HeartbeatSeconds { get; set; } = 15;
}

/// <summary>Startup checks of <see cref="ConsoleOptions"/>, each naming the setting.</summary>
public sealed class ConsoleOptionsValidation(IOptions<AuthOptions> auth) : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var configured = new[] { options.ClientId, options.AuthorizeEndpoint, options.TokenEndpoint }.Any(v => !string.IsNullOrWhiteSpace(v));
        if (configured)
        {
            var authority = auth.Value;
            if (authority.Mode != AuthMode.Authority)
            {
                errors.Add("Console:ClientId, Console:AuthorizeEndpoint and Console:TokenEndpoint are for Auth:Mode=Authority; in embedded mode the console signs in "
                    + "through the development token endpoint (remove them, or set Auth:Mode=Authority).");
            }

            if (string.IsNullOrWhiteSpace(options.ClientId))
            {
                errors.Add("Console:ClientId is required with Console:AuthorizeEndpoint and Console:TokenEndpoint: the console's public client id at the authority.");
            }

            Endpoint(errors, "Console:AuthorizeEndpoint", options.AuthorizeEndpoint, authority.RequireHttpsMetadata);
            Endpoint(errors, "Console:TokenEndpoint", options.TokenEndpoint, authority.RequireHttpsMetadata);
        }

        var scopes = GcpScopes.Parse(options.Scopes);
        if (scopes.Count == 0)
        {
            errors.Add($"Console:Scopes must name at least one scope (default: {ConsoleOptions.DefaultScopes}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Endpoint(List<string> errors, string setting, string? value, bool requireHttps)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{setting} is required when the console signs in with the authority (Console:ClientId).");
        }
        else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.Fragment))
        {
            errors.Add($"{setting} must be an absolute http(s) URL without a fragment (got '{value}').");
        }
        else if (requireHttps && uri.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"{setting} must use https unless Auth:RequireHttpsMetadata is false (got '{value}').");
        }
    }
}

/// <summary>Startup checks of <see cref="LiveTailOptions"/>.</summary>
public sealed class LiveTailOptionsValidation : IValidateOptions<LiveTailOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveTailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Hosting.KafkaOptionsValidation.Range(errors, "Gcp:LiveTail:MaxStreams", options.MaxStreams, 1, 100_000);
        Hosting.KafkaOptionsValidation.Range(errors, "Gcp:LiveTail:BufferEvents", options.BufferEvents, 1, 100_000);
        Hosting.KafkaOptionsValidation.Range(errors, "Gcp:LiveTail:HeartbeatSeconds", options.HeartbeatSeconds, 1, 300);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
