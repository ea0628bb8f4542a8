using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Avro;

namespace GcpStreams.AvroGen;

/// <summary>One .avsc file: its file name (e.g. <c>Payment.avsc</c>) and its JSON text.</summary>
internal sealed record SchemaSource(string FileName, string Text);

/// <summary>A parsed .avsc file and the named types it defines (full name -> definition).</summary>
internal sealed record ParsedSchema(SchemaSource Source, Schema Schema, IReadOnlyDictionary<string, NamedSchema> NamedTypes);

/// <summary>A contract error: a file does not parse, or a named type is defined differently in two files.</summary>
internal sealed class SchemaSetException : Exception
{
    public SchemaSetException(string message)
        : base(message)
    {
    }

    public SchemaSetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Parses a set of self-contained .avsc files and checks that every named type (record, enum, fixed)
/// defined in more than one file is defined identically everywhere: same structure (Avro parsing
/// canonical form) and same docs, defaults, field order, aliases and logical types.
/// </summary>
internal static class SchemaSet
{
    public static IReadOnlyList<ParsedSchema> ParseAndCheck(IEnumerable<SchemaSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);

        var parsed = new List<ParsedSchema>();
        // full name -> (first file defining it, its definition)
        var firstDefinitions = new Dictionary<string, (string File, NamedSchema Schema)>(StringComparer.Ordinal);

        foreach (var source in sources)
        {
            Schema schema;
            try
            {
                schema = Schema.Parse(source.Text);
            }
            catch (Exception e) when (e is AvroException or Newtonsoft.Json.JsonException)
            {
                throw new SchemaSetException($"{source.FileName}: not a valid Avro schema: {e.Message}", e);
            }

            var namedTypes = NamedTypesOf(schema);
            foreach (var (fullName, named) in namedTypes)
            {
                if (!firstDefinitions.TryGetValue(fullName, out var first))
                {
                    firstDefinitions.Add(fullName, (source.FileName, named));
                    continue;
                }

                var difference = Difference(first.Schema, named);
                if (difference is not null)
                {
                    throw new SchemaSetException(
                        $"Named type '{fullName}' is defined differently in '{first.File}' and '{source.FileName}' ({difference}). " +
                        "Every .avsc is self-contained, so a shared type must be copied identically into each file that uses it." +
                        $"{Environment.NewLine}  {first.File}: {Describe(first.Schema)}" +
                        $"{Environment.NewLine}  {source.FileName}: {Describe(named)}");
                }
            }

            parsed.Add(new ParsedSchema(source, schema, namedTypes));
        }

        return parsed;
    }

    /// <summary>Every named type reachable from <paramref name="schema"/>, by full name, in definition order.</summary>
    public static IReadOnlyDictionary<string, NamedSchema> NamedTypesOf(Schema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var found = new Dictionary<string, NamedSchema>(StringComparer.Ordinal);
        Collect(schema, found);
        return found;
    }

