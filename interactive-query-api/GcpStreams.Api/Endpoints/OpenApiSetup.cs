using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The OpenAPI document of the gift-certificate API (<c>GET /openapi/v1.json</c>, Microsoft.AspNetCore.OpenApi) and
/// Swagger UI reading it (<c>/swagger</c>, with OAuth2 client credentials so a person can authorize with a client and try
/// every endpoint). Both are anonymous: the document describes the API and holds no secret (the public dev clients are named
/// only while <see cref="AuthOptions.ShowsDevelopmentSecrets"/>). Served by default in embedded mode only
/// (<c>Gcp:OpenApiEnabled</c>). Swagger UI keeps no token across reloads and may not be framed (its Content-Security-Policy).
/// The schema registry and the token endpoint's own route stay out of the generated part; the token endpoint is described by
/// hand (tag Auth).
/// </summary>
public static class OpenApiSetup
{
    /// <summary>The one document: <c>v1</c>.</summary>
    public const string DocumentName = "v1";

    /// <summary>Where the document is served.</summary>
    public const string DocumentPath = "/openapi/" + DocumentName + ".json";

    /// <summary>Where Swagger UI is served.</summary>
    public const string SwaggerUiPath = "/swagger";

    public static IServiceCollection AddGcpOpenApi(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer<GcpOpenApiDocumentTransformer>();
            options.AddOperationTransformer(OpenApiOperations.TransformAsync);
            options.AddSchemaTransformer(OpenApiExamples.TransformSchemaAsync);
        });
        return services;
    }

    /// <summary>Maps the document and Swagger UI, when <see cref="GcpOptions.ServesOpenApi"/> says so.</summary>
    public static IEndpointRouteBuilder MapGcpOpenApi(this IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        var kafka = services.GetRequiredService<IOptions<KafkaOptions>>().Value;
        if (!services.GetRequiredService<IOptions<GcpOptions>>().Value.ServesOpenApi(kafka.Mode))
        {
            return endpoints;
        }

        var auth = services.GetRequiredService<IOptions<AuthOptions>>().Value;
        endpoints.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        endpoints.MapSwaggerUI(SwaggerUiPath.TrimStart('/'), ui =>
        {
            ui.DocumentTitle = "GcpStreams API";
            ui.SwaggerEndpoint(".." + DocumentPath, "GcpStreams API " + DocumentName); // relative: works behind a path base
            // no EnablePersistAuthorization: a token kept in the browser's storage outlives the page; reload, authorize again
            ui.EnableTryItOutByDefault();
            ui.DisplayRequestDuration();
            ui.OAuthAppName("GcpStreams Swagger UI");
            if (auth.ShowsDevelopmentSecrets)
            {
                // the client id only: the person types the secret (dev clients in docs/api.md); the page holds no secret
                ui.OAuthClientId(DevClients.Admin);
            }
        }).AllowAnonymous().WithMetadata(new ContentSecurityPolicy(SwaggerUiPolicy(auth)));
        return endpoints;
    }

    /// <summary>
    /// Swagger UI's Content-Security-Policy: its own scripts only (no inline script, no eval), its styles (Swagger UI sets
    /// inline styles) and data: images, requests to this service and, in Authority mode, to the authority (the token request
    /// of <i>Authorize</i>), and no framing by any page.
    /// </summary>
    public static string SwaggerUiPolicy(AuthOptions auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var connect = auth.Mode == AuthMode.Authority && Uri.TryCreate(auth.Authority, UriKind.Absolute, out var authority)
            ? "'self' " + authority.GetLeftPart(UriPartial.Authority)
            : "'self'";
        return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            + $"connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
    }
}
