using System.Globalization;
using System.Runtime.CompilerServices;
using Avro;
using Newtonsoft.Json.Linq;
using Compatibility = Confluent.SchemaRegistry.Compatibility;

namespace GcpStreams.SchemaRegistry;

/// <summary>
/// Avro schema resolution checker: can a reader schema read data written with a writer schema?
/// Follows the Avro specification's "Schema Resolution" rules (as Apache Avro Java's SchemaCompatibility,
/// which Confluent Schema Registry uses), and reports every incompatibility with its path.
/// </summary>
/// <remarks>
/// Apache.Avro 1.12.2 ships no compatibility checker, only <c>Schema.CanRead</c>, which returns a bare
/// boolean, accepts any writer union without looking at its branches, ignores enum symbols and refuses
/// string&lt;-&gt;bytes: hence this class.
/// Rules: primitives are equal or promoted (int to long, float, double; long to float, double; float to
/// double; string to bytes and bytes to string); records, enums and fixed match by full name or by a reader
/// alias; a reader field is looked up in the writer by name, then by the reader field's aliases, and when
/// absent needs a default; writer fields unknown to the reader are skipped; a writer enum symbol the reader
/// lacks needs a reader enum default; fixed sizes must be equal; array items and map values are checked
/// recursively; every branch of a writer union must be readable (by some branch of a reader union, or by the
/// non-union reader); a non-union writer must be readable by some reader union branch. Logical types are
/// checked on their underlying type. Recursive types terminate: a pair already being checked is assumed
/// compatible unless proven otherwise.
/// </remarks>
public static class AvroCompatibility
{
    /// <summary>Checks whether <paramref name="reader"/> can read data written with <paramref name="writer"/>.</summary>
    public static AvroCompatibilityResult CanRead(Schema reader, Schema writer, AvroCompatibilityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        var issues = new Checker(options ?? AvroCompatibilityOptions.Specification).Check(reader, writer);
        return new AvroCompatibilityResult(Distinct(issues.Select(i => i.ToIncompatibility(context: null))));
    }

    /// <summary>Checks whether the reader schema (JSON) can read data written with the writer schema (JSON).</summary>
    public static AvroCompatibilityResult CanRead(string readerSchema, string writerSchema, AvroCompatibilityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(readerSchema);
        ArgumentNullException.ThrowIfNull(writerSchema);
        return CanRead(Schema.Parse(readerSchema), Schema.Parse(writerSchema), options);
    }

    /// <summary>
    /// Checks a new schema against the previous versions of a subject under a Confluent compatibility level:
    /// BACKWARD (the new schema reads the latest), FORWARD (the latest reads the new schema), FULL (both),
    /// their TRANSITIVE forms (against every previous version), NONE (always compatible).
    /// </summary>
    /// <param name="level">The compatibility level.</param>
    /// <param name="candidate">The schema to be registered.</param>
    /// <param name="previousOldestFirst">
    /// The previous versions, oldest first; the last one is the latest. They are named "version N" in the
    /// incompatibilities' <see cref="AvroIncompatibility.Context"/>, N counting from 1 (a subject's version
    /// numbers when every version is given).
    /// </param>
    /// <param name="options">Checker options.</param>
    public static AvroCompatibilityResult CheckEvolution(
        Compatibility level,
        Schema candidate,
        IReadOnlyList<Schema> previousOldestFirst,
        AvroCompatibilityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(previousOldestFirst);
        if (level == Compatibility.None || previousOldestFirst.Count == 0)
        {
            return AvroCompatibilityResult.Compatible;
        }

        var (backward, forward, transitive) = level switch
        {
            Compatibility.Backward => (true, false, false),
            Compatibility.BackwardTransitive => (true, false, true),
            Compatibility.Forward => (false, true, false),
            Compatibility.ForwardTransitive => (false, true, true),
            Compatibility.Full => (true, true, false),
            Compatibility.FullTransitive => (true, true, true),
            _ => throw new ArgumentOutOfRangeException(nameof(level), level, "Unknown compatibility level."),
        };

        var levelName = CompatibilityName(level);
        var checker = new Checker(options ?? AvroCompatibilityOptions.Specification);
        var found = new List<AvroIncompatibility>();
        var first = transitive ? 0 : previousOldestFirst.Count - 1;
        for (var i = previousOldestFirst.Count - 1; i >= first; i--)
        {
            var previous = previousOldestFirst[i];
            var version = (i + 1).ToString(CultureInfo.InvariantCulture);
            if (backward)
            {
                var context = $"{levelName}: the new schema cannot read data written with version {version}";
                found.AddRange(checker.Check(candidate, previous).Select(x => x.ToIncompatibility(context)));
            }

            if (forward)
            {
                var context = $"{levelName}: version {version} cannot read data written with the new schema";
                found.AddRange(checker.Check(previous, candidate).Select(x => x.ToIncompatibility(context)));
            }
        }

        return new AvroCompatibilityResult(Distinct(found));
    }

