using System.Globalization;
using Confluent.SchemaRegistry;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using ConfluentSchema = Confluent.SchemaRegistry.Schema;

namespace GcpStreams.SchemaRegistry.Http;

/// <summary>
/// Confluent's JSON shapes, read and written with Confluent's own data contracts (Newtonsoft.Json, as Confluent's
/// .NET client does) so metadata, rule sets and associations round-trip exactly.
/// </summary>
internal static class RegistryJson
{
    /// <summary>Writes like Confluent's server: absent rather than null.</summary>
    private static readonly JsonSerializer Writer = JsonSerializer.Create(new JsonSerializerSettings { NullValueHandling = NullValueHandling.Ignore });

    private static readonly JsonSerializer Reader = JsonSerializer.Create(new JsonSerializerSettings { DateParseHandling = DateParseHandling.None });

    private static readonly Dictionary<string, Compatibility> CompatibilityByName =
        Enum.GetValues<Compatibility>().ToDictionary(AvroCompatibility.CompatibilityName, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The schema of a register, lookup or compatibility request: <c>{schema, schemaType?, references?, metadata?,
    /// ruleSet?}</c> (other fields, such as <c>id</c> and <c>version</c> of import mode, are ignored).
    /// </summary>
    public static ConfluentSchema ReadSchema(JObject body)
    {
        var text = body["schema"] switch
        {
            null or { Type: JTokenType.Null } => string.Empty,
            { Type: JTokenType.String } token => token.Value<string>()!,
            _ => throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidSchema, "Invalid schema: 'schema' must be a string"),
        };
        var type = ReadSchemaType(body["schemaType"]);
        try
        {
            var references = Field<List<SchemaReference>>(body, "references", JTokenType.Array) ?? [];
            var metadata = Field<Metadata>(body, "metadata", JTokenType.Object);
            var ruleSet = Field<RuleSet>(body, "ruleSet", JTokenType.Object);
            return new ConfluentSchema(text, references, type, metadata, ruleSet);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException or InvalidCastException)
        {
            throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidSchema, "Invalid schema: " + e.Message);
        }
    }

    /// <summary>An optional field of a schema request: absent or null is null; otherwise it must have the expected shape.</summary>
    private static T? Field<T>(JObject body, string name, JTokenType expected)
        where T : class
    {
        var token = body[name];
        if (token is null || token.Type == JTokenType.Null)
        {
            return null;
        }

        return token.Type == expected
            ? token.ToObject<T>(Reader)
            : throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidSchema, $"Invalid schema: '{name}' must be a JSON {expected.ToString().ToLowerInvariant()}");
    }

    /// <summary>An association request (<c>POST /associations</c>).</summary>
    public static AssociationCreateOrUpdateRequest ReadAssociationRequest(JObject body)
    {
        try
        {
            return body.ToObject<AssociationCreateOrUpdateRequest>(Reader)
                   ?? throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidAssociation, "The association request is empty.");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException or InvalidCastException)
        {
            throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidAssociation,
                "The association specified an invalid value for property, " + e.Message);
        }
    }

    /// <summary>A compatibility level by its Confluent name (any case), or null for an unknown one.</summary>
    public static Compatibility? ParseCompatibility(string? name) =>
        name is not null && CompatibilityByName.TryGetValue(name.Trim(), out var level) ? level : null;

    /// <summary><c>GET /schemas/ids/{id}</c> (Confluent's SchemaString): <c>{schemaType?, schema, references?, metadata?, ruleSet?}</c>.</summary>
    public static JObject SchemaString(ConfluentSchema schema)
    {
        var json = new JObject();
        AddSchema(json, schema);
        return json;
    }

    /// <summary>
    /// A subject's version (Confluent's Schema): <c>{subject, version, id, guid?, schemaType?, schema, references?,
    /// metadata?, ruleSet?}</c>.
    /// </summary>
    public static JObject SubjectVersion(RegisteredSchema registered)
    {
        var json = new JObject
        {
            ["subject"] = registered.Subject,
            ["version"] = registered.Version,
            ["id"] = registered.Id,
        };
        if (!string.IsNullOrEmpty(registered.Guid))
        {
            json["guid"] = registered.Guid;
        }

        AddSchema(json, registered);
        return json;
    }

    /// <summary>
    /// The answer to a registration (Confluent's RegisterSchemaResponse): <c>{id, version, guid?, …schema}</c>.
    /// Old servers sent only <c>{id}</c>; clients read what they know.
    /// </summary>
    public static JObject Registration(RegisteredSchema registered)
    {
        var json = new JObject
        {
            ["id"] = registered.Id,
            ["version"] = registered.Version,
        };
        if (!string.IsNullOrEmpty(registered.Guid))
        {
            json["guid"] = registered.Guid;
        }

        AddSchema(json, registered);
        return json;
    }

    /// <summary>Any Confluent data contract (associations), nulls left out.</summary>
    public static JToken Contract(object value) => JToken.FromObject(value, Writer);

    /// <summary>Confluent's spelling of a schema type.</summary>
    public static string SchemaTypeName(SchemaType type) => type switch
    {
        SchemaType.Avro => "AVRO",
        SchemaType.Protobuf => "PROTOBUF",
        SchemaType.Json => "JSON",
        _ => type.ToString().ToUpperInvariant(),
    };

    private static SchemaType ReadSchemaType(JToken? token)
    {
        if (token is null || token.Type == JTokenType.Null)
        {
            return SchemaType.Avro;
        }

        var name = token.Type == JTokenType.String ? token.Value<string>() : token.ToString(Formatting.None);
        return name?.ToUpperInvariant() switch
        {
            "AVRO" or "" => SchemaType.Avro,
            "PROTOBUF" => SchemaType.Protobuf,
            "JSON" => SchemaType.Json,
            _ => throw RegistryHttp.Fail(SchemaRegistryErrorCodes.InvalidSchema, $"Invalid schema type {name}"),
        };
    }

    /// <summary>
    /// The schema's own fields. <c>schemaType</c> is left out for Avro, as Confluent's classic responses do (its
    /// clients read a missing type as AVRO); references, metadata and rule set only when there are some.
    /// </summary>
    private static void AddSchema(JObject json, ConfluentSchema schema)
    {
        if (schema.SchemaType != SchemaType.Avro)
        {
            json["schemaType"] = SchemaTypeName(schema.SchemaType);
        }

        json["schema"] = schema.SchemaString;
        if (schema.References is { Count: > 0 } references)
        {
            json["references"] = new JArray(references.Select(r => new JObject
            {
                ["name"] = r.Name,
                ["subject"] = r.Subject,
                ["version"] = r.Version,
            }));
        }

        if (schema.Metadata is not null)
        {
            json["metadata"] = JToken.FromObject(schema.Metadata, Writer);
        }

        if (schema.RuleSet is not null)
        {
            json["ruleSet"] = JToken.FromObject(schema.RuleSet, Writer);
        }
    }

    /// <summary>Formats an int for messages.</summary>
    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
