using Avro;
using Avro.Specific;

namespace GcpStreams.Serialization.Tests.Fixtures;

/// <summary>
/// Hand-written <see cref="ISpecificRecord"/>s: version 1 of <c>gcp.serialization.test.GiftCardIssued</c>, and
/// version 2 that adds <c>currency</c> with a default (a BACKWARD compatible evolution).
/// </summary>
public sealed class GiftCardIssuedV1 : ISpecificRecord
{
    public const string SchemaJson = """
        {"type":"record","name":"GiftCardIssued","namespace":"gcp.serialization.test","fields":[
          {"name":"certificateId","type":"string"},
          {"name":"amountMinor","type":"long"},
          {"name":"note","type":["null","string"],"default":null}
        ]}
        """;

    public static readonly Schema AvroSchema = Schema.Parse(SchemaJson);

    public Schema Schema => AvroSchema;

    public string CertificateId { get; set; } = string.Empty;

    public long AmountMinor { get; set; }

    public string? Note { get; set; }

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => CertificateId,
        1 => AmountMinor,
        2 => Note,
        _ => throw new AvroRuntimeException($"Bad index {fieldPos} in Get()"),
    };

    public void Put(int fieldPos, object? fieldValue)
    {
        switch (fieldPos)
        {
            case 0: CertificateId = (string)fieldValue!; break;
            case 1: AmountMinor = (long)fieldValue!; break;
            case 2: Note = (string?)fieldValue; break;
            default: throw new AvroRuntimeException($"Bad index {fieldPos} in Put()");
        }
    }
}

/// <summary>Version 2: adds <c>currency</c> (default "EUR").</summary>
public sealed class GiftCardIssuedV2 : ISpecificRecord
{
    public const string SchemaJson = """
        {"type":"record","name":"GiftCardIssued","namespace":"gcp.serialization.test","fields":[
          {"name":"certificateId","type":"string"},
          {"name":"amountMinor","type":"long"},
          {"name":"note","type":["null","string"],"default":null},
          {"name":"currency","type":"string","default":"EUR"}
        ]}
        """;

    public static readonly Schema AvroSchema = Schema.Parse(SchemaJson);

    public Schema Schema => AvroSchema;

    public string CertificateId { get; set; } = string.Empty;

    public long AmountMinor { get; set; }

    public string? Note { get; set; }

    public string Currency { get; set; } = string.Empty;

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => CertificateId,
        1 => AmountMinor,
        2 => Note,
        3 => Currency,
        _ => throw new AvroRuntimeException($"Bad index {fieldPos} in Get()"),
    };

    public void Put(int fieldPos, object? fieldValue)
    {
        switch (fieldPos)
        {
            case 0: CertificateId = (string)fieldValue!; break;
            case 1: AmountMinor = (long)fieldValue!; break;
            case 2: Note = (string?)fieldValue; break;
            case 3: Currency = (string)fieldValue!; break;
            default: throw new AvroRuntimeException($"Bad index {fieldPos} in Put()");
        }
    }
}

/// <summary>An incompatible version 3: adds <c>channel</c> without a default.</summary>
public sealed class GiftCardIssuedRequiresChannel : ISpecificRecord
{
    public const string SchemaJson = """
        {"type":"record","name":"GiftCardIssued","namespace":"gcp.serialization.test","fields":[
          {"name":"certificateId","type":"string"},
          {"name":"amountMinor","type":"long"},
          {"name":"note","type":["null","string"],"default":null},
          {"name":"channel","type":"string"}
        ]}
        """;

    public static readonly Schema AvroSchema = Schema.Parse(SchemaJson);

    public Schema Schema => AvroSchema;

    public string CertificateId { get; set; } = string.Empty;

    public long AmountMinor { get; set; }

    public string? Note { get; set; }

    public string Channel { get; set; } = string.Empty;

    public object? Get(int fieldPos) => fieldPos switch
    {
        0 => CertificateId,
        1 => AmountMinor,
        2 => Note,
        3 => Channel,
        _ => throw new AvroRuntimeException($"Bad index {fieldPos} in Get()"),
    };

    public void Put(int fieldPos, object? fieldValue)
    {
        switch (fieldPos)
        {
            case 0: CertificateId = (string)fieldValue!; break;
            case 1: AmountMinor = (long)fieldValue!; break;
            case 2: Note = (string?)fieldValue; break;
            case 3: Channel = (string)fieldValue!; break;
            default: throw new AvroRuntimeException($"Bad index {fieldPos} in Put()");
        }
    }
}
