using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// JSON for what only this application reads: the internal command topics and the store values.
/// Command hierarchies are polymorphic with a "$type" discriminator (the record's name); enums are written as names.
/// </summary>
public static class InternalJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Deserialize<T>(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"null {typeof(T).Name}");

    private static JsonSerializerOptions CreateOptions()
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(Polymorphic<CertificateCommand>);
        resolver.Modifiers.Add(Polymorphic<PoolCommand>);
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            TypeInfoResolver = resolver,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly();
        return options;
    }

    private static void Polymorphic<TBase>(JsonTypeInfo info)
    {
        if (info.Type != typeof(TBase))
        {
            return;
        }

        var polymorphism = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = "$type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization };
        foreach (var type in typeof(TBase).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(TBase)) && !t.IsAbstract).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            polymorphism.DerivedTypes.Add(new JsonDerivedType(type, type.Name));
        }

        info.PolymorphismOptions = polymorphism;
    }
}
