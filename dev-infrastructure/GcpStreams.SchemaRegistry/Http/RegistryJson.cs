using Confluent.SchemaRegistry;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using ConfluentSchema = Confluent.SchemaRegistry.Schema;

namespace GcpStreams.SchemaRegistry.Http;

/// <summary>
/// Confluent's JSON shapes. Requests are read with Confluent's own data contracts (Newtonsoft.Json, as Confluent's
/// .NET client does), so that references, metadata and rule sets reach the registry, which refuses them.
/// </summary>
internal static class RegistryJson
{
    private static readonly JsonSerializer Reader = JsonSerializer.Create(new JsonSerializerSettings { DateParseHandling = DateParseHandling.None });

    /// <summary>
    /// The schema of a register request: <c>{schema, schemaType?, references?, metadata?, ruleSet?}</c> (other
    /// fields, such as <c>id</c> and <c>version</c> of import mode, are ignored).
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

    /// <summary>
    /// <c>GET /schemas/ids/{id}</c> (Confluent's SchemaString): <c>{schema}</c>. <c>schemaType</c> is left out for
    /// Avro, as Confluent's classic responses do (its clients read a missing type as AVRO), and the registry stores
    /// nothing else.
    /// </summary>
    public static JObject SchemaString(ConfluentSchema schema) => new() { ["schema"] = schema.SchemaString };

    /// <summary>The answer to a registration (Confluent's RegisterSchemaResponse): <c>{id, version, schema}</c>.</summary>
    public static JObject Registration(RegisteredSchema registered) => new()
    {
        ["id"] = registered.Id,
        ["version"] = registered.Version,
        ["schema"] = registered.SchemaString,
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
}
