using Microsoft.AspNetCore.Http;
using Newtonsoft.Json.Linq;

namespace GcpStreams.SchemaRegistry.Http;

/// <summary>The handlers of <see cref="SchemaRegistryApiEndpoints.MapSchemaRegistryApi"/>.</summary>
/// <param name="registry">The registry served.</param>
/// <param name="prefixSegments">How many path segments the API's prefix has (to read raw subjects).</param>
internal sealed class SchemaRegistryApi(InProcessSchemaRegistry registry, int prefixSegments)
{
    /// <summary><c>POST /subjects/{subject}/versions</c>: registers (or finds) a schema; <c>normalize</c>.</summary>
    public async Task<IResult> RegisterAsync(HttpRequest request)
    {
        var subject = RegistryHttp.Segment(request, prefixSegments, 1, "subject");
        var schema = RegistryJson.ReadSchema(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));
        var registered = await registry
            .RegisterSchemaWithResponseAsync(subject, schema, RegistryHttp.QueryFlag(request, "normalize"))
            .ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.Registration(registered));
    }

    /// <summary><c>GET /schemas/ids/{id}</c>; <c>subject</c> and <c>format</c> change nothing here (one context, Avro).</summary>
    public async Task<IResult> GetByIdAsync(HttpRequest request, int id)
    {
        var schema = await registry
            .GetSchemaBySubjectAndIdAsync(RegistryHttp.Query(request, "subject"), id, RegistryHttp.Query(request, "format"))
            .ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.SchemaString(schema));
    }

    /// <summary>
    /// <c>GET /associations/resources/{namespace}/{name}</c>: an empty list, as
    /// <see cref="InProcessSchemaRegistry.GetAssociationsByResourceNameAsync"/> (the registry has no associations).
    /// </summary>
    public static IResult NoAssociations() => RegistryHttp.Ok(new JArray());
}
