using Avro;
using Confluent.SchemaRegistry;
using Microsoft.AspNetCore.Http;
using Newtonsoft.Json.Linq;
using ConfluentSchema = Confluent.SchemaRegistry.Schema;

namespace GcpStreams.SchemaRegistry.Http;

/// <summary>The handlers of <see cref="SchemaRegistryApiEndpoints.MapSchemaRegistryApi"/>.</summary>
/// <param name="registry">The registry served.</param>
/// <param name="prefixSegments">How many path segments the API's prefix has (to read raw subjects).</param>
internal sealed class SchemaRegistryApi(InProcessSchemaRegistry registry, int prefixSegments)
{
    /// <summary>Confluent's default subject prefix: every subject of every context.</summary>
    private const string AllContexts = ":*:";

    private static readonly JArray SupportedTypes = ["AVRO"];

    #region Subjects

    /// <summary><c>GET /subjects</c>: every subject, sorted; <c>subjectPrefix</c> filters.</summary>
    public async Task<IResult> ListSubjectsAsync(HttpRequest request)
    {
        var prefix = RegistryHttp.Query(request, "subjectPrefix");
        var subjects = await registry.GetAllSubjectsAsync().ConfigureAwait(false);
        if (!string.IsNullOrEmpty(prefix) && prefix != AllContexts)
        {
            subjects = subjects.Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        }

        return RegistryHttp.Ok(new JArray(subjects));
    }

    /// <summary><c>GET /subjects/{subject}/versions</c>.</summary>
    public async Task<IResult> ListVersionsAsync(HttpRequest request)
    {
        var versions = await registry.GetSubjectVersionsAsync(Subject(request, 1)).ConfigureAwait(false);
        return RegistryHttp.Ok(new JArray(versions));
    }

