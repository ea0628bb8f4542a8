using System.Net;
using System.Security.Cryptography;
using System.Text;
using Avro;
using Confluent.SchemaRegistry;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using ConfluentSchema = Confluent.SchemaRegistry.Schema;

namespace GcpStreams.SchemaRegistry;

/// <summary>
/// A thread-safe, in-memory schema registry with Confluent Schema Registry's semantics, used in embedded mode
/// and in tests (and meant to be served over HTTP with the Confluent REST subset).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Subjects have versions 1..n. Schema ids are global, assigned from 1 upward; the same schema (same
/// canonical text, references, metadata and rule set) gets the same id in every subject, and a GUID derived
/// from its content.</item>
/// <item>Registering a schema that a subject already has returns its existing version and id (no new
/// version, no compatibility check), as Confluent does.</item>
/// <item>A new version must be compatible with the subject's earlier versions under the subject's
/// compatibility level, else the registration is refused with HTTP 409 / error code 40901. The global default
/// is BACKWARD.</item>
/// <item>Only AVRO schemas are accepted (JSON Schema and Protobuf are refused with 42201). Avro references
/// to other subjects' versions are supported. Field defaults are validated like Confluent does.</item>
/// <item>Errors are <see cref="SchemaRegistryException"/>s with Confluent's error codes (see
/// <see cref="SchemaRegistryErrorCodes"/>), delivered through faulted tasks.</item>
/// <item>Canonical text: Apache.Avro's JSON form of the parsed schema (full names, no whitespace); for a
/// schema with references, its compact JSON text. That is the text <c>GetSchemaAsync</c> returns.</item>
/// </list>
/// </remarks>
public sealed partial class InProcessSchemaRegistry : ISchemaRegistryClient
{
    /// <summary>The cache size the serializers are told about (<see cref="MaxCachedSchemas"/>).</summary>
    public const int DefaultMaxCachedSchemas = 1000;

    private readonly Lock gate = new();
    private readonly List<StoredSchema> schemasById = []; // index = id - 1
    private readonly Dictionary<SchemaIdentity, StoredSchema> schemasByIdentity = [];
    private readonly Dictionary<Guid, StoredSchema> schemasByGuid = [];
    private readonly Dictionary<string, List<StoredSchema>> subjects = new(StringComparer.Ordinal); // index = version - 1
    private readonly Dictionary<string, Compatibility> subjectCompatibility = new(StringComparer.Ordinal);
    private readonly AvroCompatibilityOptions compatibilityOptions;
    private Compatibility globalCompatibility;

    /// <summary>Creates an empty registry.</summary>
    /// <param name="defaultCompatibility">The global compatibility level (Confluent's default: BACKWARD).</param>
    /// <param name="compatibilityOptions">
    /// Rules of the compatibility checks; <see cref="AvroCompatibilityOptions.Specification"/> (Confluent's) by
    /// default, <see cref="AvroCompatibilityOptions.ApacheAvroDotNet"/> to also refuse what .NET readers cannot read.
    /// </param>
    public InProcessSchemaRegistry(
        Compatibility defaultCompatibility = Compatibility.Backward,
        AvroCompatibilityOptions? compatibilityOptions = null)
    {
        if (!Enum.IsDefined(defaultCompatibility))
        {
            throw new ArgumentOutOfRangeException(nameof(defaultCompatibility), defaultCompatibility, "Unknown compatibility level.");
        }

        globalCompatibility = defaultCompatibility;
        this.compatibilityOptions = compatibilityOptions ?? AvroCompatibilityOptions.Specification;
    }

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

    #region Registration and lookup

    /// <inheritdoc />
    [Obsolete("Superseded by RegisterSchemaAsync(string, Schema, bool)")]
    public Task<int> RegisterSchemaAsync(string subject, string avroSchema, bool normalize = false) =>
        Complete(() => Register(subject, AvroSchema(avroSchema), normalize).Id);

    /// <inheritdoc />
    public Task<int> RegisterSchemaAsync(string subject, ConfluentSchema schema, bool normalize = false) =>
        Complete(() => Register(subject, schema, normalize).Id);

    /// <inheritdoc />
    public Task<RegisteredSchema> RegisterSchemaWithResponseAsync(string subject, ConfluentSchema schema, bool normalize = false) =>
        Complete(() => Register(subject, schema, normalize));

    /// <inheritdoc />
    [Obsolete("Superseded by GetSchemaIdAsync(string, Schema, bool)")]
    public Task<int> GetSchemaIdAsync(string subject, string avroSchema, bool normalize = false) =>
        Complete(() => Lookup(subject, AvroSchema(avroSchema), normalize).Id);

