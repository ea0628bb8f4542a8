using Avro.Generic;
using Avro.Specific;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using GcpStreams.Serialization;
using Streamiz.Kafka.Net.SerDes;

namespace GcpStreams.Topology;

/// <summary>
/// Streamiz SerDes for Avro records on the Confluent wire format: a thin adapter over <see cref="AvroWireFormat{T}"/>
/// (Confluent's serdes with the fast path, no Streamiz), for a Streamiz stream or table typed by an Avro contract.
/// </summary>
/// <typeparam name="T">An <see cref="ISpecificRecord"/> class (generated from .avsc), or <see cref="GenericRecord"/>.</typeparam>
/// <remarks>
/// Streamiz calls <see cref="Serialize"/> and <see cref="Deserialize"/> on its stream thread, synchronously, which is how
/// <see cref="AvroWireFormat{T}"/> works. Bytes that are not a decodable payload throw <see cref="AvroDeserializationException"/>,
/// which Streamiz hands to its deserialization exception handler. (The topology's own processors read and write bytes and
/// encode through the client library's <c>Codec</c>, on the same format.)
/// </remarks>
public sealed class SchemaRegistryAvroSerDes<T> : AbstractSerDes<T>
    where T : class
{
    /// <summary>Creates the SerDes over a format of its own.</summary>
    /// <param name="schemaRegistryClient">Where schemas are registered and looked up; not disposed by the SerDes.</param>
    /// <param name="serializerConfig">Confluent serializer settings; null for the defaults (auto-register, Topic subject name strategy).</param>
    /// <param name="deserializerConfig">Confluent deserializer settings; unset subject name strategy means Topic.</param>
    public SchemaRegistryAvroSerDes(
        ISchemaRegistryClient schemaRegistryClient,
        AvroSerializerConfig? serializerConfig = null,
        AvroDeserializerConfig? deserializerConfig = null)
        : this(new AvroWireFormat<T>(schemaRegistryClient, serializerConfig, deserializerConfig))
    {
    }

    /// <summary>Creates the SerDes over <paramref name="format"/> (shared: its schema ids and readers are cached once).</summary>
    public SchemaRegistryAvroSerDes(AvroWireFormat<T> format)
    {
        ArgumentNullException.ThrowIfNull(format);
        Format = format;
        isInitialized = true; // everything it needs came through the constructor
    }

    /// <summary>The wire format the SerDes delegates to.</summary>
    public AvroWireFormat<T> Format { get; }

    /// <inheritdoc />
    /// <remarks>Nothing to read from the stream configuration: the SerDes is complete once constructed.</remarks>
    public override void Initialize(SerDesContext context) => isInitialized = true;

    /// <summary>Serializes a record to the Confluent wire format; null gives null (a tombstone).</summary>
    public override byte[]? Serialize(T? data, SerializationContext context) => Format.Serialize(data, context);

    /// <summary>Deserializes Confluent wire-format bytes; null or empty bytes give null (Streamiz's tombstone).</summary>
    /// <exception cref="AvroDeserializationException">The bytes are not a decodable payload.</exception>
    public override T Deserialize(byte[]? data, SerializationContext context) => Format.Deserialize(data, context)!;
}
