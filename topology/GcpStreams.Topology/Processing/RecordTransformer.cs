using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.Topology.Internal;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// Base of every processor here: it turns one input record into any number of <see cref="Outgoing"/> records and forwards
/// them (with their own headers, never the input's). If handling throws, nothing is written but a dead letter with the
/// reason and the source coordinates, and an INVALID_EVENT alert on the stream that says so: bad input never stops the stream.
/// Records of a topic only this service may write (<see cref="Signed"/>) are checked first: one without a valid signature of
/// the command signing key is dead-lettered (UNAUTHENTICATED) and decides nothing. What the processor writes to an internal
/// topic or to the replies is signed on its way out.
/// </summary>
public abstract class RecordTransformer : ITransformer<byte[], byte[], byte[], Outgoing>
{
    private readonly HashSet<string> signedOutputs;

    /// <param name="codec">The Avro codec.</param>
    /// <param name="settings">The topology's settings: the command signing key and the application id. Null only for Streamiz's prototype instance.</param>
    protected RecordTransformer(Codec codec, TopologySettings settings)
    {
        Codec = codec;
        Signer = settings?.Signer()!;
        Internals = settings is null ? null! : new InternalTopics(settings.ApplicationId);
        signedOutputs = settings is null
            ? []
            : new(StringComparer.Ordinal) { Internals.OrderInput.Name, Internals.PoolInput.Name, Internals.CertificateInput.Name, Topics.Replies.Name };
    }

    protected Codec Codec { get; }

    /// <summary>The topology's internal topics (of the application id of the settings).</summary>
    protected InternalTopics Internals { get; }

    /// <summary>Signs what this processor writes to its own topics and checks the signature of what it reads from them.</summary>
    protected RecordSigner Signer { get; }

    protected ProcessorContext<byte[], Outgoing> Context { get; private set; } = null!;

    public virtual void Init(ProcessorContext<byte[], Outgoing> context) => Context = context;

    public Record<byte[], Outgoing>? Process(Record<byte[], byte[]> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var source = SourceOf(record);
        IReadOnlyList<Outgoing> outputs;
        try
        {
            outputs = Signed(source.Topic) && Signer.Verify(source.Topic, record.Key, record.Value, record.Headers) is { IsValid: false } forged
                ? DeadLetter(source, C.DeadLetterReason.UNAUTHENTICATED, forged.Message, record.Headers) // before anything else: no reply, no decision
                : record.Value is { Length: > 0 }
                    ? Handle(record, source)
                    : DeadLetter(source, C.DeadLetterReason.INVALID_CONTENT, "empty record (a tombstone is not an event)", record.Headers);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outputs = DeadLetterFor(source, record.Headers, e);
        }

        Emit(outputs);
        TopologyMetrics.Processed(this, source.Timestamp, outputs);
        return null;
    }

    public virtual void Close()
    {
    }

    /// <summary>
    /// Whether records read from <paramref name="topic"/> must carry a valid signature of the command signing key: by default every
    /// one (the owners read only internal topics, which only the topology writes); the intake says which of its inputs.
    /// </summary>
    protected virtual bool Signed(string topic) => true;

