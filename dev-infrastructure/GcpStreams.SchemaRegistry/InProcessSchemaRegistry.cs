using System.Net;
using Avro;
using Confluent.SchemaRegistry;
using Newtonsoft.Json;
using ConfluentSchema = Confluent.SchemaRegistry.Schema;

namespace GcpStreams.SchemaRegistry;

/// <summary>
/// A thread-safe, in-memory schema registry with Confluent Schema Registry's semantics, used in embedded mode
/// (served over HTTP, see <see cref="Http.SchemaRegistryApiEndpoints"/>) and in tests.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Subjects have versions 1..n. Schema ids are global, assigned from 1 upward; the same schema (same
/// canonical text) gets the same id in every subject.</item>
/// <item>Registering a schema that a subject already has returns its existing version and id (no new
/// version, no compatibility check), as Confluent does.</item>
/// <item>A new version must be BACKWARD compatible (Confluent's default level) with the subject's latest
/// version, else the registration is refused with HTTP 409 / error code 40901.</item>
/// <item>Only plain AVRO schemas are accepted: JSON Schema and Protobuf, schema references, metadata and rule
/// sets are refused with 42201 (Confluent's Avro serializers send none of them). Field defaults are validated
/// like Confluent does.</item>
/// <item>Errors are <see cref="SchemaRegistryException"/>s with Confluent's error codes (see
/// <see cref="SchemaRegistryErrorCodes"/>), delivered through faulted tasks.</item>
/// <item>Canonical text: Apache.Avro's JSON form of the parsed schema (full names, no whitespace). That is the
/// text <see cref="GetSchemaBySubjectAndIdAsync"/> returns.</item>
/// </list>
/// <para>
/// It implements what Confluent's Avro serializers and deserializers (and the Streamiz SerDes on them) call:
/// registration (or lookup, without auto-registration), schemas by id, the latest version (UseLatestVersion) and
/// the association lookup of the default "Associated" subject name strategy (always none here), plus the subject
/// and version lists tests read. Every other <see cref="ISchemaRegistryClient"/> method throws
/// <see cref="NotSupportedException"/> (through a faulted task): GUIDs, metadata, compatibility levels and tests,
/// associations, the obsolete overloads.
/// </para>
/// </remarks>
public sealed class InProcessSchemaRegistry : ISchemaRegistryClient
{
    /// <summary>The cache size the serializers are told about (<see cref="MaxCachedSchemas"/>).</summary>
    public const int DefaultMaxCachedSchemas = 1000;

    private const Compatibility Level = Compatibility.Backward;

    private readonly Lock gate = new();
    private readonly List<StoredSchema> schemasById = []; // index = id - 1
    private readonly Dictionary<string, StoredSchema> schemasByCanonical = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<StoredSchema>> subjects = new(StringComparer.Ordinal); // index = version - 1

    /// <inheritdoc />
    /// <remarks>Empty: the in-process registry has no client configuration.</remarks>
    public IEnumerable<KeyValuePair<string, string>> Config => [];

    /// <inheritdoc />
    /// <remarks>Always null: nothing to authenticate in-process.</remarks>
    public IAuthenticationHeaderValueProvider? AuthHeaderProvider => null;

    /// <inheritdoc />
    /// <remarks>Always null: no HTTP in-process.</remarks>
    public IWebProxy? Proxy => null;

    /// <inheritdoc />
    public int MaxCachedSchemas => DefaultMaxCachedSchemas;

    /// <summary>Number of distinct schemas (ids) registered so far.</summary>
    public int SchemaCount
    {
        get
        {
            lock (gate)
            {
                return schemasById.Count;
            }
        }
    }

    #region What Confluent's serializers and deserializers call

    /// <inheritdoc />
    /// <remarks>
    /// The serializers' auto-registration (and <c>POST /subjects/{subject}/versions</c>). <paramref name="normalize"/>
    /// changes nothing: the schema is always stored in its canonical form.
    /// </remarks>
    public Task<RegisteredSchema> RegisterSchemaWithResponseAsync(string subject, ConfluentSchema schema, bool normalize = false) =>
        Complete(() => Register(subject, schema));

