using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.OpenApi;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The OAuth2 side of the document: one <c>oauth2</c> scheme (client credentials, the five scopes) and, per operation,
/// the scopes its authorization policies ask for. Pure: the transformers call it, tests call it directly.
/// </summary>
public static class OpenApiSecurity
{
    /// <summary>The name of the security scheme in <c>components.securitySchemes</c>.</summary>
    public const string SchemeName = "oauth2";

    /// <summary>What each scope grants, as the document (and Swagger UI's Authorize dialog) shows it.</summary>
    public static IReadOnlyDictionary<string, string> ScopeDescriptions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [GcpScopes.Read] = "Look up certificates, their history and pools (the GET endpoints).",
        [GcpScopes.Reserve] = "Reserve the next certificate of a pool (POST /certificates/next).",
        [GcpScopes.CvcNotify] = "Read a certificate's CVC for a notification request until its result is recorded (the CRM notifier).",
        [GcpScopes.CvcSupport] = "Disclose a certificate's CVC to support: once per ticket, with a reason, a few times a day at most.",
        [GcpScopes.Lock] = "Lock and unlock certificates.",
        [GcpScopes.Admin] = "Operator actions (pool loads); implies none of the other scopes.",
        [GcpScopes.BackOffice] = "Back office: search every channel and by client id, see full certificate numbers (a channel-bound caller stays bound).",
        [GcpScopes.Report] = "Read the BI daily reports per business day and channel (GET /reports/daily).",
    };

    /// <summary>
    /// The scopes an endpoint requires, from its metadata: the scope of every <c>scope:…</c> policy it is authorized with
    /// (all of them must be granted). <see langword="null"/> for an anonymous endpoint (no authorization, or
    /// <see cref="IAllowAnonymous"/>); an empty list for an endpoint that only needs an authenticated caller.
    /// </summary>
    /// <param name="metadata">The endpoint's metadata (group conventions included).</param>
    /// <returns>The distinct scopes in metadata order, or null.</returns>
    public static IReadOnlyList<string>? RequiredScopes(IEnumerable<object> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var items = metadata.ToList();
        var authorize = items.OfType<IAuthorizeData>().ToList();
        if (authorize.Count == 0 || items.OfType<IAllowAnonymous>().Any())
        {
            return null;
        }

        const string prefix = "scope:"; // Policies.ForScope
        return authorize
            .Select(a => a.Policy)
            .Where(p => p is not null && p.StartsWith(prefix, StringComparison.Ordinal))
            .Select(p => p![prefix.Length..])
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Whether the endpoint is rate limited (it may answer 429).</summary>
    /// <param name="metadata">The endpoint's metadata.</param>
    /// <returns><see langword="true"/> when a rate-limiting policy applies and none is disabled.</returns>
    public static bool IsRateLimited(IEnumerable<object> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var items = metadata.ToList();
        return items.OfType<EnableRateLimitingAttribute>().Any() && !items.OfType<DisableRateLimitingAttribute>().Any();
    }

    /// <summary>The <c>oauth2</c> scheme: client credentials against <paramref name="tokenUrl"/> with every scope.</summary>
    /// <param name="tokenUrl">The token endpoint, absolute or relative to the server (OpenAPI 3.1 resolves it against <c>servers</c>).</param>
    /// <param name="description">What to tell the reader about where tokens come from.</param>
    /// <returns>The scheme.</returns>
    public static OpenApiSecurityScheme OAuth2Scheme(Uri tokenUrl, string description) => new()
    {
        Type = SecuritySchemeType.OAuth2,
        Description = description,
        Flows = new OpenApiOAuthFlows
        {
            ClientCredentials = new OpenApiOAuthFlow
            {
                TokenUrl = tokenUrl,
                Scopes = GcpScopes.All.ToDictionary(s => s, s => ScopeDescriptions[s], StringComparer.Ordinal),
            },
        },
    };

    /// <summary>
    /// Authority mode's token URL when the authority's discovery document cannot be read: <c>{Authority}/connect/token</c>
    /// (OpenIddict's, Duende's and the embedded mode's path).
    /// </summary>
    /// <param name="authority">The authority's base URL.</param>
    /// <returns>The URL.</returns>
    public static Uri FallbackAuthorityTokenUrl(string authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return new Uri(authority.TrimEnd('/') + GcpAuthenticationExtensions.TokenPath, UriKind.Absolute);
    }
}

