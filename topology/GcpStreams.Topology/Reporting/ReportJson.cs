using System.Text.Json;
using System.Text.Json.Serialization;
using Confluent.Kafka;
using GcpStreams.Domain.Reporting;
using Streamiz.Kafka.Net.SerDes;

namespace GcpStreams.Topology.Reporting;

/// <summary>JSON of the reporting's internal values (facts on the internal topic, marts in the store); only this application reads them.</summary>
internal static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Deserialize<T>(byte[] bytes) => JsonSerializer.Deserialize<T>(bytes, Options) ?? throw new JsonException($"null {typeof(T).Name}");
}

/// <summary>The SerDes of the facts topic (JSON of <see cref="ReportFact"/>).</summary>
internal sealed class ReportFactSerDes : AbstractSerDes<ReportFact>
{
    public override byte[] Serialize(ReportFact data, SerializationContext context) => ReportJson.Serialize(data);

    public override ReportFact Deserialize(byte[] data, SerializationContext context) => ReportJson.Deserialize<ReportFact>(data);
}
