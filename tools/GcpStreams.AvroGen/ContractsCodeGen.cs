using System.CodeDom;
using Avro;

namespace GcpStreams.AvroGen;

/// <summary>
/// Apache.Avro's <see cref="CodeGen"/> with one addition: an array or map field whose schema default is
/// empty (<c>"default": []</c> / <c>"default": {}</c>) starts as an empty collection in C# rather than null,
/// so a writer that never touches the field still produces a valid record (Avro cannot encode a null array).
/// </summary>
internal sealed class ContractsCodeGen : CodeGen
{
    protected override CodeTypeDeclaration processRecord(Schema schema)
    {
        var declaration = base.processRecord(schema);
        var record = (RecordSchema)schema;

        foreach (var field in record.Fields)
        {
            if (field.Schema.Tag is not (Schema.Type.Array or Schema.Type.Map) || !IsEmptyCollection(field.DefaultValue))
            {
                continue;
            }

            var backing = declaration.Members.OfType<CodeMemberField>().Single(m => m.Name == "_" + field.Name);
            // CodeGen declares the interface type as text (IList<T> / IDictionary<string,T>); create the concrete one.
            var declared = backing.Type.BaseType;
            var concrete = declared.StartsWith("IList<", StringComparison.Ordinal) ? declared[1..]
                : declared.StartsWith("IDictionary<", StringComparison.Ordinal) ? declared[1..]
                : throw new CodeGenException($"Unexpected C# type '{declared}' for field {record.Fullname}.{field.Name}");
            backing.InitExpression = new CodeSnippetExpression($"new {concrete}()");
        }

        return declaration;
    }

    private static bool IsEmptyCollection(Newtonsoft.Json.Linq.JToken? value) =>
        value is Newtonsoft.Json.Linq.JArray { Count: 0 } or Newtonsoft.Json.Linq.JObject { Count: 0 };
}