    /// <inheritdoc />
    /// <remarks>
    /// The serializers without auto-registration. Nothing is ever deleted here, so
    /// <paramref name="ignoreDeletedSchemas"/> changes nothing; nor does <paramref name="normalize"/>.
    /// </remarks>
    public Task<RegisteredSchema> LookupSchemaAsync(string subject, ConfluentSchema schema, bool ignoreDeletedSchemas, bool normalize = false) =>
        Complete(() => Lookup(subject, schema));

    /// <inheritdoc />
    /// <remarks>
    /// The deserializers (and <c>GET /schemas/ids/{id}</c>). The subject only selects a context in Confluent's
    /// registry; there is one (default) context here, so the schema is found by id alone. <paramref name="format"/>
    /// is ignored: Avro schemas are returned in their canonical form.
    /// </remarks>
    public Task<ConfluentSchema> GetSchemaBySubjectAndIdAsync(string? subject, int id, string? format = null) =>
        Complete(() => ById(id).Served);

    /// <inheritdoc />
    /// <remarks>The serializers and deserializers with <c>UseLatestVersion</c>.</remarks>
    public Task<RegisteredSchema> GetLatestSchemaAsync(string subject) =>
        Complete(() =>
        {
            ValidateSubject(subject);
            lock (gate)
            {
                var versions = VersionsOf(subject);
                return ToRegistered(subject, versions.Count, versions[^1]);
            }
        });

    /// <inheritdoc />
    /// <remarks>
    /// Asked first by the "Associated" subject name strategy (the default of Confluent's 2.16 serializers and
    /// deserializers): there are no associations here, so the answer is always empty and they fall back to the
    /// Topic strategy (<c>{topic}-key</c> / <c>{topic}-value</c>).
    /// </remarks>
    public Task<List<Association>> GetAssociationsByResourceNameAsync(
        string resourceName,
        string? resourceNamespace,
        string? resourceType,
        List<string>? associationTypes,
        string? lifecycle,
        int offset,
        int limit) =>
        Task.FromResult(new List<Association>());

    #endregion

    #region Reads for tests

    /// <inheritdoc />
    public Task<List<string>> GetAllSubjectsAsync() =>
        Complete(() =>
        {
            lock (gate)
            {
                return subjects.Keys.Order(StringComparer.Ordinal).ToList();
            }
        });

    /// <inheritdoc />
    public Task<List<int>> GetSubjectVersionsAsync(string subject) =>
        Complete(() =>
        {
            ValidateSubject(subject);
            lock (gate)
            {
                return Enumerable.Range(1, VersionsOf(subject).Count).ToList();
            }
        });

    #endregion

    #region Not supported

    /// <inheritdoc />
    /// <remarks>Not supported (obsolete; nothing calls it).</remarks>
    [Obsolete("Superseded by RegisterSchemaAsync(string, Schema, bool)")]
    public Task<int> RegisterSchemaAsync(string subject, string avroSchema, bool normalize = false) => Unsupported<int>();

    /// <inheritdoc />
    /// <remarks>Not supported: Confluent's serializers call <see cref="RegisterSchemaWithResponseAsync"/>.</remarks>
    public Task<int> RegisterSchemaAsync(string subject, ConfluentSchema schema, bool normalize = false) => Unsupported<int>();

    /// <inheritdoc />
    /// <remarks>Not supported (obsolete; nothing calls it).</remarks>
    [Obsolete("Superseded by GetSchemaIdAsync(string, Schema, bool)")]
    public Task<int> GetSchemaIdAsync(string subject, string avroSchema, bool normalize = false) => Unsupported<int>();

    /// <inheritdoc />
    /// <remarks>Not supported: Confluent's serializers call <see cref="LookupSchemaAsync"/>.</remarks>
    public Task<int> GetSchemaIdAsync(string subject, ConfluentSchema schema, bool normalize = false) => Unsupported<int>();

    /// <inheritdoc />
    /// <remarks>Not supported: Confluent's deserializers call <see cref="GetSchemaBySubjectAndIdAsync"/>.</remarks>
    public Task<ConfluentSchema> GetSchemaAsync(int id, string? format = null) => Unsupported<ConfluentSchema>();

    /// <inheritdoc />
    /// <remarks>Not supported: schemas have no GUIDs here (Confluent's serializers write the id by default).</remarks>
    public Task<ConfluentSchema> GetSchemaByGuidAsync(string guid, string? format = null) => Unsupported<ConfluentSchema>();

