using Avro;

namespace GcpStreams.SchemaRegistry.Tests.Fixtures;

/// <summary>Tiny builders for test schemas.</summary>
internal static class Avsc
{
    /// <summary>A record <c>gcp.test.{name}</c> with the given field JSON objects.</summary>
    public static Schema Record(string name, params string[] fields) =>
        Schema.Parse($$"""{"type":"record","name":"{{name}}","namespace":"gcp.test","fields":[{{string.Join(",", fields)}}]}""");

    /// <summary>A field JSON object; <paramref name="defaultJson"/> is raw JSON (e.g. <c>null</c>, <c>"EUR"</c>, <c>0</c>).</summary>
    public static string Field(string name, string typeJson, string? defaultJson = null) =>
        defaultJson is null
            ? $$"""{"name":"{{name}}","type":{{typeJson}}}"""
            : $$"""{"name":"{{name}}","type":{{typeJson}},"default":{{defaultJson}}}""";

    /// <summary>A quoted primitive type name, e.g. <c>"long"</c>.</summary>
    public static string P(string primitive) => $"\"{primitive}\"";
}
