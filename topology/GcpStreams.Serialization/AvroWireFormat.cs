using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using Avro.IO;
using System.Net.Http;
using Avro.Generic;
using Avro.Specific;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace GcpStreams.Serialization;

/// <summary>
/// Avro records on the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary body), built on
/// Confluent's <see cref="AvroSerializer{T}"/> and <see cref="AvroDeserializer{T}"/>: bytes are interchangeable with every
/// Confluent client in any language. No Streamiz here: the client library's <c>Codec</c> and the topology's Streamiz SerDes
/// (<c>SchemaRegistryAvroSerDes</c>, a thin adapter) both encode and decode through it.
/// </summary>
/// <typeparam name="T">An <see cref="ISpecificRecord"/> class (generated from .avsc), or <see cref="GenericRecord"/>.</typeparam>
/// <remarks>
/// <para>
/// <see cref="Serialize"/> and <see cref="Deserialize"/> are synchronous (a Streamiz stream thread calls them so): the
/// Confluent serdes are asynchronous and are awaited here with <c>AsSyncOverAsync</c> (safe: Streamiz threads
/// have no synchronization context and Confluent's code never resumes on one). The serializer registers (or
/// looks up) its schema once per subject and then caches the id; the deserializer caches writer schemas by id.
/// After that first call per subject / id, no registry I/O happens. With the in-process registry (embedded mode)
/// nothing ever leaves the process.
/// </para>
/// <para>
/// The fast path: once Confluent's serializer has written a record of <typeparamref name="T"/> to a topic (registering or
/// looking up the schema), later records to that topic are written here directly with the schema id it used, and once a
/// writer schema id has been read through Confluent's deserializer, later records of that id are read here directly —
/// synchronously, on the calling thread, with the same Avro writer and reader: the bytes and the decoded records are the
/// same, without a hop to the thread pool and a schema lookup per record. Only for generated (specific) records with the
/// default strategies (Topic subjects, auto-registration, schema id in the prefix); anything else always goes through
/// Confluent's serdes.
/// </para>
/// <para>
/// Defaults (override them through the configs): schemas are auto-registered (unless
/// <c>UseLatestVersion</c> is set) and subjects follow the Topic strategy (<c>{topic}-key</c> /
/// <c>{topic}-value</c>), for the serializer and the deserializer alike.
/// </para>
/// <para>
/// Null values serialize to null (a tombstone); null or empty bytes deserialize to null. Bytes that are not a
/// decodable payload (too short, wrong magic byte, unknown schema id, undecodable body) throw
/// <see cref="AvroDeserializationException"/>, which the topology routes to a dead-letter topic.
/// </para>
/// </remarks>
public sealed class AvroWireFormat<T>
    where T : class
{
    private const byte MagicByteV0 = 0;
    private const byte MagicByteV1 = 1;
    private const int IdPrefixLength = 5;
    private const int GuidPrefixLength = 17;

    /// <summary>Confluent's error code for an unknown schema id or GUID (HTTP 404), as every registry reports it.</summary>
    private const int SchemaNotFoundErrorCode = 40403;

    private readonly ISerializer<T> serializer;
    private readonly IDeserializer<T> deserializer;
    private readonly bool topicInSubject;
    private readonly bool schemaIdMayBeInHeaders;
    private readonly ISchemaRegistryClient registry;
    private readonly Avro.Schema? specificSchema; // T's own schema, when the fast path is on
    private readonly SpecificDatumWriter<T>? fastWriter;
    private readonly ConcurrentDictionary<(string Topic, MessageComponentType Component), int> writtenIds = new();
    private readonly ConcurrentDictionary<int, SpecificDatumReader<T>> readers = new();

    private long fastWrites;
    private long fastReads;

    [ThreadStatic]
    private static MemoryStream? buffer;

    /// <summary>Creates the format.</summary>
    /// <param name="schemaRegistryClient">
    /// Where schemas are registered and looked up: Confluent's <see cref="CachedSchemaRegistryClient"/> or the
    /// in-process registry (embedded mode). Not disposed here.
    /// </param>
    /// <param name="serializerConfig">
    /// Confluent serializer settings; null for the defaults (auto-register, Topic subject name strategy).
    /// Settings left unset get those defaults too.
    /// </param>
    /// <param name="deserializerConfig">Confluent deserializer settings; unset subject name strategy means Topic.</param>
    public AvroWireFormat(
        ISchemaRegistryClient schemaRegistryClient,
        AvroSerializerConfig? serializerConfig = null,
        AvroDeserializerConfig? deserializerConfig = null)
    {
        ArgumentNullException.ThrowIfNull(schemaRegistryClient);
        if (!typeof(ISpecificRecord).IsAssignableFrom(typeof(T)) && typeof(T) != typeof(GenericRecord))
        {
            throw new NotSupportedException(
                $"{nameof(AvroWireFormat<T>)} supports ISpecificRecord classes and GenericRecord, not {typeof(T).FullName}.");
        }

        SchemaRegistryClient = schemaRegistryClient;
        var serializerSettings = WithSerializerDefaults(serializerConfig);
        var deserializerSettings = WithDeserializerDefaults(deserializerConfig);
        topicInSubject = serializerSettings.SubjectNameStrategy is SubjectNameStrategy.Topic or SubjectNameStrategy.TopicRecord;
        schemaIdMayBeInHeaders = deserializerSettings.SchemaIdStrategy != SchemaIdDeserializerStrategy.Prefix;
        serializer = new AvroSerializer<T>(schemaRegistryClient, serializerSettings).AsSyncOverAsync();
        deserializer = new AvroDeserializer<T>(schemaRegistryClient, deserializerSettings).AsSyncOverAsync();
        registry = schemaRegistryClient;
        // the deserializer's default (Dual) reads an id header when there is one and the prefix otherwise: Deserialize checks for the header
        var defaults = serializerSettings.SubjectNameStrategy == SubjectNameStrategy.Topic && serializerSettings.UseLatestVersion != true
            && serializerSettings.AutoRegisterSchemas == true && serializerSettings.SchemaIdStrategy is null or SchemaIdSerializerStrategy.Prefix
            && deserializerSettings.SubjectNameStrategy == SubjectNameStrategy.Topic && deserializerSettings.UseLatestVersion != true;
        if (defaults && typeof(ISpecificRecord).IsAssignableFrom(typeof(T)))
        {
            specificSchema = ((ISpecificRecord)Activator.CreateInstance(typeof(T))!).Schema;
            fastWriter = new SpecificDatumWriter<T>(specificSchema);
        }
    }

    /// <summary>How many records were written and read on the fast path (for the tests: a fast path that is never taken is a bug).</summary>
    internal (long Writes, long Reads) FastPath => (Interlocked.Read(ref fastWrites), Interlocked.Read(ref fastReads));

    /// <summary>The registry client the format uses.</summary>
    public ISchemaRegistryClient SchemaRegistryClient { get; }

    /// <summary>Serializes a record to the Confluent wire format; null gives null (a tombstone).</summary>
    /// <exception cref="SchemaRegistryException">The registry refused the schema (e.g. 40901: incompatible).</exception>
    public byte[]? Serialize(T? data, SerializationContext context)
    {
        if (data is null)
        {
            return null;
        }

        if (topicInSubject && string.IsNullOrEmpty(context.Topic))
        {
            throw new InvalidOperationException(
                $"Cannot serialize {typeof(T).Name}: the subject name strategy needs a topic and the serialization context has none.");
        }

        if (fastWriter is not null && writtenIds.TryGetValue((context.Topic, context.Component), out var id))
        {
            var stream = buffer ??= new MemoryStream(1024);
            stream.SetLength(0);
            Span<byte> prefix = stackalloc byte[IdPrefixLength];
            prefix[0] = MagicByteV0;
            BinaryPrimitives.WriteInt32BigEndian(prefix[1..], id);
            stream.Write(prefix);
            fastWriter.Write(data, new BinaryEncoder(stream));
            Interlocked.Increment(ref fastWrites);
            return stream.ToArray();
        }

        var bytes = serializer.Serialize(data, context);
        if (fastWriter is not null && bytes is { Length: >= IdPrefixLength } && bytes[0] == MagicByteV0)
        {
            writtenIds.TryAdd((context.Topic, context.Component), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4)));
        }

        return bytes;
    }

    /// <summary>Deserializes Confluent wire-format bytes; null or empty bytes give null.</summary>
    /// <exception cref="AvroDeserializationException">The bytes are not a decodable payload (dead-letter them).</exception>
    public T? Deserialize(byte[]? data, SerializationContext context)
    {
        if (data is null || data.Length == 0)
        {
            return null; // a tombstone
        }

        int? schemaId = null;
        if (!(schemaIdMayBeInHeaders && HasSchemaIdHeader(context)))
        {
            schemaId = ReadPrefix(data, context);
        }

        try
        {
            if (specificSchema is not null && schemaId is { } known && !string.IsNullOrEmpty(context.Topic))
            {
                if (readers.TryGetValue(known, out var reader))
                {
                    Interlocked.Increment(ref fastReads);
                    // a new instance to read into, as Confluent's deserializer does: with none, Avro would look the type up by the schema's name
                    return reader.Read(Activator.CreateInstance<T>(), new BinaryDecoder(new MemoryStream(data, IdPrefixLength, data.Length - IdPrefixLength, writable: false)));
                }

                var first = deserializer.Deserialize(data, isNull: false, context); // the registry checks the id and the body once
                readers.TryAdd(known, new SpecificDatumReader<T>(WriterSchema(known, context), specificSchema));
                return first;
            }

            return deserializer.Deserialize(data, isNull: false, context);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == SchemaNotFoundErrorCode)
        {
            var id = schemaId?.ToString(CultureInfo.InvariantCulture) ?? "(GUID)";
            throw new AvroDeserializationException(
                $"Cannot deserialize {Describe(context)}: schema id {id} is unknown to the schema registry "
                + $"(the record was written against another registry, or its schema was deleted). {e.Message}",
                AvroDeserializationFailure.UnknownSchemaId, context.Topic, context.Component, schemaId, e);
        }
        catch (Exception e) when (IsPermanent(e))
        {
            throw new AvroDeserializationException(
                $"Cannot deserialize {Describe(context)} as {typeof(T).Name}: the Avro body written with schema id "
                + $"{schemaId?.ToString(CultureInfo.InvariantCulture) ?? "(GUID)"} does not decode ({e.GetType().Name}: {e.Message})",
                AvroDeserializationFailure.UndecodablePayload, context.Topic, context.Component, schemaId, e);
        }
    }

    /// <summary>The writer schema of <paramref name="id"/>, asked of the registry as Confluent's deserializer asks it (its client caches it).</summary>
    private Avro.Schema WriterSchema(int id, SerializationContext context)
    {
        var subject = $"{context.Topic}-{(context.Component == MessageComponentType.Key ? "key" : "value")}";
        var schema = registry.GetSchemaBySubjectAndIdAsync(subject, id).ConfigureAwait(false).GetAwaiter().GetResult();
        return Avro.Schema.Parse(schema.SchemaString);
    }

    /// <summary>Checks the wire-format prefix and returns the schema id (null for a GUID prefix).</summary>
    private static int? ReadPrefix(byte[] data, SerializationContext context)
    {
        switch (data[0])
        {
            case MagicByteV0 when data.Length >= IdPrefixLength:
                return BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(1, 4));
            case MagicByteV1 when data.Length >= GuidPrefixLength:
                return null;
            case MagicByteV0:
            case MagicByteV1:
                throw new AvroDeserializationException(
                    $"Cannot deserialize {Describe(context)}: {data.Length} byte(s) is shorter than the Confluent wire-format prefix "
                    + $"(magic byte {data[0]} followed by a {(data[0] == MagicByteV0 ? "4-byte schema id" : "16-byte schema GUID")}).",
                    AvroDeserializationFailure.PayloadTooShort, context.Topic, context.Component, schemaId: null);
            default:
                throw new AvroDeserializationException(
                    $"Cannot deserialize {Describe(context)}: unknown magic byte 0x{data[0]:X2}. Expected 0x00, the Confluent "
                    + "wire format (magic byte 0, 4-byte big-endian schema id, Avro binary): the record was not written by a "
                    + "schema-registry Avro serializer.",
                    AvroDeserializationFailure.InvalidMagicByte, context.Topic, context.Component, schemaId: null);
        }
    }

    private static bool HasSchemaIdHeader(SerializationContext context) =>
        context.Headers is { } headers
        && headers.TryGetLastBytes(
            context.Component == MessageComponentType.Key ? SchemaId.KEY_SCHEMA_ID_HEADER : SchemaId.VALUE_SCHEMA_ID_HEADER,
            out _);

    /// <summary>Registry unreachable, timed out or erroring may succeed on retry: not the record's fault.</summary>
    private static bool IsPermanent(Exception e) =>
        e is not (HttpRequestException or OperationCanceledException or TimeoutException or OutOfMemoryException);

    private static string Describe(SerializationContext context) =>
        $"the {(context.Component == MessageComponentType.Key ? "key" : "value")} of a record"
        + (string.IsNullOrEmpty(context.Topic) ? string.Empty : $" from topic '{context.Topic}'");

    private static AvroSerializerConfig WithSerializerDefaults(AvroSerializerConfig? config)
    {
        var settings = new AvroSerializerConfig();
        foreach (var (key, value) in config ?? [])
        {
            settings.Set(key, value);
        }

        settings.SubjectNameStrategy ??= SubjectNameStrategy.Topic;
        if (settings.UseLatestVersion != true)
        {
            settings.AutoRegisterSchemas ??= true;
        }

        return settings;
    }

    private static AvroDeserializerConfig WithDeserializerDefaults(AvroDeserializerConfig? config)
    {
        var settings = new AvroDeserializerConfig();
        foreach (var (key, value) in config ?? [])
        {
            settings.Set(key, value);
        }

        settings.SubjectNameStrategy ??= SubjectNameStrategy.Topic;
        return settings;
    }
}
