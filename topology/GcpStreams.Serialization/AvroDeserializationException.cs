using Confluent.Kafka;

namespace GcpStreams.Serialization;

/// <summary>Why a record's bytes could not be turned back into a value (all of them are permanent: dead-letter the record).</summary>
public enum AvroDeserializationFailure
{
    /// <summary>Fewer bytes than the Confluent wire-format prefix needs (magic byte and schema id).</summary>
    PayloadTooShort,

    /// <summary>The first byte is not a Confluent wire-format magic byte (0, or 1 for a GUID id).</summary>
    InvalidMagicByte,

    /// <summary>The schema id (or GUID) in the record is unknown to the schema registry.</summary>
    UnknownSchemaId,

    /// <summary>The Avro body does not decode with the writer schema, or the writer schema cannot be resolved against the reader's.</summary>
    UndecodablePayload,
}

/// <summary>
/// A record's bytes are not a decodable Confluent wire-format Avro payload (a "poison pill"). Failures to reach
/// the schema registry are not wrapped in it: they surface as the registry client's own exceptions
/// (<see cref="System.Net.Http.HttpRequestException"/>, timeouts), since retrying later may succeed.
/// </summary>
public sealed class AvroDeserializationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AvroDeserializationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public AvroDeserializationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public AvroDeserializationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with every detail.</summary>
    public AvroDeserializationException(
        string message,
        AvroDeserializationFailure failure,
        string? topic,
        MessageComponentType component,
        int? schemaId,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        Topic = topic;
        Component = component;
        SchemaId = schemaId;
    }

    /// <summary>Why decoding failed.</summary>
    public AvroDeserializationFailure Failure { get; } = AvroDeserializationFailure.UndecodablePayload;

    /// <summary>The topic the bytes came from, when known.</summary>
    public string? Topic { get; }

    /// <summary>Whether the key or the value failed.</summary>
    public MessageComponentType Component { get; } = MessageComponentType.Value;

    /// <summary>The schema id read from the prefix, when there was one.</summary>
    public int? SchemaId { get; }
}
