using System.Text;
using Avro.Specific;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Serialization;
using C = GcpStreams.Contracts;

namespace GcpStreams.Client;

/// <summary>
/// One record for a topic: already serialized, with its destination topic and headers. The topology's processors emit
/// these (it routes each to the static sink of its topic); a caller produces them through <see cref="CommandChannel.ProduceAsync(Outgoing, CancellationToken)"/>.
/// </summary>
public sealed record Outgoing(string Topic, byte[]? Key, byte[]? Value, Headers Headers)
{
    /// <summary>The contract record the value was encoded from (event, reply, dead letter), for the topology's metrics; null for internal records.</summary>
    public object? Contract { get; init; }
}

/// <summary>
/// Encodes and decodes the Avro contracts on the Confluent wire format (<see cref="AvroWireFormat{T}"/>, with its fast path)
/// through one schema registry client, and builds the outgoing records of each output topic.
/// </summary>
public sealed class Codec
{
    private readonly ISchemaRegistryClient registry;
    private readonly Dictionary<Type, object> formats = [];
    private readonly Lock gate = new();

    public Codec(ISchemaRegistryClient registry) => this.registry = registry;

    public ISchemaRegistryClient Registry => registry;

    /// <summary>The wire format of <typeparamref name="T"/>, one per contract (its schema ids and readers are cached there).</summary>
    public AvroWireFormat<T> Format<T>()
        where T : class, ISpecificRecord
    {
        lock (gate)
        {
            if (!formats.TryGetValue(typeof(T), out var existing))
            {
                existing = new AvroWireFormat<T>(registry);
                formats[typeof(T)] = existing;
            }

            return (AvroWireFormat<T>)existing;
        }
    }

    /// <summary>Encodes a value of <paramref name="topic"/> (its contract under the subject <c>{topic}-value</c>).</summary>
    public byte[] Encode<TKey, TValue>(Topic<TKey, TValue> topic, TValue value)
        where TValue : class, ISpecificRecord =>
        Encode(topic.Name, value);

    /// <summary>Decodes a value of <paramref name="topic"/>; throws <see cref="AvroDeserializationException"/> (or an Avro error) on bad input.</summary>
    public TValue Decode<TKey, TValue>(Topic<TKey, TValue> topic, byte[] value, Headers? headers = null)
        where TValue : class, ISpecificRecord =>
        Decode<TValue>(topic.Name, value, headers);

    /// <summary>Encodes a value for the topic named <paramref name="topic"/> (the subject <c>{topic}-value</c>).</summary>
    public byte[] Encode<T>(string topic, T value)
        where T : class, ISpecificRecord =>
        Format<T>().Serialize(value, new SerializationContext(MessageComponentType.Value, topic))!;

    /// <summary>Decodes Avro bytes read from the topic named <paramref name="topic"/>; throws <see cref="AvroDeserializationException"/> (or an Avro error) on bad input.</summary>
    public T Decode<T>(string topic, byte[] value, Headers? headers = null)
        where T : class, ISpecificRecord =>
        Format<T>().Deserialize(value, new SerializationContext(MessageComponentType.Value, topic, headers))!;

    /// <summary>An event on <see cref="Topics.Stream"/>, with the headers consumers filter on.</summary>
    public Outgoing Event(C.GiftCertificateEvent e, string key) =>
        new(Topics.Stream.Name, Topics.Stream.KeyBytes(key), Encode(Topics.Stream, e), new Headers
        {
            { Header.EventType, Utf8(e.eventType) },
            { Header.Channel, Utf8(e.channel.ToString()) },
        }) { Contract = e };

    /// <summary>A certificate's latest state on <see cref="Topics.State"/>.</summary>
    public Outgoing State(C.CertificateState state) =>
        new(Topics.State.Name, Topics.State.KeyBytes(state.certificateId), Encode(Topics.State, state), new Headers { { Header.Channel, Utf8(state.channel.ToString()) } });

    /// <summary>A command's outcome on <see cref="Topics.Replies"/>, addressed to the instance that waits for it.</summary>
    public Outgoing Reply(C.CommandReply reply) =>
        new(Topics.Replies.Name, Topics.Replies.KeyBytes(reply.requestId), Encode(Topics.Replies, reply),
            reply.replyTo is null ? [] : new Headers { { Header.ReplyTo, Utf8(reply.replyTo) } }) { Contract = reply };

    /// <summary>A dead letter on <see cref="Topics.DeadLetter"/>, keyed by the original record's key.</summary>
    public Outgoing DeadLetter(C.DeadLetter letter, byte[]? key) =>
        new(Topics.DeadLetter.Name, Topics.DeadLetter.KeyBytes(key!), Encode(Topics.DeadLetter, letter),
            new Headers { { Header.DeadLetterReason, Utf8(letter.reason.ToString()) } }) { Contract = letter };

    public static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);
}

/// <summary>Header names on the output topics, so consumers can filter without decoding.</summary>
public static class Header
{
    public const string EventType = "event-type";
    public const string Channel = "channel";
    public const string ReplyTo = "reply-to";
    public const string DeadLetterReason = "dead-letter-reason";
}