    /// <summary><c>POST /subjects/{subject}/versions</c>: registers (or finds) a schema; <c>normalize</c>.</summary>
    public async Task<IResult> RegisterAsync(HttpRequest request)
    {
        var subject = Subject(request, 1);
        var schema = RegistryJson.ReadSchema(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));
        var registered = await registry
            .RegisterSchemaWithResponseAsync(subject, schema, RegistryHttp.QueryFlag(request, "normalize"))
            .ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.Registration(registered));
    }

    /// <summary><c>GET /subjects/{subject}/versions/{version}</c> (a number, -1 or "latest").</summary>
    public async Task<IResult> GetVersionAsync(HttpRequest request) =>
        RegistryHttp.Ok(RegistryJson.SubjectVersion(await VersionAsync(request).ConfigureAwait(false)));

    /// <summary><c>GET /subjects/{subject}/versions/{version}/schema</c>: the schema text alone.</summary>
    public async Task<IResult> GetVersionSchemaTextAsync(HttpRequest request) =>
        RegistryHttp.OkText((await VersionAsync(request).ConfigureAwait(false)).SchemaString);

    /// <summary><c>GET /subjects/{subject}/metadata?key=k&amp;value=v…</c>: the latest version with that metadata.</summary>
    public async Task<IResult> GetLatestWithMetadataAsync(HttpRequest request)
    {
        var keys = RegistryHttp.QueryList(request, "key") ?? [];
        var values = RegistryHttp.QueryList(request, "value") ?? [];
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in keys.Zip(values))
        {
            metadata[key] = value;
        }

        var registered = await registry
            .GetLatestWithMetadataAsync(Subject(request, 1), metadata, !RegistryHttp.QueryFlag(request, "deleted"))
            .ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.SubjectVersion(registered));
    }

    /// <summary><c>POST /subjects/{subject}</c>: the version and id of a schema under a subject (40403 if absent).</summary>
    public async Task<IResult> LookupAsync(HttpRequest request)
    {
        var subject = Subject(request, 1);
        var schema = RegistryJson.ReadSchema(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));
        var registered = await registry
            .LookupSchemaAsync(subject, schema, !RegistryHttp.QueryFlag(request, "deleted"), RegistryHttp.QueryFlag(request, "normalize"))
            .ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.SubjectVersion(registered));
    }

    private Task<RegisteredSchema> VersionAsync(HttpRequest request) =>
        registry.GetRegisteredSchemaAsync(Subject(request, 1), ParseVersion(request), !RegistryHttp.QueryFlag(request, "deleted"));

    #endregion

    #region Schemas

    /// <summary><c>GET /schemas/types</c>: the in-process registry stores Avro only.</summary>
    public static IResult SchemaTypes() => RegistryHttp.Ok(SupportedTypes);

    /// <summary><c>GET /schemas/ids/{id}</c>; <c>subject</c> and <c>format</c> change nothing here (one context, Avro).</summary>
    public async Task<IResult> GetByIdAsync(HttpRequest request, int id) =>
        RegistryHttp.Ok(RegistryJson.SchemaString(await ByIdAsync(request, id).ConfigureAwait(false)));

    /// <summary><c>GET /schemas/ids/{id}/schema</c>: the schema text alone.</summary>
    public async Task<IResult> GetSchemaTextByIdAsync(HttpRequest request, int id) =>
        RegistryHttp.OkText((await ByIdAsync(request, id).ConfigureAwait(false)).SchemaString);

    /// <summary><c>GET /schemas/ids/{id}/versions</c>: every <c>{subject, version}</c> holding the schema.</summary>
    public async Task<IResult> GetVersionsByIdAsync(HttpRequest request, int id)
    {
        var usages = await UsagesAsync(request, id).ConfigureAwait(false);
        return RegistryHttp.Ok(new JArray(usages.Select(u => new JObject { ["subject"] = u.Subject, ["version"] = u.Version })));
    }

    /// <summary><c>GET /schemas/ids/{id}/subjects</c>: every subject holding the schema.</summary>
    public async Task<IResult> GetSubjectsByIdAsync(HttpRequest request, int id)
    {
        var usages = await UsagesAsync(request, id).ConfigureAwait(false);
        return RegistryHttp.Ok(new JArray(usages.Select(u => u.Subject).Distinct(StringComparer.Ordinal)));
    }

    /// <summary><c>GET /schemas/guids/{guid}</c>.</summary>
    public async Task<IResult> GetByGuidAsync(HttpRequest request)
    {
        var guid = RegistryHttp.Segment(request, prefixSegments, 2, "guid");
        var schema = await registry.GetSchemaByGuidAsync(guid, RegistryHttp.Query(request, "format")).ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.SchemaString(schema));
    }

    private Task<ConfluentSchema> ByIdAsync(HttpRequest request, int id) =>
        registry.GetSchemaBySubjectAndIdAsync(RegistryHttp.Query(request, "subject"), id, RegistryHttp.Query(request, "format"));

    private async Task<List<(string Subject, int Version)>> UsagesAsync(HttpRequest request, int id)
    {
        await ByIdAsync(request, id).ConfigureAwait(false); // 40403 for an unknown id
        var usages = new List<(string, int)>();
        foreach (var subject in await registry.GetAllSubjectsAsync().ConfigureAwait(false))
        {
            foreach (var version in await registry.GetSubjectVersionsAsync(subject).ConfigureAwait(false))
            {
                var registered = await registry.GetRegisteredSchemaAsync(subject, version).ConfigureAwait(false);
                if (registered.Id == id)
                {
                    usages.Add((subject, version));
                }
            }
        }

        return usages;
    }

    #endregion

    #region Compatibility

    /// <summary>
    /// <c>POST /compatibility/subjects/{subject}/versions/{version}</c>: is the schema compatible with that version,
    /// in the direction(s) of the subject's level? <c>{"is_compatible": …}</c>, plus <c>messages</c> when
    /// <c>verbose=true</c> (an invalid schema is then reported as a message rather than a 422).
    /// </summary>
    /// <remarks>
    /// "latest" (or -1) is the registry's own check, true when the subject has no version yet. An earlier version
    /// is checked here against that version alone (as Confluent does, whatever TRANSITIVE says), with the Avro
    /// specification's rules (<see cref="AvroCompatibilityOptions.Specification"/>).
    /// </remarks>
    public async Task<IResult> TestCompatibilityAsync(HttpRequest request)
    {
        var subject = Subject(request, 2);
        var version = ParseVersion(request);
        var verbose = RegistryHttp.QueryFlag(request, "verbose");
        var schema = RegistryJson.ReadSchema(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));

        IReadOnlyList<string> messages;
        try
        {
            messages = await CompatibilityMessagesAsync(subject, version, schema).ConfigureAwait(false);
        }
        catch (SchemaRegistryException e) when (verbose && e.ErrorCode == SchemaRegistryErrorCodes.InvalidSchema)
        {
            messages = [RegistryHttp.MessageOf(e)];
        }

        var json = new JObject { ["is_compatible"] = messages.Count == 0 };
        if (verbose)
        {
            json["messages"] = new JArray(messages);
        }

        return RegistryHttp.Ok(json);
    }

    private async Task<IReadOnlyList<string>> CompatibilityMessagesAsync(string subject, int version, ConfluentSchema schema)
    {
        if (version == -1)
        {
            return await registry.TestCompatibilityVerboseAsync(subject, schema).ConfigureAwait(false);
        }

        var target = await registry.GetRegisteredSchemaAsync(subject, version).ConfigureAwait(false);

        // Validates the schema as a registration would (type, references, defaults: 42201), and is the answer
        // when the version asked for is the latest.
        var againstLatest = await registry.TestCompatibilityVerboseAsync(subject, schema).ConfigureAwait(false);
        var latest = await registry.GetLatestSchemaAsync(subject).ConfigureAwait(false);
        if (latest.Version == target.Version)
        {
            return againstLatest;
        }

        var level = registry.GetEffectiveCompatibility(subject);
        if (level == Compatibility.None)
        {
            return [];
        }

        var candidate = await ParseAsync(schema.SchemaString, schema.References).ConfigureAwait(false);
        var previous = await ParseAsync(target.SchemaString, target.References).ConfigureAwait(false);
        var name = AvroCompatibility.CompatibilityName(level);
        var number = RegistryJson.Text(target.Version);
        var backward = level is Compatibility.Backward or Compatibility.BackwardTransitive or Compatibility.Full or Compatibility.FullTransitive;
        var forward = level is Compatibility.Forward or Compatibility.ForwardTransitive or Compatibility.Full or Compatibility.FullTransitive;
        var found = new List<AvroIncompatibility>();
        if (backward)
        {
            var context = $"{name}: the new schema cannot read data written with version {number}";
            found.AddRange(AvroCompatibility.CanRead(candidate, previous).Incompatibilities.Select(i => i with { Context = context }));
        }

        if (forward)
        {
            var context = $"{name}: version {number} cannot read data written with the new schema";
            found.AddRange(AvroCompatibility.CanRead(previous, candidate).Incompatibilities.Select(i => i with { Context = context }));
        }

        return found.Distinct().Select(i => i.ToString()).ToList();
    }

    /// <summary>Parses an Avro schema with the named types of its references (resolved in the registry).</summary>
    private async Task<Avro.Schema> ParseAsync(string text, IEnumerable<SchemaReference>? references)
    {
        var names = new SchemaNames();
        var resolved = new HashSet<(string, int)>();
        foreach (var reference in references ?? [])
        {
            await AddNamesAsync(reference, names, resolved).ConfigureAwait(false);
        }

        return Avro.Schema.Parse(text, names);
    }

    private async Task AddNamesAsync(SchemaReference reference, SchemaNames names, HashSet<(string, int)> resolved)
    {
        var target = await registry.GetRegisteredSchemaAsync(reference.Subject, reference.Version).ConfigureAwait(false);
        if (!resolved.Add((target.Subject, target.Version)))
        {
            return;
        }

        foreach (var nested in target.References ?? [])
        {
            await AddNamesAsync(nested, names, resolved).ConfigureAwait(false);
        }

        Avro.Schema.Parse(target.SchemaString, names);
    }

    #endregion

    #region Config

    /// <summary><c>GET /config</c>: <c>{"compatibilityLevel": …}</c>.</summary>
    public async Task<IResult> GetGlobalConfigAsync(HttpRequest request) =>
        Level("compatibilityLevel", await registry.GetCompatibilityAsync().ConfigureAwait(false));

    /// <summary><c>PUT /config</c> <c>{"compatibility": …}</c>: echoes the level set.</summary>
    public async Task<IResult> UpdateGlobalConfigAsync(HttpRequest request)
    {
        var level = ReadLevel(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));
        var current = level is null
            ? await registry.GetCompatibilityAsync().ConfigureAwait(false)
            : await registry.UpdateCompatibilityAsync(level.Value).ConfigureAwait(false);
        return Level("compatibility", current);
    }

    /// <summary>
    /// <c>GET /config/{subject}</c>: the subject's own level (40408 when it has none), or with
    /// <c>defaultToGlobal=true</c> the level that applies to it.
    /// </summary>
    public async Task<IResult> GetSubjectConfigAsync(HttpRequest request)
    {
        var subject = Subject(request, 1);
        var level = RegistryHttp.QueryFlag(request, "defaultToGlobal")
            ? registry.GetEffectiveCompatibility(subject)
            : await registry.GetCompatibilityAsync(subject).ConfigureAwait(false);
        return Level("compatibilityLevel", level);
    }

    /// <summary><c>PUT /config/{subject}</c> <c>{"compatibility": …}</c>: echoes the level set.</summary>
    public async Task<IResult> UpdateSubjectConfigAsync(HttpRequest request)
    {
        var subject = Subject(request, 1);
        var effective = registry.GetEffectiveCompatibility(subject); // validates the subject name (42208)
        var level = ReadLevel(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));
        var current = level is null
            ? effective
            : await registry.UpdateCompatibilityAsync(level.Value, subject).ConfigureAwait(false);
        return Level("compatibility", current);
    }

    private static Compatibility? ReadLevel(JObject body)
    {
        var token = body["compatibility"];
        if (token is null || token.Type == JTokenType.Null)
        {
            return null; // nothing to change (Confluent's other config fields are not supported)
        }

        return RegistryJson.ParseCompatibility(token.Type == JTokenType.String ? token.Value<string>() : null)
               ?? throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidCompatibilityLevel,
                   "Invalid compatibility level. Valid values are none, backward, forward, full, "
                   + "backward_transitive, forward_transitive, and full_transitive");
    }

    private static IResult Level(string field, Compatibility level) =>
        RegistryHttp.Ok(new JObject { [field] = AvroCompatibility.CompatibilityName(level) });

    #endregion

    #region Associations

    /// <summary>
    /// <c>GET /associations/resources/{namespace}/{name}</c> (<c>resourceType</c>, default "topic";
    /// <c>associationType</c>, repeatable; <c>lifecycle</c>; <c>offset</c>; <c>limit</c>): a list, empty when
    /// nothing matches.
    /// </summary>
    public async Task<IResult> GetAssociationsByResourceNameAsync(HttpRequest request)
    {
        var resourceNamespace = RegistryHttp.Segment(request, prefixSegments, 2, "resourceNamespace");
        var resourceName = RegistryHttp.Segment(request, prefixSegments, 3, "resourceName");
        var resourceType = RegistryHttp.Query(request, "resourceType");
        var associations = await registry.GetAssociationsByResourceNameAsync(
                resourceName,
                resourceNamespace,
                string.IsNullOrEmpty(resourceType) ? "topic" : resourceType,
                RegistryHttp.QueryList(request, "associationType"),
                RegistryHttp.Query(request, "lifecycle"),
                RegistryHttp.QueryInt(request, "offset", 0),
                RegistryHttp.QueryInt(request, "limit", -1))
            .ConfigureAwait(false);
        return RegistryHttp.Ok(new JArray(associations.Select(RegistryJson.Contract)));
    }

    /// <summary><c>POST /associations</c>.</summary>
    public async Task<IResult> CreateAssociationAsync(HttpRequest request)
    {
        var body = RegistryJson.ReadAssociationRequest(await RegistryHttp.ReadObjectAsync(request).ConfigureAwait(false));
        var response = await registry.CreateAssociationAsync(body).ConfigureAwait(false);
        return RegistryHttp.Ok(RegistryJson.Contract(response));
    }

    /// <summary><c>DELETE /associations/resources/{resourceId}</c> (<c>resourceType</c>, <c>associationType</c>, <c>cascadeLifecycle</c>): 204.</summary>
    public async Task<IResult> DeleteAssociationsAsync(HttpRequest request)
    {
        await registry.DeleteAssociationsAsync(
                RegistryHttp.Segment(request, prefixSegments, 2, "resourceId"),
                RegistryHttp.Query(request, "resourceType"),
                RegistryHttp.QueryList(request, "associationType"),
                RegistryHttp.QueryFlag(request, "cascadeLifecycle"))
            .ConfigureAwait(false);
        return Results.NoContent();
    }

    #endregion

    private string Subject(HttpRequest request, int index) => RegistryHttp.Segment(request, prefixSegments, index, "subject");

    /// <summary>A version path segment: "latest" (any case) or -1 is the latest; otherwise a number &gt;= 1 (else 42202).</summary>
    private static int ParseVersion(HttpRequest request)
    {
        var text = (request.RouteValues["version"] as string ?? string.Empty).Trim();
        if (string.Equals(text, "latest", StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var version)
               && (version >= 1 || version == -1)
            ? version
            : throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidVersion,
                $"The specified version '{text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
    }
}