    /// <summary>The Confluent REST spelling of a compatibility level (e.g. BACKWARD_TRANSITIVE).</summary>
    public static string CompatibilityName(Compatibility level) => level switch
    {
        Compatibility.None => "NONE",
        Compatibility.Backward => "BACKWARD",
        Compatibility.BackwardTransitive => "BACKWARD_TRANSITIVE",
        Compatibility.Forward => "FORWARD",
        Compatibility.ForwardTransitive => "FORWARD_TRANSITIVE",
        Compatibility.Full => "FULL",
        Compatibility.FullTransitive => "FULL_TRANSITIVE",
        _ => level.ToString().ToUpperInvariant(),
    };

    private static List<AvroIncompatibility> Distinct(IEnumerable<AvroIncompatibility> items) => items.Distinct().ToList();

    /// <summary>An incompatibility with a path relative to the pair being checked ("" is the pair itself).</summary>
    private sealed record Issue(AvroIncompatibilityKind Kind, string RelativePath, string Message)
    {
        public Issue Under(string segment) => this with { RelativePath = "/" + segment + RelativePath };

        public AvroIncompatibility ToIncompatibility(string? context) =>
            new(Kind, RelativePath.Length == 0 ? "/" : RelativePath, Message) { Context = context };
    }

    private sealed class Checker(AvroCompatibilityOptions options)
    {
        private static readonly List<Issue> None = [];

        // Results per (reader, writer) instance pair; null while the pair is being checked (recursion).
        private readonly Dictionary<(Schema Reader, Schema Writer), List<Issue>?> memo = new(PairComparer.Instance);
        private readonly Dictionary<NamedSchema, HashSet<string>> aliases = new(ReferenceEqualityComparer.Instance);

        public List<Issue> Check(Schema reader, Schema writer)
        {
            var key = (reader, writer);
            if (memo.TryGetValue(key, out var known))
            {
                return known ?? None; // recursion in progress: compatible unless proven otherwise
            }

            memo[key] = null;
            var result = Calculate(reader, writer);
            memo[key] = result;
            return result;
        }

