using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GcpStreams.SchemaRegistry.Http;

/// <summary>
/// Serves an <see cref="InProcessSchemaRegistry"/> over HTTP with the part of Confluent Schema Registry's REST API
/// that Confluent's clients (and their Avro serializers and deserializers) use, so other processes encode and
/// decode with the same schema ids as the service.
/// </summary>
/// <remarks>
/// <para>
/// <b>No authentication and no authorization.</b> This is a development convenience of embedded mode: bind the
/// host to loopback (127.0.0.1 / ::1) only. Anyone who can reach the port can register schemas. In cluster mode
/// use a real Schema Registry instead.
/// </para>
/// <para>
/// Endpoints (relative to the prefix): the ones Confluent's .NET client sends on its Avro serializers' and
/// deserializers' path (the CRM notifier, the traffic tool, the benches), with Confluent's JSON shapes, content type
/// <c>application/vnd.schemaregistry.v1+json</c> (or <c>application/vnd.schemaregistry+json</c> /
/// <c>application/json</c> when that is all the request accepts) and request bodies accepted in any of those
/// three types:
/// </para>
/// <list type="bullet">
/// <item><c>POST /subjects/{subject}/versions</c> (register: <c>{schema, schemaType?}</c>), answering
/// <c>{id, version, schema}</c>: the serializers' auto-registration.</item>
/// <item><c>GET /schemas/ids/{id}</c> (<c>subject</c> and <c>format</c> accepted and ignored: one context, Avro
/// only), answering <c>{schema}</c>: the deserializers' writer schema.</item>
/// <item><c>GET /associations/resources/{namespace}/{name}</c>: always an empty list. Confluent's 2.16 serializers
/// and deserializers ask it first (their default "Associated" subject name strategy) and then fall back to the
/// Topic strategy.</item>
/// </list>
/// <para>
/// Errors are Confluent's: <c>{"error_code": 40401, "message": "Subject 'x' not found."}</c>, with the HTTP
/// status the error code starts with (40401 → 404, 40901 → 409, 42201 → 422, 500xx → 500). Any other path under
/// the prefix answers 404 <c>{"error_code": 404, "message": "HTTP 404 Not Found"}</c>: there is no listing, no
/// compatibility or config API, no lookup, no GUID or metadata read, no association management, nothing is ever
/// deleted.
/// </para>
/// </remarks>
public static class SchemaRegistryApiEndpoints
{
    /// <summary>The top-level resources claimed (for Confluent-style 404s) when the API is mapped at the root.</summary>
    private static readonly string[] RootResources = ["subjects", "schemas", "config", "compatibility", "associations", "mode", "contexts"];

    /// <summary>Maps the schema registry REST API.</summary>
    /// <param name="endpoints">The application (or any route builder).</param>
    /// <param name="registry">The registry to serve; the same instance the service's serializers use.</param>
    /// <param name="prefix">
    /// Path under which the API is served (e.g. <c>/schema-registry</c>; clients then use
    /// <c>http://127.0.0.1:port/schema-registry</c> as their registry URL). Empty: at the root, where only the
    /// registry's own top-level resources (<c>/subjects</c>, <c>/schemas</c>, …) get Confluent-style 404s.
    /// </param>
    /// <returns><paramref name="endpoints"/>.</returns>
    /// <remarks>Unauthenticated: embedded mode only, bound to loopback (see <see cref="SchemaRegistryApiEndpoints"/>).</remarks>
    public static IEndpointRouteBuilder MapSchemaRegistryApi(this IEndpointRouteBuilder endpoints, InProcessSchemaRegistry registry, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(prefix);

        var trimmed = prefix.Trim('/');
        var prefixSegments = trimmed.Length == 0 ? 0 : trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
        var api = new SchemaRegistryApi(registry, prefixSegments);
        var group = endpoints.MapGroup(trimmed.Length == 0 ? string.Empty : "/" + trimmed);
        group.AddEndpointFilter(RegistryHttp.HandleErrorsAsync);
        group.ExcludeFromDescription();

        group.MapPost("/subjects/{subject}/versions", api.RegisterAsync);
        group.MapGet("/schemas/ids/{id:int}", api.GetByIdAsync);
        group.MapGet("/associations/resources/{resourceNamespace}/{resourceName}", SchemaRegistryApi.NoAssociations);

        if (trimmed.Length == 0)
        {
            foreach (var resource in RootResources)
            {
                group.MapFallback("/" + resource + "/{**path}", RegistryHttp.RouteNotFound);
            }
        }
        else
        {
            group.MapFallback("/{**path}", RegistryHttp.RouteNotFound);
        }

        return endpoints;
    }
}