    /// <summary>Decides what to write for one (non-empty, authentic) record. Must not write to stores before it can no longer throw.</summary>
    protected abstract IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source);

    /// <summary>The original record's coordinates and bytes, for a dead letter.</summary>
    protected static SourceRecord SourceOf(Record<byte[], byte[]> record) =>
        new(record.TopicPartitionOffset.Topic, record.TopicPartitionOffset.Partition.Value, record.TopicPartitionOffset.Offset.Value, record.Key, record.Value, record.Timestamp.UnixTimestampMs);

    /// <summary>
    /// Fires the timers of a time index (<see cref="TimeIndex"/>, entries <c>{first}/{second}</c>) due at the wall clock:
    /// for each, <paramref name="decide"/> decides what the timer stands for (at the entry's own time, so a replay decides the
    /// same), its outputs are emitted and the entry is deleted. An entry whose decision fails stays for the next sweep, and
    /// the other timers still fire.
    /// </summary>
    protected void FireDueTimers(IKeyValueStore<string, byte[]> store, string prefix, long wallClockMs, Func<DateTimeOffset, string, string, IReadOnlyList<Outgoing>> decide)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(decide);
        foreach (var key in TimeIndex.Due(store, prefix, wallClockMs))
        {
            var (at, first, second) = TimeIndex.ParsePair(prefix, key);
            try
            {
                Emit(decide(at, first, second));
                store.Delete(key); // done or found nothing to do: the timer is spent either way
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Streamiz.Kafka.Net.Crosscutting.Logger.GetLogger(GetType()).LogError(e, "Could not fire timer {Timer} ({First}, {Second}); it stays for the next sweep", key, first, second);
            }
        }
    }

    protected void Emit(IReadOnlyList<Outgoing> outputs)
    {
        foreach (var output in outputs)
        {
            if (signedOutputs.Contains(output.Topic))
            {
                Signer.Sign(output.Topic, output.Key, output.Value, output.Headers);
            }

            Context.SetHeaders(output.Headers);
            Context.Forward(output.Key!, output);
            TopologyMetrics.Emitted(output);
        }
    }

    /// <summary>
    /// The dead letter of an input record, and the <c>alert</c> INVALID_EVENT that tells the stream's consumers (BI's invalid-event
    /// control, operators) about it: keyed by the record's own key, no certificate or pool, an id derived from the record's coordinates.
    /// </summary>
    protected Outgoing[] DeadLetter(SourceRecord source, C.DeadLetterReason reason, string message, Headers? headers = null) =>
        [Letter(source, reason, message, headers), InvalidEventAlert(source, reason, message)];

    private Outgoing InvalidEventAlert(SourceRecord source, C.DeadLetterReason reason, string message)
    {
        var coordinates = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{source.Topic}/{source.Partition}/{source.Offset}");
        var key = source.Key is { Length: > 0 } k ? System.Text.Encoding.UTF8.GetString(k) : coordinates;
        var subject = new Mapping.EventSubject(key, null, null, Domain.Channel.Unknown, null, 0);
        var alert = Mapping.StreamEvents.Alert(Domain.AlertKind.InvalidEvent, Domain.AlertSeverity.Warning, $"input dead-lettered ({reason}): {message}",
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["sourceTopic"] = source.Topic,
                ["partition"] = source.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["offset"] = source.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["reason"] = reason.ToString(),
            });
        var at = DateTimeOffset.FromUnixTimeMilliseconds(source.Timestamp);
        return Codec.Event(Mapping.StreamEvents.Envelope(subject, Domain.EventTypes.Alert, $"dead-letter:{coordinates}", at, null, 0, alert), key);
    }

    private Outgoing Letter(SourceRecord source, C.DeadLetterReason reason, string message, Headers? headers) =>
        Codec.DeadLetter(new C.DeadLetter
        {
            sourceTopic = source.Topic,
            partition = source.Partition,
            offset = source.Offset,
            key = source.Key,
            value = source.Value,
            reason = reason,
            message = message,
            headers = (headers ?? []).ToDictionary(h => h.Key, h => System.Text.Encoding.UTF8.GetString(h.GetValueBytes() ?? []), StringComparer.Ordinal),
            recordTimestamp = DateTimeOffset.FromUnixTimeMilliseconds(source.Timestamp).UtcDateTime,
        }, source.Key);

    private Outgoing[] DeadLetterFor(SourceRecord source, Headers headers, Exception e) =>
        DeadLetter(source, e switch
        {
            InvalidInputException invalid => invalid.Reason,
            Serialization.AvroDeserializationException or Avro.AvroException => C.DeadLetterReason.UNDECODABLE,
            System.Text.Json.JsonException => C.DeadLetterReason.UNDECODABLE,
            _ => C.DeadLetterReason.PROCESSING_ERROR,
        }, $"{e.GetType().Name}: {e.Message}", headers);
}

/// <summary>Input that decoded but cannot be processed; it goes to the dead-letter topic with <see cref="Reason"/>.</summary>
public sealed class InvalidInputException(C.DeadLetterReason reason, string message) : Exception(message)
{
    public C.DeadLetterReason Reason { get; } = reason;
}