        private List<Issue> Calculate(Schema reader, Schema writer)
        {
            var issues = new List<Issue>();
            if (options.RequireApacheAvroDotNetReadable
                && reader.Tag != Schema.Type.Union && writer.Tag != Schema.Type.Union
                && (reader is LogicalSchema) != (writer is LogicalSchema))
            {
                issues.Add(new Issue(
                    AvroIncompatibilityKind.UnsupportedByDotNetRuntime,
                    string.Empty,
                    $"reader type {Describe(reader)} and writer type {Describe(writer)} differ by a logical type annotation, "
                    + "which Apache.Avro for .NET cannot resolve (it throws 'Schema mismatch')"));
            }

            var r = Unwrap(reader);
            var w = Unwrap(writer);
            var rTag = TagOf(r);
            var wTag = TagOf(w);

            if (rTag == wTag)
            {
                switch (rTag)
                {
                    case Schema.Type.Array:
                        issues.AddRange(Check(((ArraySchema)r).ItemSchema, ((ArraySchema)w).ItemSchema).Select(i => i.Under("items")));
                        break;
                    case Schema.Type.Map:
                        issues.AddRange(Check(((MapSchema)r).ValueSchema, ((MapSchema)w).ValueSchema).Select(i => i.Under("values")));
                        break;
                    case Schema.Type.Fixed:
                        CheckName((NamedSchema)r, (NamedSchema)w, issues);
                        CheckFixedSize((FixedSchema)r, (FixedSchema)w, issues);
                        break;
                    case Schema.Type.Enumeration:
                        CheckName((NamedSchema)r, (NamedSchema)w, issues);
                        CheckEnumSymbols((EnumSchema)r, (EnumSchema)w, issues);
                        break;
                    case Schema.Type.Record:
                        CheckName((NamedSchema)r, (NamedSchema)w, issues);
                        CheckFields((RecordSchema)r, (RecordSchema)w, issues);
                        break;
                    case Schema.Type.Union:
                        var writerBranches = ((UnionSchema)w).Schemas;
                        for (var i = 0; i < writerBranches.Count; i++)
                        {
                            var segment = i.ToString(CultureInfo.InvariantCulture);
                            issues.AddRange(Check(r, writerBranches[i]).Select(x => x.Under(segment)));
                        }

                        break;
                    default:
                        break; // identical primitives
                }

                return issues;
            }

            if (wTag == Schema.Type.Union)
            {
                // A non-union reader must read every branch the writer may have written.
                var writerBranches = ((UnionSchema)w).Schemas;
                for (var i = 0; i < writerBranches.Count; i++)
                {
                    var segment = i.ToString(CultureInfo.InvariantCulture);
                    issues.AddRange(Check(reader, writerBranches[i]).Select(x => x.Under(segment)));
                }

                return issues;
            }

            switch (rTag)
            {
                case Schema.Type.Long when wTag is Schema.Type.Int:
                case Schema.Type.Float when wTag is Schema.Type.Int or Schema.Type.Long:
                case Schema.Type.Double when wTag is Schema.Type.Int or Schema.Type.Long or Schema.Type.Float:
                    break;
                case Schema.Type.Bytes when wTag is Schema.Type.String:
                case Schema.Type.String when wTag is Schema.Type.Bytes:
                    if (options.RequireApacheAvroDotNetReadable)
                    {
                        issues.Add(new Issue(
                            AvroIncompatibilityKind.UnsupportedByDotNetRuntime,
                            string.Empty,
                            $"reader type {Describe(r)} can read writer type {Describe(w)} by the specification, "
                            + "but Apache.Avro for .NET does not implement this promotion (it throws 'Schema mismatch')"));
                    }

                    break;
                case Schema.Type.Union:
                    if (!((UnionSchema)r).Schemas.Any(branch => Check(branch, writer).Count == 0))
                    {
                        issues.Add(new Issue(
                            AvroIncompatibilityKind.MissingUnionBranch,
                            string.Empty,
                            $"reader union {Describe(r)} has no branch that can read writer type {Describe(w)}"));
                    }

                    break;
                default:
                    issues.Add(new Issue(
                        AvroIncompatibilityKind.TypeMismatch,
                        string.Empty,
                        $"reader type {Describe(r)} is not compatible with writer type {Describe(w)}"));
                    break;
            }

            return issues;
        }

        private void CheckFields(RecordSchema reader, RecordSchema writer, List<Issue> issues)
        {
            foreach (var readerField in reader.Fields)
            {
                var writerField = FindWriterField(writer, readerField);
                if (writerField is null)
                {
                    if (readerField.DefaultValue is null)
                    {
                        issues.Add(new Issue(
                            AvroIncompatibilityKind.ReaderFieldMissingDefault,
                            "/fields/" + readerField.Name,
                            "reader field has no default and is missing from writer"));
                    }

                    continue;
                }

                issues.AddRange(Check(readerField.Schema, writerField.Schema)
                    .Select(i => i.Under(readerField.Name).Under("fields")));
            }
        }

        private static Field? FindWriterField(RecordSchema writer, Field readerField)
        {
            if (writer.TryGetField(readerField.Name, out var byName))
            {
                return byName;
            }

            foreach (var alias in readerField.Aliases ?? [])
            {
                if (writer.TryGetField(alias, out var byAlias))
                {
                    return byAlias;
                }
            }

            return null;
        }

