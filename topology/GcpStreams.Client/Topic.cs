using Avro.Specific;
using Confluent.Kafka;

namespace GcpStreams.Client;

/// <summary>A topic without its types: what a list of topics needs (the topology's routes, provisioning).</summary>
public interface ITopic
{
    /// <summary>The topic's name. Renaming a topic breaks everything deployed that reads or writes it.</summary>
    string Name { get; }

    /// <summary>Whether only the latest record per key matters (<c>cleanup.policy=compact</c>).</summary>
    bool Compacted { get; }
}

/// <summary>
/// A public topic of the service as data, as confluentinc's kafka-streams-examples define theirs (<c>Schemas.Topics</c>): its
/// name, how its keys are written and the Avro contract of its values, so that <c>Topics.Stream</c> gives the name and the
/// types together. Values are Avro on the Confluent wire format under the subject <c>{Name}-value</c>, written and read through
/// a schema registry by <see cref="Codec.Encode{TKey, TValue}"/> and <see cref="Codec.Decode{TKey, TValue}"/>.
/// </summary>
/// <typeparam name="TKey">The record key: text (UTF-8) on every topic but the dead letters, whose key is the original record's bytes.</typeparam>
/// <typeparam name="TValue">The Avro contract of the record values (generated from avro/*.avsc).</typeparam>
public sealed class Topic<TKey, TValue> : ITopic
    where TValue : class, ISpecificRecord
{
    internal Topic(string name, ISerializer<TKey> keySerializer, IDeserializer<TKey> keyDeserializer, bool compacted = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        KeySerializer = keySerializer;
        KeyDeserializer = keyDeserializer;
        Compacted = compacted;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool Compacted { get; }

    /// <summary>How a record key is written (Confluent's UTF-8 or byte-array serializer).</summary>
    public ISerializer<TKey> KeySerializer { get; }

    /// <summary>How a record key is read back.</summary>
    public IDeserializer<TKey> KeyDeserializer { get; }

    /// <summary>The bytes of a record key of this topic (null for a null key).</summary>
    public byte[]? KeyBytes(TKey key) => KeySerializer.Serialize(key, new SerializationContext(MessageComponentType.Key, Name));

    /// <summary>A record key of this topic read from its bytes.</summary>
    public TKey Key(byte[]? bytes) => KeyDeserializer.Deserialize(bytes, bytes is null, new SerializationContext(MessageComponentType.Key, Name));

    /// <summary>The topic's name.</summary>
    public override string ToString() => Name;
}