/// <summary>
/// Title, description, tags, and the <c>oauth2</c> security scheme: Embedded mode, this service's <c>/connect/token</c>
/// (relative to the server, so it stays right behind a proxy) and the hand-written description of that endpoint;
/// Authority mode, the <c>token_endpoint</c> of the authority's discovery document (the one JwtBearer already reads for
/// the signing keys), or <c>{Auth:Authority}/connect/token</c> while that document cannot be read.
/// </summary>
internal sealed class GcpOpenApiDocumentTransformer(
    IOptions<AuthOptions> auth,
    IOptionsMonitor<JwtBearerOptions> jwt,
    ILogger<GcpOpenApiDocumentTransformer> logger) : IOpenApiDocumentTransformer
{
    private static readonly TimeSpan DiscoveryTimeout = TimeSpan.FromSeconds(5);

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "GcpStreams gift-certificate API",
            Version = OpenApiSetup.DocumentName,
            Description = OpenApiExamples.ApiDescription(auth.Value.ShowsDevelopmentSecrets),
        };
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Certificates", Description = "Look up, search, reserve, lock/unlock certificates and disclose the CVC." },
            new() { Name = "Pools", Description = "Pool levels: available, reserved, issued, loaded." },
            new() { Name = "Health", Description = "Liveness and readiness (anonymous)." },
        };

        var options = auth.Value;
        Uri tokenUrl;
        string description;
        if (options.Mode == AuthMode.Embedded)
        {
            tokenUrl = new Uri(GcpAuthenticationExtensions.TokenPath, UriKind.Relative);
            description = "Development token endpoint of this service (Auth:Mode=Embedded): client credentials"
                + (options.ShowsDevelopmentSecrets
                    ? " with a dev client, e.g. admin / admin-secret (all scopes), pos-terminal / pos-terminal-secret (gc.read gc.reserve); see docs/api.md."
                    : " with a client configured in Auth:Clients.");
            document.Tags.Add(new OpenApiTag { Name = "Auth", Description = "The development OAuth2 token endpoint (Embedded mode only; anonymous)." });
            document.Paths ??= [];
            document.Paths[GcpAuthenticationExtensions.TokenPath] = OpenApiExamples.TokenEndpointPath(options.ShowsDevelopmentSecrets);
        }
        else
        {
            tokenUrl = await AuthorityTokenUrlAsync(options.Authority!, cancellationToken);
            description = $"Tokens from the authorization server {options.Authority} (Auth:Mode=Authority), audience {options.Audience}.";
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[OpenApiSecurity.SchemeName] = OpenApiSecurity.OAuth2Scheme(tokenUrl, description);
    }

    private async Task<Uri> AuthorityTokenUrlAsync(string authority, CancellationToken cancellationToken)
    {
        if (jwt.Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager is { } manager)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(DiscoveryTimeout);
            try
            {
                var configuration = await manager.GetConfigurationAsync(timeout.Token);
                if (Uri.TryCreate(configuration.TokenEndpoint, UriKind.Absolute, out var discovered))
                {
                    return discovered;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or OperationCanceledException)
            {
                logger.LogWarning("OpenAPI: the discovery document of {Authority} could not be read ({Error}); the document names {Authority}/connect/token",
                    authority, e.GetBaseException().Message, authority.TrimEnd('/'));
            }
        }

        return OpenApiSecurity.FallbackAuthorityTokenUrl(authority);
    }
}

/// <summary>
/// Per operation: the JSON request body of a write (<see cref="JsonBodyMetadata"/>), the security requirement with its scopes,
/// and the 401/403/429 problems that come with them.
/// </summary>
internal static class OpenApiOperations
{
    public static async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<JsonBodyMetadata>().FirstOrDefault() is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    [System.Net.Mime.MediaTypeNames.Application.Json] = new() { Schema = await ComponentAsync(body.Type, context, cancellationToken) },
                },
            };
        }

        var scopes = OpenApiSecurity.RequiredScopes(metadata);
        var extra = new List<int>();
        if (scopes is not null)
        {
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApiSecurity.SchemeName, context.Document)] = [.. scopes] },
            ];
            extra.Add(StatusCodes.Status401Unauthorized);
            extra.Add(StatusCodes.Status403Forbidden);
        }

        if (OpenApiSecurity.IsRateLimited(metadata))
        {
            extra.Add(StatusCodes.Status429TooManyRequests);
        }

        operation.Responses ??= [];
        foreach (var status in extra.Where(s => !operation.Responses.ContainsKey(Key(s))))
        {
            operation.Responses[Key(status)] = new OpenApiResponse
            {
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["application/problem+json"] = new() { Schema = await ComponentAsync(typeof(ProblemDetails), context, cancellationToken) },
                },
            };
        }

        OpenApiExamples.DescribeProblems(operation, context.Description.RelativePath ?? string.Empty);
        OpenApiExamples.DescribeParameters(operation, context.Description.RelativePath ?? string.Empty);
    }

    /// <summary>A reference to the schema of <paramref name="type"/> in <c>components.schemas</c> (named as the type), added there the first time.</summary>
    private static async Task<OpenApiSchemaReference> ComponentAsync(Type type, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        if (!document.Components.Schemas.ContainsKey(type.Name))
        {
            document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        }

        return new OpenApiSchemaReference(type.Name, document);
    }

    private static string Key(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
