using GcpStreams.Api.Security;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The OpenAPI document of the gift-certificate API (<c>GET /openapi/v1.json</c>, Microsoft.AspNetCore.OpenApi) and
/// Swagger UI reading it (<c>/swagger</c>, with OAuth2 client credentials so a person can authorize with a client and try
/// every endpoint). Both are anonymous: the document describes the API and holds no secret. The schema registry and the
/// token endpoint's own route stay out of the generated part; the token endpoint is described by hand (tag Auth).
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

    public static IEndpointRouteBuilder MapGcpOpenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        var embedded = endpoints.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value.Mode == AuthMode.Embedded;
        endpoints.MapSwaggerUI(SwaggerUiPath.TrimStart('/'), ui =>
        {
            ui.DocumentTitle = "GcpStreams API";
            ui.SwaggerEndpoint(".." + DocumentPath, "GcpStreams API " + DocumentName); // relative: works behind a path base
            ui.EnablePersistAuthorization(); // the token survives a reload of the page
            ui.EnableTryItOutByDefault();
            ui.DisplayRequestDuration();
            ui.OAuthAppName("GcpStreams Swagger UI");
            if (embedded)
            {
                // the client id only: the person types the secret (dev clients in docs/api.md); the page holds no secret
                ui.OAuthClientId(DevClients.Admin);
            }
        }).AllowAnonymous();
        return endpoints;
    }
}