    /// <inheritdoc />
    /// <remarks>Not supported: the deserializers ask for it only to resolve references and migration rules, which are refused here.</remarks>
    public Task<RegisteredSchema> GetRegisteredSchemaAsync(string subject, int version, bool ignoreDeletedSchemas = true) =>
        Unsupported<RegisteredSchema>();

    /// <inheritdoc />
    /// <remarks>Not supported (obsolete; nothing calls it).</remarks>
    [Obsolete("Superseded by GetRegisteredSchemaAsync(string subject, int version). This method will be removed in a future release.")]
    public Task<string> GetSchemaAsync(string subject, int version) => Unsupported<string>();

    /// <inheritdoc />
    /// <remarks>Not supported: metadata is refused here.</remarks>
    public Task<RegisteredSchema> GetLatestWithMetadataAsync(string subject, IDictionary<string, string> metadata, bool ignoreDeletedSchemas) =>
        Unsupported<RegisteredSchema>();

    /// <inheritdoc />
    /// <remarks>Not supported (obsolete; nothing calls it).</remarks>
    [Obsolete("Superseded by IsCompatibleAsync(string, Schema)")]
    public Task<bool> IsCompatibleAsync(string subject, string avroSchema) => Unsupported<bool>();

    /// <inheritdoc />
    /// <remarks>Not supported: registration checks compatibility itself (409 / 40901).</remarks>
    public Task<bool> IsCompatibleAsync(string subject, ConfluentSchema schema) => Unsupported<bool>();

    /// <inheritdoc />
    /// <remarks>Not supported: the level is BACKWARD, Confluent's default.</remarks>
    public Task<Compatibility> GetCompatibilityAsync(string? subject = null) => Unsupported<Compatibility>();

    /// <inheritdoc />
    /// <remarks>Not supported: the level is BACKWARD, Confluent's default.</remarks>
    public Task<Compatibility> UpdateCompatibilityAsync(Compatibility compatibility, string? subject = null) => Unsupported<Compatibility>();

    /// <inheritdoc />
    /// <remarks>Not supported: there are no associations here.</remarks>
    public Task<AssociationResponse> CreateAssociationAsync(AssociationCreateOrUpdateRequest request) => Unsupported<AssociationResponse>();

    /// <inheritdoc />
    /// <remarks>Not supported: there are no associations here.</remarks>
    public Task DeleteAssociationsAsync(string resourceId, string? resourceType, List<string>? associationTypes, bool cascadeLifecycle) =>
        Unsupported<bool>();

    /// <inheritdoc />
    /// <remarks>Not supported (obsolete: subject name strategies are set in the serializer configuration).</remarks>
    [Obsolete("SubjectNameStrategy should now be specified via serializer configuration. This method will be removed in a future release.")]
    public string ConstructKeySubjectName(string topic, string? recordType = null) => throw NotSupported();

    /// <inheritdoc />
    /// <remarks>Not supported (obsolete: subject name strategies are set in the serializer configuration).</remarks>
    [Obsolete("SubjectNameStrategy should now be specified via serializer configuration. This method will be removed in a future release.")]
    public string ConstructValueSubjectName(string topic, string? recordType = null) => throw NotSupported();

    #endregion

    #region Client plumbing

    /// <inheritdoc />
    /// <remarks>Nothing to do: there is no cache in front of the in-process store.</remarks>
    public void ClearLatestCaches()
    {
    }

    /// <inheritdoc />
    /// <remarks>Nothing to do: there is no cache in front of the in-process store.</remarks>
    public void ClearCaches()
    {
    }

    /// <inheritdoc />
    /// <remarks>Nothing to release; the registry stays usable.</remarks>
    public void Dispose()
    {
    }

    #endregion

    #region Registration and lookup

    private RegisteredSchema Register(string subject, ConfluentSchema schema)
    {
        ValidateSubject(subject);
        ArgumentNullException.ThrowIfNull(schema);
        var candidate = Prepare(schema);
        lock (gate)
        {
            subjects.TryGetValue(subject, out var versions);
            var existing = versions?.FindIndex(v => v.Canonical == candidate.Canonical) ?? -1;
            if (existing >= 0)
            {
                return ToRegistered(subject, existing + 1, versions![existing]);
            }

            if (versions is { Count: > 0 })
            {
                var result = AvroCompatibility.CheckEvolution(Level, candidate.Parsed, versions.Select(v => v.Parsed).ToList());
                if (!result.IsCompatible)
                {
                    throw SchemaRegistryErrors.Incompatible(subject, Level, result.Messages);
                }
            }

            var stored = GetOrAddSchema(candidate);
            if (versions is null)
            {
                versions = [];
                subjects.Add(subject, versions);
            }

            versions.Add(stored);
            return ToRegistered(subject, versions.Count, stored);
        }
    }