    /// <summary>
    /// A full description of one named type: the JSON definition with docs, defaults, aliases, order and
    /// logical types, where nested named types appear by full name only (they are compared on their own).
    /// </summary>
    public static string Describe(NamedSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        using var buffer = new MemoryStream();
        // Relaxed escaping: the description is shown in error messages, where \u0027 for ' only gets in the way.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("type", TypeName(schema.Tag));
            json.WriteString("name", schema.Fullname);
            WriteIfNotEmpty(json, "doc", schema.Documentation);
            switch (schema)
            {
                case EnumSchema e:
                    json.WriteStartArray("symbols");
                    foreach (var symbol in e.Symbols)
                    {
                        json.WriteStringValue(symbol);
                    }

                    json.WriteEndArray();
                    WriteIfNotEmpty(json, "default", e.Default);
                    break;
                case FixedSchema f:
                    json.WriteNumber("size", f.Size);
                    break;
                case RecordSchema r:
                    json.WriteStartArray("fields");
                    foreach (var field in r.Fields)
                    {
                        json.WriteStartObject();
                        json.WriteString("name", field.Name);
                        WriteIfNotEmpty(json, "doc", field.Documentation);
                        json.WritePropertyName("type");
                        WriteTypeReference(json, field.Schema);
                        if (field.DefaultValue is not null)
                        {
                            json.WritePropertyName("default");
                            json.WriteRawValue(field.DefaultValue.ToString(Newtonsoft.Json.Formatting.None));
                        }

                        if (field.Ordering is { } order)
                        {
                            json.WriteString("order", order.ToString());
                        }

                        if (field.Aliases is { Count: > 0 } aliases)
                        {
                            json.WriteStartArray("aliases");
                            foreach (var alias in aliases)
                            {
                                json.WriteStringValue(alias);
                            }

                            json.WriteEndArray();
                        }

                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    break;
                default:
                    break;
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string? Difference(NamedSchema first, NamedSchema second)
    {
        if (!string.Equals(SchemaNormalization.ToParsingForm(first), SchemaNormalization.ToParsingForm(second), StringComparison.Ordinal))
        {
            return "different structure: canonical forms differ";
        }

        return string.Equals(Describe(first), Describe(second), StringComparison.Ordinal)
            ? null
            : "same structure, but docs, defaults, order or aliases differ";
    }

    private static void Collect(Schema schema, Dictionary<string, NamedSchema> found)
    {
        switch (schema)
        {
            case NamedSchema named:
                if (!found.TryAdd(named.Fullname, named))
                {
                    return; // a reference to a type already defined in this file
                }

                if (named is RecordSchema record)
                {
                    foreach (var field in record.Fields)
                    {
                        Collect(field.Schema, found);
                    }
                }

                break;
            case UnionSchema union:
                foreach (var branch in union.Schemas)
                {
                    Collect(branch, found);
                }

                break;
            case ArraySchema array:
                Collect(array.ItemSchema, found);
                break;
            case MapSchema map:
                Collect(map.ValueSchema, found);
                break;
            case LogicalSchema logical:
                Collect(logical.BaseSchema, found);
                break;
            default:
                break; // primitive
        }
    }

    private static void WriteTypeReference(Utf8JsonWriter json, Schema schema)
    {
        switch (schema)
        {
            case NamedSchema named:
                json.WriteStringValue(named.Fullname);
                break;
            case UnionSchema union:
                json.WriteStartArray();
                foreach (var branch in union.Schemas)
                {
                    WriteTypeReference(json, branch);
                }

                json.WriteEndArray();
                break;
            case ArraySchema array:
                json.WriteStartObject();
                json.WriteString("type", "array");
                json.WritePropertyName("items");
                WriteTypeReference(json, array.ItemSchema);
                json.WriteEndObject();
                break;
            case MapSchema map:
                json.WriteStartObject();
                json.WriteString("type", "map");
                json.WritePropertyName("values");
                WriteTypeReference(json, map.ValueSchema);
                json.WriteEndObject();
                break;
            case LogicalSchema logical:
                json.WriteStartObject();
                json.WritePropertyName("type");
                WriteTypeReference(json, logical.BaseSchema);
                json.WriteString("logicalType", logical.LogicalTypeName);
                foreach (var property in new[] { "precision", "scale" })
                {
                    if (logical.GetProperty(property) is { } value)
                    {
                        json.WritePropertyName(property);
                        json.WriteRawValue(value);
                    }
                }

                json.WriteEndObject();
                break;
            default:
                json.WriteStringValue(TypeName(schema.Tag));
                break;
        }
    }

    private static string TypeName(Schema.Type tag) => tag switch
    {
        Schema.Type.Enumeration => "enum",
        _ => tag.ToString().ToLower(CultureInfo.InvariantCulture),
    };

    private static void WriteIfNotEmpty(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }
}
