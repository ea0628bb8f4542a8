namespace GcpStreams.SchemaRegistry;

/// <summary>What kind of schema-resolution rule a reader/writer pair breaks.</summary>
public enum AvroIncompatibilityKind
{
    /// <summary>The reader type cannot read the writer type, even with a promotion.</summary>
    TypeMismatch,

    /// <summary>Named types (record, enum, fixed) whose full names differ and no reader alias matches.</summary>
    NameMismatch,

    /// <summary>Two fixed types of different sizes.</summary>
    FixedSizeMismatch,

    /// <summary>The writer enum has symbols the reader enum lacks, and the reader enum has no default.</summary>
    MissingEnumSymbols,

    /// <summary>A reader field is absent from the writer record and has no default value.</summary>
    ReaderFieldMissingDefault,

    /// <summary>No branch of the reader union can read the writer type.</summary>
    MissingUnionBranch,

    /// <summary>
    /// Legal under the Avro specification but refused by the Apache.Avro .NET runtime (reported only with
    /// <see cref="AvroCompatibilityOptions.RequireApacheAvroDotNetReadable"/>).
    /// </summary>
    UnsupportedByDotNetRuntime,
}

/// <summary>One reason why a reader schema cannot read data written with a writer schema.</summary>
/// <param name="Kind">The rule that is broken.</param>
/// <param name="Path">
/// Where in the reader schema, e.g. <c>/fields/amountMinor</c>, <c>/fields/lines/items/fields/sku</c>,
/// <c>/fields/status/symbols</c>, <c>/fields/note/1</c> (branch 1 of a writer union); <c>/</c> is the root.
/// </param>
/// <param name="Message">Human-readable explanation.</param>
public sealed record AvroIncompatibility(AvroIncompatibilityKind Kind, string Path, string Message)
{
    /// <summary>Which check found it (e.g. "BACKWARD: new schema reading version 2"); null for a plain reader/writer check.</summary>
    public string? Context { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        Context is null ? $"{Path}: {Message}" : $"{Path}: {Message} [{Context}]";
}

/// <summary>The outcome of an Avro compatibility check.</summary>
public sealed class AvroCompatibilityResult
{
    /// <summary>A result without incompatibilities.</summary>
    public static AvroCompatibilityResult Compatible { get; } = new([]);

    /// <summary>Creates a result from the incompatibilities found (none means compatible).</summary>
    public AvroCompatibilityResult(IReadOnlyList<AvroIncompatibility> incompatibilities)
    {
        ArgumentNullException.ThrowIfNull(incompatibilities);
        Incompatibilities = incompatibilities;
    }

    /// <summary>True when nothing is incompatible.</summary>
    public bool IsCompatible => Incompatibilities.Count == 0;

    /// <summary>Every incompatibility found, in schema order.</summary>
    public IReadOnlyList<AvroIncompatibility> Incompatibilities { get; }

    /// <summary>The incompatibilities as <c>path: message</c> strings.</summary>
    public IReadOnlyList<string> Messages => Incompatibilities.Select(i => i.ToString()).ToList();

    /// <inheritdoc />
    public override string ToString() =>
        IsCompatible ? "compatible" : "incompatible: " + string.Join("; ", Messages);
}

/// <summary>Options of <see cref="AvroCompatibility"/>.</summary>
public sealed record AvroCompatibilityOptions
{
    /// <summary>The Avro specification's schema resolution rules, as Confluent Schema Registry applies them.</summary>
    public static AvroCompatibilityOptions Specification { get; } = new();

    /// <summary>
    /// The specification's rules plus the limits of the Apache.Avro .NET runtime (1.12.x), which throws
    /// "Schema mismatch" for string&lt;-&gt;bytes promotion and for a logical type read as its plain type (or back).
    /// </summary>
    public static AvroCompatibilityOptions ApacheAvroDotNet { get; } = new() { RequireApacheAvroDotNetReadable = true };

    /// <summary>Also report resolutions the specification allows but Apache.Avro for .NET cannot perform.</summary>
    public bool RequireApacheAvroDotNetReadable { get; init; }
}
