using System.Collections.Immutable;
using System.Reflection;

namespace GcpStreams.Contracts;

/// <summary>
/// The contracts as written in avro/*.avsc, embedded in this assembly: the JSON text of each file by
/// top-level record name (the file name without .avsc), e.g. <c>Schemas.Load("Payment")</c>.
/// Every file is self-contained, so each text is one complete schema, ready to register for a topic.
/// </summary>
public static class Schemas
{
    private const string ResourcePrefix = "avro/";
    private const string ResourceSuffix = ".avsc";

    private static readonly Lazy<ImmutableSortedDictionary<string, string>> AllSchemas = new(ReadAll);

    /// <summary>Every embedded schema: record name -> JSON text, sorted by name.</summary>
    public static IReadOnlyDictionary<string, string> All => AllSchemas.Value;

    /// <summary>The JSON text of avro/<paramref name="name"/>.avsc.</summary>
    /// <exception cref="KeyNotFoundException">No such schema is embedded.</exception>
    public static string Load(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return AllSchemas.Value.TryGetValue(name, out var json)
            ? json
            : throw new KeyNotFoundException($"No embedded schema '{name}'; known: {string.Join(", ", AllSchemas.Value.Keys)}.");
    }

    /// <summary>avro/<paramref name="name"/>.avsc parsed by Apache.Avro.</summary>
    public static Avro.Schema Parse(string name) => Avro.Schema.Parse(Load(name));

    private static ImmutableSortedDictionary<string, string> ReadAll()
    {
        var assembly = typeof(Schemas).Assembly;
        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[ResourcePrefix.Length..^ResourceSuffix.Length];
            builder.Add(name, ReadResource(assembly, resource));
        }

        return builder.ToImmutable();
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource '{resource}' is listed but cannot be opened.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
