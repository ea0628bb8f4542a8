using System.Numerics;
using Avro;
using Newtonsoft.Json.Linq;

namespace GcpStreams.SchemaRegistry;

/// <summary>
/// Checks that every field default in a schema is a valid value of the field's type, with Apache Avro Java's
/// rules (which Confluent Schema Registry applies to new schemas). Apache.Avro for .NET does not check them at
/// parse time, and an invalid default only fails later, when a reader needs it.
/// </summary>
internal static class AvroDefaultValidator
{
    /// <summary>The invalid defaults, e.g. <c>field 'a.B.amountMinor': default "x" is not a valid long</c>.</summary>
    public static IReadOnlyList<string> InvalidDefaults(Schema schema)
    {
        var errors = new List<string>();
        Visit(schema, new HashSet<Schema>(ReferenceEqualityComparer.Instance), errors);
        return errors;
    }

    private static void Visit(Schema schema, HashSet<Schema> seen, List<string> errors)
    {
        if (!seen.Add(schema))
        {
            return;
        }

        switch (schema)
        {
            case LogicalSchema logical:
                Visit(logical.BaseSchema, seen, errors);
                break;
            case RecordSchema record:
                foreach (var field in record.Fields)
                {
                    if (field.DefaultValue is { } value && !IsValidDefault(field.Schema, value))
                    {
                        errors.Add($"field '{record.Fullname}.{field.Name}': default {value.ToString(Newtonsoft.Json.Formatting.None)} "
                                   + $"is not a valid {AvroCompatibility.Describe(field.Schema)}");
                    }

                    Visit(field.Schema, seen, errors);
                }

                break;
            case EnumSchema enumSchema when enumSchema.Default is { } symbol && !enumSchema.Contains(symbol):
                errors.Add($"enum '{enumSchema.Fullname}': default symbol '{symbol}' is not one of its symbols");
                break;
            case ArraySchema array:
                Visit(array.ItemSchema, seen, errors);
                break;
            case MapSchema map:
                Visit(map.ValueSchema, seen, errors);
                break;
            case UnionSchema union:
                foreach (var branch in union.Schemas)
                {
                    Visit(branch, seen, errors);
                }

                break;
            default:
                break;
        }
    }

    private static bool IsValidDefault(Schema schema, JToken? value)
    {
        if (value is null)
        {
            return false;
        }

        if (schema is LogicalSchema logical)
        {
            schema = logical.BaseSchema;
        }

        switch (schema.Tag)
        {
            case Schema.Type.String:
            case Schema.Type.Bytes:
            case Schema.Type.Enumeration:
            case Schema.Type.Fixed:
                return value.Type == JTokenType.String;
            case Schema.Type.Int:
                return IntegerValue(value) is { } i && i >= int.MinValue && i <= int.MaxValue;
            case Schema.Type.Long:
                return IntegerValue(value) is { } l && l >= long.MinValue && l <= long.MaxValue;
            case Schema.Type.Float:
            case Schema.Type.Double:
                return value.Type is JTokenType.Integer or JTokenType.Float;
            case Schema.Type.Boolean:
                return value.Type == JTokenType.Boolean;
            case Schema.Type.Null:
                return value.Type == JTokenType.Null;
            case Schema.Type.Array:
                return value is JArray items && items.All(item => IsValidDefault(((ArraySchema)schema).ItemSchema, item));
            case Schema.Type.Map:
                return value is JObject entries
                       && entries.Properties().All(p => IsValidDefault(((MapSchema)schema).ValueSchema, p.Value));
            case Schema.Type.Union:
                // Like Apache Avro Java: a union default may match any branch.
                return ((UnionSchema)schema).Schemas.Any(branch => IsValidDefault(branch, value));
            case Schema.Type.Record:
            case Schema.Type.Error:
                return value is JObject fields
                       && ((RecordSchema)schema).Fields.All(f =>
                           IsValidDefault(f.Schema, fields.TryGetValue(f.Name, StringComparison.Ordinal, out var v) ? v : f.DefaultValue));
            default:
                return false;
        }
    }

    private static BigInteger? IntegerValue(JToken value) =>
        value is JValue { Type: JTokenType.Integer } integer
            ? integer.Value switch
            {
                BigInteger big => big,
                var other => new BigInteger(Convert.ToInt64(other, System.Globalization.CultureInfo.InvariantCulture)),
            }
            : null;
}
