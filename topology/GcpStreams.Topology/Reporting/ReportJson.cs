using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Confluent.Kafka;
using GcpStreams.Domain.Reporting;
using Streamiz.Kafka.Net.SerDes;

namespace GcpStreams.Topology.Reporting;

/// <summary>
/// JSON of the reporting's internal values (facts on the internal topic, marts in the store); only this application reads them.
/// Compact, because a day's mart is rewritten (and its changelog record produced) with every commit that changes it: zeros, empty
/// breakdowns and zero figures are left out (a missing property reads as its zero), a figure is <c>[count, amountMinor]</c>. Values
/// written in the older, verbose form (figures as objects, zeros written) still read.
/// </summary>
internal static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(), new FigureConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OmitZeroFiguresAndEmptyCollections } },
    };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Deserialize<T>(byte[] bytes) => JsonSerializer.Deserialize<T>(bytes, Options) ?? throw new JsonException($"null {typeof(T).Name}");

    /// <summary>A zero <see cref="Figure"/> and an empty collection are not written, unless the property is required.</summary>
    private static void OmitZeroFiguresAndEmptyCollections(JsonTypeInfo type)
    {
        foreach (var property in type.Properties.Where(p => !p.IsRequired))
        {
            if (property.PropertyType == typeof(Figure))
            {
                property.ShouldSerialize = (_, value) => value is Figure figure && figure != Figure.Zero;
            }
            else if (property.PropertyType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(property.PropertyType))
            {
                property.ShouldSerialize = (_, value) => value is System.Collections.IEnumerable items && items.GetEnumerator().MoveNext();
            }
        }
    }

    /// <summary>A <see cref="Figure"/> as <c>[count, amountMinor]</c>; an object <c>{"count":…,"amountMinor":…}</c> (the older form) reads too.</summary>
    private sealed class FigureConverter : JsonConverter<Figure>
    {
        public override Figure Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            long count = 0, amount = 0;
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Read();
                count = reader.GetInt64();
                reader.Read();
                amount = reader.GetInt64();
                reader.Read();
                return reader.TokenType == JsonTokenType.EndArray ? new Figure(count, amount) : throw new JsonException("a figure is [count, amountMinor]");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"a figure is [count, amountMinor], not {reader.TokenType}");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (string.Equals(name, "count", StringComparison.OrdinalIgnoreCase))
                {
                    count = reader.GetInt64();
                }
                else if (string.Equals(name, "amountMinor", StringComparison.OrdinalIgnoreCase))
                {
                    amount = reader.GetInt64();
                }
                else
                {
                    reader.Skip();
                }
            }

            return new Figure(count, amount);
        }

        public override void Write(Utf8JsonWriter writer, Figure value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(value.Count);
            writer.WriteNumberValue(value.AmountMinor);
            writer.WriteEndArray();
        }
    }
}

/// <summary>The SerDes of the facts topic (JSON of <see cref="ReportFact"/>).</summary>
internal sealed class ReportFactSerDes : AbstractSerDes<ReportFact>
{
    public override byte[] Serialize(ReportFact data, SerializationContext context) => ReportJson.Serialize(data);

    public override ReportFact Deserialize(byte[] data, SerializationContext context) => ReportJson.Deserialize<ReportFact>(data);
}
