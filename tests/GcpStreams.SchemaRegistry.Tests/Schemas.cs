using Confluent.SchemaRegistry;

namespace GcpStreams.SchemaRegistry.Tests;

/// <summary>Avro schemas of the tests: a record and its evolutions.</summary>
internal static class Schemas
{
    public const string V1 =
        """{"type":"record","name":"Card","namespace":"gcp.http.test","fields":[{"name":"certificateId","type":"string"},{"name":"amountMinor","type":"long"}]}""";

    /// <summary>V1 plus a field with a default: BACKWARD compatible with V1.</summary>
    public const string V2 =
        """{"type":"record","name":"Card","namespace":"gcp.http.test","fields":[{"name":"certificateId","type":"string"},{"name":"amountMinor","type":"long"},{"name":"currency","type":"string","default":"EUR"}]}""";

    /// <summary>V1 plus a field without default: cannot read V1 data (BACKWARD incompatible with V1, fine with V2).</summary>
    public const string NoDefault =
        """{"type":"record","name":"Card","namespace":"gcp.http.test","fields":[{"name":"certificateId","type":"string"},{"name":"amountMinor","type":"long"},{"name":"currency","type":"string"}]}""";

    /// <summary>Another record, for subjects that must not collide with Card.</summary>
    public const string Other =
        """{"type":"record","name":"Other","namespace":"gcp.http.test","fields":[{"name":"id","type":"string"}]}""";

    public static Schema Avro(string text) => new(text, SchemaType.Avro);
}
