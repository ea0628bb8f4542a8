using Avro;

namespace GcpStreams.Contracts.Tests;

/// <summary>Walks a parsed schema: every named type once, every field with its record, in definition order.</summary>
internal static class AvroWalk
{
    public static IReadOnlyList<NamedSchema> NamedTypes(Schema schema)
    {
        var found = new List<NamedSchema>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Visit(schema, found, seen);
        return found;
    }

    public static IEnumerable<(RecordSchema Record, Field Field)> Fields(Schema schema) =>
        NamedTypes(schema).OfType<RecordSchema>().SelectMany(r => r.Fields.Select(f => (r, f)));

    /// <summary>X for an optional ["null", X], otherwise the schema itself.</summary>
    public static Schema Unwrapped(Schema schema)
    {
        if (schema is UnionSchema { Count: 2 } union && union.Schemas[0].Tag == Schema.Type.Null)
        {
            schema = union.Schemas[1];
        }

        return schema;
    }

    private static void Visit(Schema schema, List<NamedSchema> found, HashSet<string> seen)
    {
        switch (schema)
        {
            case NamedSchema named:
                if (!seen.Add(named.Fullname))
                {
                    return;
                }

                found.Add(named);
                if (named is RecordSchema record)
                {
                    foreach (var field in record.Fields)
                    {
                        Visit(field.Schema, found, seen);
                    }
                }

                break;
            case UnionSchema union:
                foreach (var branch in union.Schemas)
                {
                    Visit(branch, found, seen);
                }

                break;
            case ArraySchema array:
                Visit(array.ItemSchema, found, seen);
                break;
            case MapSchema map:
                Visit(map.ValueSchema, found, seen);
                break;
            case LogicalSchema logical:
                Visit(logical.BaseSchema, found, seen);
                break;
            default:
                break;
        }
    }
}