    /// <inheritdoc />
    public Task<int> GetSchemaIdAsync(string subject, ConfluentSchema schema, bool normalize = false) =>
        Complete(() => Lookup(subject, schema, normalize).Id);

    /// <inheritdoc />
    /// <remarks>Nothing is ever deleted here, so <paramref name="ignoreDeletedSchemas"/> changes nothing.</remarks>
    public Task<RegisteredSchema> LookupSchemaAsync(string subject, ConfluentSchema schema, bool ignoreDeletedSchemas, bool normalize = false) =>
        Complete(() => Lookup(subject, schema, normalize));

    private RegisteredSchema Register(string subject, ConfluentSchema schema, bool normalize)
    {
        ValidateSubject(subject);
        ArgumentNullException.ThrowIfNull(schema);
        lock (gate)
        {
            var candidate = Prepare(schema, normalize);
            subjects.TryGetValue(subject, out var versions);
            var existing = versions?.FindIndex(v => v.Identity.Equals(candidate.Identity)) ?? -1;
            if (existing >= 0)
            {
                return ToRegistered(subject, existing + 1, versions![existing]);
            }

            var level = EffectiveCompatibility(subject);
            if (versions is { Count: > 0 })
            {
                var result = AvroCompatibility.CheckEvolution(
                    level, candidate.Parsed, versions.Select(v => v.Parsed).ToList(), compatibilityOptions);
                if (!result.IsCompatible)
                {
                    throw SchemaRegistryErrors.Incompatible(subject, level, result.Messages);
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

    private RegisteredSchema Lookup(string subject, ConfluentSchema schema, bool normalize)
    {
        ValidateSubject(subject);
        ArgumentNullException.ThrowIfNull(schema);
        lock (gate)
        {
            if (!subjects.TryGetValue(subject, out var versions))
            {
                throw SchemaRegistryErrors.SubjectNotFound(subject);
            }

            var candidate = Prepare(schema, normalize);
            var index = versions.FindIndex(v => v.Identity.Equals(candidate.Identity));
            return index >= 0
                ? ToRegistered(subject, index + 1, versions[index])
                : throw SchemaRegistryErrors.SchemaNotFound();
        }
    }

    private StoredSchema GetOrAddSchema(Candidate candidate)
    {
        if (schemasByIdentity.TryGetValue(candidate.Identity, out var known))
        {
            return known;
        }

        var stored = new StoredSchema(
            schemasById.Count + 1,
            ContentGuid(candidate.Identity),
            candidate.Identity,
            candidate.References,
            candidate.Parsed,
            ToSchema(candidate.Identity, candidate.References));
        schemasById.Add(stored);
        schemasByIdentity.Add(stored.Identity, stored);
        schemasByGuid.TryAdd(stored.Guid, stored);
        return stored;
    }

    #endregion

    #region Reads

    /// <inheritdoc />
    /// <remarks><paramref name="format"/> is ignored: Avro schemas are returned in their canonical form.</remarks>
    public Task<ConfluentSchema> GetSchemaAsync(int id, string? format = null) =>
        Complete(() => ToSchema(ById(id)));

    /// <inheritdoc />
    /// <remarks>
    /// The subject only selects a context in Confluent's registry; there is one (default) context here, so the
    /// schema is found by id alone.
    /// </remarks>
    public Task<ConfluentSchema> GetSchemaBySubjectAndIdAsync(string? subject, int id, string? format = null) =>
        Complete(() => ToSchema(ById(id)));

    /// <inheritdoc />
    public Task<ConfluentSchema> GetSchemaByGuidAsync(string guid, string? format = null) =>
        Complete(() =>
        {
            lock (gate)
            {
                return Guid.TryParse(guid, out var parsed) && schemasByGuid.TryGetValue(parsed, out var stored)
                    ? ToSchema(stored)
                    : throw SchemaRegistryErrors.SchemaNotFound(guid ?? "(null)");
            }
        });

    /// <inheritdoc />
    /// <remarks><paramref name="version"/> -1 means the latest version, as in Confluent's REST API.</remarks>
    public Task<RegisteredSchema> GetRegisteredSchemaAsync(string subject, int version, bool ignoreDeletedSchemas = true) =>
        Complete(() => ByVersion(subject, version));

    /// <inheritdoc />
    [Obsolete("Superseded by GetRegisteredSchemaAsync(string subject, int version). This method will be removed in a future release.")]
    public Task<string> GetSchemaAsync(string subject, int version) =>
        Complete(() => ByVersion(subject, version).SchemaString);

    /// <inheritdoc />
    public Task<RegisteredSchema> GetLatestSchemaAsync(string subject) =>
        Complete(() => ByVersion(subject, -1));

    /// <inheritdoc />
    /// <remarks>The latest version whose metadata properties contain every given key and value.</remarks>
    public Task<RegisteredSchema> GetLatestWithMetadataAsync(string subject, IDictionary<string, string> metadata, bool ignoreDeletedSchemas) =>
        Complete(() =>
        {
            ValidateSubject(subject);
            ArgumentNullException.ThrowIfNull(metadata);
            lock (gate)
            {
                var versions = VersionsOf(subject);
                for (var i = versions.Count - 1; i >= 0; i--)
                {
                    var properties = versions[i].Identity.Metadata?.Properties;
                    if (metadata.All(kv => properties is not null
                                           && properties.TryGetValue(kv.Key, out var value)
                                           && string.Equals(value, kv.Value, StringComparison.Ordinal)))
                    {
                        return ToRegistered(subject, i + 1, versions[i]);
                    }
                }

                throw SchemaRegistryErrors.SchemaNotFound();
            }
        });

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

    private StoredSchema ById(int id)
    {
        lock (gate)
        {
            return id >= 1 && id <= schemasById.Count
                ? schemasById[id - 1]
                : throw SchemaRegistryErrors.SchemaNotFound(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private RegisteredSchema ByVersion(string subject, int version)
    {
        ValidateSubject(subject);
        if (version == 0 || version < -1)
        {
            throw SchemaRegistryErrors.InvalidVersion(version);
        }

        lock (gate)
        {
            var versions = VersionsOf(subject);
            if (version == -1)
            {
                return ToRegistered(subject, versions.Count, versions[^1]);
            }

            return version <= versions.Count
                ? ToRegistered(subject, version, versions[version - 1])
                : throw SchemaRegistryErrors.VersionNotFound(version);
        }
    }

    private List<StoredSchema> VersionsOf(string subject) =>
        subjects.TryGetValue(subject, out var versions) ? versions : throw SchemaRegistryErrors.SubjectNotFound(subject);

    #endregion

    #region Compatibility

    /// <inheritdoc />
    /// <remarks>
    /// As Confluent's <c>POST /compatibility/subjects/{subject}/versions/latest</c>: checked against the latest
    /// version only, in the direction(s) of the subject's level; true when the subject has no version yet.
    /// </remarks>
    [Obsolete("Superseded by IsCompatibleAsync(string, Schema)")]
    public Task<bool> IsCompatibleAsync(string subject, string avroSchema) =>
        Complete(() => IsCompatible(subject, AvroSchema(avroSchema)));

    /// <inheritdoc />
    /// <remarks>
    /// As Confluent's <c>POST /compatibility/subjects/{subject}/versions/latest</c>: checked against the latest
    /// version only, in the direction(s) of the subject's level; true when the subject has no version yet.
    /// </remarks>
    public Task<bool> IsCompatibleAsync(string subject, ConfluentSchema schema) =>
        Complete(() => IsCompatible(subject, schema));

    /// <summary>
    /// Like <see cref="IsCompatibleAsync(string, ConfluentSchema)"/>, with the reasons (Confluent's
    /// <c>verbose=true</c>): empty when compatible.
    /// </summary>
    public Task<IReadOnlyList<string>> TestCompatibilityVerboseAsync(string subject, ConfluentSchema schema) =>
        Complete(() => CompatibilityMessages(subject, schema));

    /// <summary>The level that applies to a subject: its own, else the global one.</summary>
    public Compatibility GetEffectiveCompatibility(string subject)
    {
        ValidateSubject(subject);
        lock (gate)
        {
            return EffectiveCompatibility(subject);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Without subject: the global level. With a subject: its own level, or error 40408 when it has none
    /// (Confluent's <c>GET /config/{subject}</c>); see <see cref="GetEffectiveCompatibility"/>.
    /// </remarks>
    public Task<Compatibility> GetCompatibilityAsync(string? subject = null) =>
        Complete(() =>
        {
            lock (gate)
            {
                if (string.IsNullOrEmpty(subject))
                {
                    return globalCompatibility;
                }

                return subjectCompatibility.TryGetValue(subject, out var level)
                    ? level
                    : throw SchemaRegistryErrors.SubjectCompatibilityNotConfigured(subject);
            }
        });

    /// <inheritdoc />
    /// <remarks>Without subject: sets the global level. A subject needs no version to be configured.</remarks>
    public Task<Compatibility> UpdateCompatibilityAsync(Compatibility compatibility, string? subject = null) =>
        Complete(() =>
        {
            if (!Enum.IsDefined(compatibility))
            {
                throw SchemaRegistryErrors.InvalidCompatibilityLevel(compatibility);
            }

            lock (gate)
            {
                if (string.IsNullOrEmpty(subject))
                {
                    globalCompatibility = compatibility;
                }
                else
                {
                    subjectCompatibility[subject] = compatibility;
                }

                return compatibility;
            }
        });

    private bool IsCompatible(string subject, ConfluentSchema schema) => CompatibilityMessages(subject, schema).Count == 0;

    private IReadOnlyList<string> CompatibilityMessages(string subject, ConfluentSchema schema)
    {
        ValidateSubject(subject);
        ArgumentNullException.ThrowIfNull(schema);
        lock (gate)
        {
            var candidate = Prepare(schema, normalize: false);
            if (!subjects.TryGetValue(subject, out var versions) || versions.Count == 0)
            {
                return [];
            }

            var level = EffectiveCompatibility(subject);
            return AvroCompatibility.CheckEvolution(level, candidate.Parsed, [versions[^1].Parsed], compatibilityOptions).Messages;
        }
    }

    private Compatibility EffectiveCompatibility(string subject) =>
        subjectCompatibility.TryGetValue(subject, out var level) ? level : globalCompatibility;

    #endregion

    #region Client plumbing

    /// <inheritdoc />
    /// <remarks>Confluent's default Topic strategy: <c>{topic}-key</c>.</remarks>
    [Obsolete("SubjectNameStrategy should now be specified via serializer configuration. This method will be removed in a future release.")]
    public string ConstructKeySubjectName(string topic, string? recordType = null) => $"{topic}-key";

    /// <inheritdoc />
    /// <remarks>Confluent's default Topic strategy: <c>{topic}-value</c>.</remarks>
    [Obsolete("SubjectNameStrategy should now be specified via serializer configuration. This method will be removed in a future release.")]
    public string ConstructValueSubjectName(string topic, string? recordType = null) => $"{topic}-value";

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

    #region Parsing and identity

    private Candidate Prepare(ConfluentSchema schema, bool normalize)
    {
        if (schema.SchemaType != SchemaType.Avro)
        {
            throw SchemaRegistryErrors.InvalidSchema(
                $"schema type {schema.SchemaType} is not supported by the in-process schema registry (AVRO only)");
        }

        if (string.IsNullOrWhiteSpace(schema.SchemaString))
        {
            throw SchemaRegistryErrors.InvalidSchema("the schema text is empty");
        }

        IEnumerable<SchemaReference> references = schema.References ?? [];
        if (normalize)
        {
            references = references.Distinct().Order();
        }

        var referenceList = references.ToList();
        Avro.Schema parsed;
        string canonical;
        try
        {
            var names = new SchemaNames();
            var resolved = new HashSet<(string, int)>();
            foreach (var reference in referenceList)
            {
                AddReferencedNames(reference, names, resolved);
            }

            parsed = Avro.Schema.Parse(schema.SchemaString, names)
                     ?? throw SchemaRegistryErrors.InvalidSchema("the schema does not define a known Avro type");
            canonical = referenceList.Count == 0
                ? parsed.ToString()
                : JToken.Parse(schema.SchemaString).ToString(Formatting.None);
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

        var identity = new SchemaIdentity(
            SchemaType.Avro,
            canonical,
            string.Join("\n", referenceList.Select(r => $"{r.Name}|{r.Subject}|{r.Version}")),
            schema.Metadata,
            schema.RuleSet);
        return new Candidate(identity, referenceList, parsed);
    }

    private void AddReferencedNames(SchemaReference reference, SchemaNames names, HashSet<(string, int)> resolved)
    {
        if (reference is null || string.IsNullOrEmpty(reference.Subject))
        {
            throw SchemaRegistryErrors.InvalidSchema("a schema reference has no subject");
        }

        if (!subjects.TryGetValue(reference.Subject, out var versions)
            || reference.Version == 0 || reference.Version < -1 || reference.Version > versions.Count)
        {
            throw SchemaRegistryErrors.InvalidSchema(
                $"reference '{reference.Name}' to subject '{reference.Subject}' version {reference.Version} does not exist");
        }

        var version = reference.Version == -1 ? versions.Count : reference.Version;
        if (!resolved.Add((reference.Subject, version)))
        {
            return;
        }

        var target = versions[version - 1];
        foreach (var nested in target.References)
        {
            AddReferencedNames(nested, names, resolved);
        }

        Avro.Schema.Parse(target.Identity.Canonical, names);
    }

    private static Guid ContentGuid(SchemaIdentity identity)
    {
        var text = string.Join(
            "\u0000",
            identity.Type.ToString(),
            identity.Canonical,
            identity.References,
            identity.Metadata is null ? string.Empty : JsonConvert.SerializeObject(identity.Metadata),
            identity.RuleSet is null ? string.Empty : JsonConvert.SerializeObject(identity.RuleSet));
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8: application-defined (content hash)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true);
    }

    private static ConfluentSchema AvroSchema(string avroSchema) => new(avroSchema, [], SchemaType.Avro);

    private static void ValidateSubject(string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Any(char.IsControl))
        {
            throw SchemaRegistryErrors.InvalidSubject(subject);
        }
    }

    /// <summary>
    /// The schema served by id or GUID: one instance per id, as Confluent's cached client returns, so the
    /// deserializers' parsed-schema caches hit on every record.
    /// </summary>
    private static ConfluentSchema ToSchema(StoredSchema stored) => stored.Served;

    private static ConfluentSchema ToSchema(SchemaIdentity identity, List<SchemaReference> references) =>
        new(identity.Canonical, [.. references], identity.Type, identity.Metadata, identity.RuleSet);

    private static RegisteredSchema ToRegistered(string subject, int version, StoredSchema stored) =>
        new(subject, version, stored.Id, stored.Guid.ToString("D"), stored.Identity.Canonical, stored.Identity.Type, [.. stored.References])
        {
            Metadata = stored.Identity.Metadata,
            RuleSet = stored.Identity.RuleSet,
        };

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

    /// <summary>What makes two registrations the same schema (and so the same id).</summary>
    /// <remarks>
    /// Rule sets are compared by content: Confluent's <see cref="RuleSet.Equals(RuleSet)"/> compares its rule
    /// lists by reference, so two equal rule sets read from two requests would otherwise make two schemas.
    /// A missing rule list and an empty one are the same.
    /// </remarks>
    private sealed record SchemaIdentity(SchemaType Type, string Canonical, string References, Metadata? Metadata, RuleSet? RuleSet)
    {
        public bool Equals(SchemaIdentity? other) =>
            other is not null
            && Type == other.Type
            && string.Equals(Canonical, other.Canonical, StringComparison.Ordinal)
            && string.Equals(References, other.References, StringComparison.Ordinal)
            && Equals(Metadata, other.Metadata)
            && SameRuleSet(RuleSet, other.RuleSet);

        public override int GetHashCode() =>
            HashCode.Combine(Type, StringComparer.Ordinal.GetHashCode(Canonical), StringComparer.Ordinal.GetHashCode(References), Metadata, RuleSetHash(RuleSet));

        private static bool SameRuleSet(RuleSet? x, RuleSet? y) =>
            ReferenceEquals(x, y)
            || (x is not null && y is not null
                && SameRules(x.MigrationRules, y.MigrationRules)
                && SameRules(x.DomainRules, y.DomainRules)
                && SameRules(x.EncodingRules, y.EncodingRules)
                && string.Equals(x.EnableAt, y.EnableAt, StringComparison.Ordinal));

        private static bool SameRules(IList<Rule>? x, IList<Rule>? y) => (x ?? []).SequenceEqual(y ?? []);

        private static int RuleSetHash(RuleSet? ruleSet)
        {
            if (ruleSet is null)
            {
                return 0;
            }

            var hash = new HashCode();
            foreach (var rules in new[] { ruleSet.MigrationRules, ruleSet.DomainRules, ruleSet.EncodingRules })
            {
                hash.Add(rules?.Count ?? 0);
                foreach (var rule in rules ?? [])
                {
                    hash.Add(rule);
                }
            }

            hash.Add(ruleSet.EnableAt, StringComparer.Ordinal);
            return hash.ToHashCode();
        }
    }

    private sealed record Candidate(SchemaIdentity Identity, List<SchemaReference> References, Avro.Schema Parsed);

    private sealed record StoredSchema(
        int Id, Guid Guid, SchemaIdentity Identity, List<SchemaReference> References, Avro.Schema Parsed, ConfluentSchema Served);

    #endregion
}