    private RegisteredSchema Lookup(string subject, ConfluentSchema schema)
    {
        ValidateSubject(subject);
        ArgumentNullException.ThrowIfNull(schema);
        lock (gate)
        {
            var versions = VersionsOf(subject);
            var candidate = Prepare(schema);
            var index = versions.FindIndex(v => v.Canonical == candidate.Canonical);
            return index >= 0
                ? ToRegistered(subject, index + 1, versions[index])
                : throw SchemaRegistryErrors.SchemaNotFound();
        }
    }

    private StoredSchema GetOrAddSchema(Candidate candidate)
    {
        if (schemasByCanonical.TryGetValue(candidate.Canonical, out var known))
        {
            return known;
        }

        var stored = new StoredSchema(
            schemasById.Count + 1,
            candidate.Canonical,
            candidate.Parsed,
            new ConfluentSchema(candidate.Canonical, [], SchemaType.Avro));
        schemasById.Add(stored);
        schemasByCanonical.Add(stored.Canonical, stored);
        return stored;
    }

    private StoredSchema ById(int id)
    {
        lock (gate)
        {
            return id >= 1 && id <= schemasById.Count
                ? schemasById[id - 1]
                : throw SchemaRegistryErrors.SchemaNotFound(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private List<StoredSchema> VersionsOf(string subject) =>
        subjects.TryGetValue(subject, out var versions) ? versions : throw SchemaRegistryErrors.SubjectNotFound(subject);

    #endregion

    #region Parsing

    private static Candidate Prepare(ConfluentSchema schema)
    {
        if (schema.SchemaType != SchemaType.Avro)
        {
            throw SchemaRegistryErrors.InvalidSchema(
                $"schema type {schema.SchemaType} is not supported by the in-process schema registry (AVRO only)");
        }

        if (schema.References is { Count: > 0 } || schema.Metadata is not null || schema.RuleSet is not null)
        {
            throw SchemaRegistryErrors.InvalidSchema(
                "schema references, metadata and rule sets are not supported by the in-process schema registry");
        }

        if (string.IsNullOrWhiteSpace(schema.SchemaString))
        {
            throw SchemaRegistryErrors.InvalidSchema("the schema text is empty");
        }

        Avro.Schema parsed;
        try
        {
            parsed = Avro.Schema.Parse(schema.SchemaString)
                     ?? throw SchemaRegistryErrors.InvalidSchema("the schema does not define a known Avro type");
        }
        catch (Exception e) when (e is AvroException or JsonException or ArgumentException or FormatException or InvalidOperationException)
        {
            throw SchemaRegistryErrors.InvalidSchema(e.Message);
        }

        var invalidDefaults = AvroDefaultValidator.InvalidDefaults(parsed);
        if (invalidDefaults.Count > 0)
        {
            throw SchemaRegistryErrors.InvalidSchema("invalid default value: " + string.Join("; ", invalidDefaults));
        }

        return new Candidate(parsed.ToString(), parsed);
    }

    private static void ValidateSubject(string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Any(char.IsControl))
        {
            throw SchemaRegistryErrors.InvalidSubject(subject);
        }
    }

    #endregion

    private static RegisteredSchema ToRegistered(string subject, int version, StoredSchema stored) =>
        new(subject, version, stored.Id, stored.Canonical, SchemaType.Avro, []);

    private static Task<T> Complete<T>(Func<T> operation)
    {
        try
        {
            return Task.FromResult(operation());
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    private static Task<T> Unsupported<T>() => Task.FromException<T>(NotSupported());

    private static NotSupportedException NotSupported() =>
        new("The in-process schema registry implements only what Confluent's Avro serializers and deserializers call.");

    private sealed record Candidate(string Canonical, Avro.Schema Parsed);

    /// <param name="Served">
    /// The schema served by id: one instance per id, as Confluent's cached client returns, so the deserializers'
    /// parsed-schema caches hit on every record.
    /// </param>
    private sealed record StoredSchema(int Id, string Canonical, Avro.Schema Parsed, ConfluentSchema Served);
}