        private void CheckName(NamedSchema reader, NamedSchema writer, List<Issue> issues)
        {
            if (string.Equals(reader.Fullname, writer.Fullname, StringComparison.Ordinal)
                || AliasesOf(reader).Contains(writer.Fullname))
            {
                return;
            }

            issues.Add(new Issue(
                AvroIncompatibilityKind.NameMismatch,
                "/name",
                $"reader {KindName(reader)} name '{reader.Fullname}' does not match writer name '{writer.Fullname}' "
                + "(nor does any reader alias)"));
        }

        private static void CheckFixedSize(FixedSchema reader, FixedSchema writer, List<Issue> issues)
        {
            if (reader.Size != writer.Size)
            {
                issues.Add(new Issue(
                    AvroIncompatibilityKind.FixedSizeMismatch,
                    "/size",
                    $"reader fixed size {reader.Size} differs from writer fixed size {writer.Size}"));
            }
        }

        private static void CheckEnumSymbols(EnumSchema reader, EnumSchema writer, List<Issue> issues)
        {
            var missing = writer.Symbols.Where(s => !reader.Contains(s)).ToList();
            if (missing.Count == 0 || (reader.Default is { } symbol && reader.Contains(symbol)))
            {
                return;
            }

            issues.Add(new Issue(
                AvroIncompatibilityKind.MissingEnumSymbols,
                "/symbols",
                $"writer symbols [{string.Join(", ", missing)}] are missing from reader enum '{reader.Fullname}', "
                + "which has no default symbol"));
        }

        private HashSet<string> AliasesOf(NamedSchema schema)
        {
            if (aliases.TryGetValue(schema, out var known))
            {
                return known;
            }

            // Apache.Avro keeps a named schema's aliases private; its JSON form lists them fully qualified.
            var found = new HashSet<string>(StringComparer.Ordinal);
            if (JToken.Parse(schema.ToString()) is JObject json && json["aliases"] is JArray list)
            {
                foreach (var alias in list.Values<string>())
                {
                    if (string.IsNullOrEmpty(alias))
                    {
                        continue;
                    }

                    found.Add(alias.Contains('.', StringComparison.Ordinal) || string.IsNullOrEmpty(schema.Namespace)
                        ? alias
                        : schema.Namespace + "." + alias);
                }
            }

            aliases[schema] = found;
            return found;
        }
    }

    private static Schema Unwrap(Schema schema) => schema is LogicalSchema logical ? logical.BaseSchema : schema;

    private static Schema.Type TagOf(Schema schema) => schema.Tag == Schema.Type.Error ? Schema.Type.Record : schema.Tag;

    private static string KindName(Schema schema) => TagOf(Unwrap(schema)) switch
    {
        Schema.Type.Record => "record",
        Schema.Type.Enumeration => "enum",
        Schema.Type.Fixed => "fixed",
        Schema.Type.Array => "array",
        Schema.Type.Map => "map",
        Schema.Type.Union => "union",
        var tag => tag.ToString().ToLowerInvariant(),
    };

    /// <summary>e.g. <c>string</c>, <c>record a.b.C</c>, <c>long (timestamp-millis)</c>, <c>array</c>, <c>[null, string]</c>.</summary>
    internal static string Describe(Schema schema)
    {
        switch (schema)
        {
            case LogicalSchema logical:
                return $"{Describe(logical.BaseSchema)} ({logical.LogicalTypeName})";
            case NamedSchema named:
                return $"{KindName(named)} {named.Fullname}";
            case UnionSchema union:
                return "[" + string.Join(", ", union.Schemas.Select(Describe)) + "]";
            case ArraySchema array:
                return $"array<{Describe(array.ItemSchema)}>";
            case MapSchema map:
                return $"map<{Describe(map.ValueSchema)}>";
            default:
                return KindName(schema);
        }
    }

    private sealed class PairComparer : IEqualityComparer<(Schema Reader, Schema Writer)>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals((Schema Reader, Schema Writer) x, (Schema Reader, Schema Writer) y) =>
            ReferenceEquals(x.Reader, y.Reader) && ReferenceEquals(x.Writer, y.Writer);

        public int GetHashCode((Schema Reader, Schema Writer) obj) =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(obj.Reader), RuntimeHelpers.GetHashCode(obj.Writer));
    }
}
