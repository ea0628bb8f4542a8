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
/// Encodes and decodes the Avro contracts on the Confluent wire format through one schema registry client,
/// and builds the outgoing records of each output topic.
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

    public byte[] Encode<T>(string topic, T value)
        where T : class, ISpecificRecord =>
        Format<T>().Serialize(value, new SerializationContext(MessageComponentType.Value, topic))!;

    /// <summary>Decodes Avro bytes; throws <see cref="AvroDeserializationException"/> (or an Avro error) on bad input.</summary>
    public T Decode<T>(string topic, byte[] value, Headers? headers = null)
        where T : class, ISpecificRecord =>
        Format<T>().Deserialize(value, new SerializationContext(MessageComponentType.Value, topic, headers))!;

    public Outgoing Event(C.GiftCertificateEvent e, string key) =>
        new(Topics.Stream, Utf8(key), Encode(Topics.Stream, e), new Headers
        {
            { Header.EventType, Utf8(e.eventType) },
            { Header.Channel, Utf8(e.channel.ToString()) },
        }) { Contract = e };

    public Outgoing State(C.CertificateState state) =>
        new(Topics.State, Utf8(state.certificateId), Encode(Topics.State, state), new Headers { { Header.Channel, Utf8(state.channel.ToString()) } });

    public Outgoing Reply(C.CommandReply reply) =>
        new(Topics.Replies, Utf8(reply.requestId), Encode(Topics.Replies, reply), reply.replyTo is null ? [] : new Headers { { Header.ReplyTo, Utf8(reply.replyTo) } }) { Contract = reply };

    public Outgoing DeadLetter(C.DeadLetter letter, byte[]? key) =>
        new(Topics.DeadLetter, key, Encode(Topics.DeadLetter, letter), new Headers { { Header.DeadLetterReason, Utf8(letter.reason.ToString()) } }) { Contract = letter };

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
