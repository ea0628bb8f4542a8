using System.Buffers.Binary;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry.Serdes;
using GcpStreams.SchemaRegistry;
using GcpStreams.Serialization.Tests.Fixtures;

namespace GcpStreams.Serialization.Tests;

/// <summary>
/// Confluent's own Avro serializer and deserializer (the Confluent.Kafka client style, default settings)
/// interoperate with <see cref="AvroWireFormat{T}"/> (which the client library's codec and the Streamiz SerDes use): same wire format, same schema ids.
/// </summary>
public class ConfluentInteropTests : RegistryTest
{
    private static GiftCardIssuedV1 Sample() => new() { CertificateId = "GC-0042", AmountMinor = 1999, Note = null };

    [Test]
    public void Confluents_deserializer_reads_what_the_wire_format_wrote()
    {
        var bytes = new AvroWireFormat<GiftCardIssuedV1>(Registry).Serialize(Sample(), ValueContext);

        var plain = new AvroDeserializer<GiftCardIssuedV1>(Registry).AsSyncOverAsync().Deserialize(bytes, isNull: false, ValueContext);

        Assert.That((plain.CertificateId, plain.AmountMinor, plain.Note), Is.EqualTo(("GC-0042", 1999L, (string?)null)));
    }

    [Test]
    public void Confluents_generic_deserializer_reads_what_the_wire_format_wrote()
    {
        var bytes = new AvroWireFormat<GiftCardIssuedV1>(Registry).Serialize(Sample(), ValueContext);

        var generic = new AvroDeserializer<GenericRecord>(Registry).AsSyncOverAsync().Deserialize(bytes, isNull: false, ValueContext);

        Assert.That(generic.Schema.Fullname, Is.EqualTo("gcp.serialization.test.GiftCardIssued"));
        Assert.That(generic["amountMinor"], Is.EqualTo(1999L));
    }

    [Test]
    public void Confluents_serializer_with_default_settings_writes_the_same_bytes_with_the_same_id()
    {
        var streamiz = new AvroWireFormat<GiftCardIssuedV1>(Registry).Serialize(Sample(), ValueContext)!;

        var plain = new AvroSerializer<GiftCardIssuedV1>(Registry).AsSyncOverAsync().Serialize(Sample(), ValueContext);

        Assert.That(plain, Is.EqualTo(streamiz));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(plain.AsSpan(1, 4)), Is.EqualTo(1));
        Assert.That(Registry.SchemaCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Confluents_serializer_registers_under_the_same_subject_the_wire_format_reads()
    {
        // Confluent 2.16 defaults to the "Associated" strategy: it asks the registry for the topic's associations
        // (none here) and falls back to the Topic strategy.
        var plain = new AvroSerializer<GiftCardIssuedV1>(Registry).AsSyncOverAsync().Serialize(Sample(), ValueContext);

        var back = new AvroWireFormat<GiftCardIssuedV1>(Registry).Deserialize(plain, ValueContext)!;

        Assert.That(back.CertificateId, Is.EqualTo("GC-0042"));
        Assert.That(await Registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { Topic + "-value" }));
    }

    [Test]
    public void An_old_Confluent_consumer_reads_records_an_evolved_wire_format_writer_wrote()
    {
        var v2Bytes = new AvroWireFormat<GiftCardIssuedV2>(Registry)
            .Serialize(new GiftCardIssuedV2 { CertificateId = "GC-7", AmountMinor = 7, Currency = "CHF" }, ValueContext);

        var v1 = new AvroDeserializer<GiftCardIssuedV1>(Registry).AsSyncOverAsync().Deserialize(v2Bytes, isNull: false, ValueContext);

        Assert.That((v1.CertificateId, v1.AmountMinor), Is.EqualTo(("GC-7", 7L)));
    }
}
