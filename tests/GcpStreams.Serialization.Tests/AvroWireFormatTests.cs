using System.Buffers.Binary;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using GcpStreams.SchemaRegistry;
using GcpStreams.Serialization.Tests.Fixtures;

namespace GcpStreams.Serialization.Tests;

/// <summary>Avro on the Confluent wire format (Confluent's serdes and the fast path), with the in-process registry.</summary>
public class AvroWireFormatTests : RegistryTest
{
    private static GiftCardIssuedV1 Sample() => new() { CertificateId = "GC-0001", AmountMinor = 2500, Note = "birthday" };

    [Test]
    public async Task A_specific_record_round_trips_behind_magic_byte_0_and_the_big_endian_schema_id()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);

        var bytes = serdes.Serialize(Sample(), ValueContext)!;
        var back = serdes.Deserialize(bytes, ValueContext)!;

        var registered = await Registry.GetLatestSchemaAsync(Topic + "-value");
        Assert.That(bytes[0], Is.EqualTo(0), "magic byte");
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4)), Is.EqualTo(registered.Id));
        Assert.That(registered.Id, Is.EqualTo(1));
        Assert.That((back.CertificateId, back.AmountMinor, back.Note), Is.EqualTo(("GC-0001", 2500L, "birthday")));
    }

    [Test]
    public async Task Keys_and_values_use_the_topic_key_and_topic_value_subjects()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);

        serdes.Serialize(Sample(), new SerializationContext(MessageComponentType.Key, Topic));
        serdes.Serialize(Sample(), ValueContext);

        Assert.That(await Registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { Topic + "-key", Topic + "-value" }));
    }

    [Test]
    public void After_the_first_record_the_serializer_no_longer_calls_the_registry()
    {
        var (client, counter) = CountingRegistry.Wrap(Registry);
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(client);
        serdes.Serialize(Sample(), ValueContext);
        var callsAfterFirst = counter.TotalCalls;

        for (var i = 0; i < 100; i++)
        {
            serdes.Serialize(Sample(), ValueContext);
        }

        Assert.That(callsAfterFirst, Is.EqualTo(1), string.Join(", ", counter.Calls));
        Assert.That(counter.TotalCalls, Is.EqualTo(callsAfterFirst), string.Join(", ", counter.Calls));
    }

    [Test]
    public void The_deserializer_only_asks_for_the_writer_schema_by_id()
    {
        // Confluent's deserializer leaves caching schemas by id to the client: CachedSchemaRegistryClient caches
        // them (no I/O after the first record); the in-process registry answers from memory.
        var (client, counter) = CountingRegistry.Wrap(Registry);
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(client);
        var bytes = serdes.Serialize(Sample(), ValueContext);
        counter.Calls.Clear();

        for (var i = 0; i < 10; i++)
        {
            serdes.Deserialize(bytes, ValueContext);
        }

        Assert.That(counter.Calls.Keys, Is.EqualTo(new[] { nameof(ISchemaRegistryClient.GetSchemaBySubjectAndIdAsync) }));
    }

    [Test]
    public void A_reader_with_an_evolved_schema_decodes_bytes_written_with_the_old_one()
    {
        var writer = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var reader = new AvroWireFormat<GiftCardIssuedV2>(Registry);

        var evolved = reader.Deserialize(writer.Serialize(Sample(), ValueContext), ValueContext)!;

        Assert.That((evolved.CertificateId, evolved.AmountMinor, evolved.Note), Is.EqualTo(("GC-0001", 2500L, "birthday")));
        Assert.That(evolved.Currency, Is.EqualTo("EUR"), "the default fills the field the writer did not have");
    }

    [Test]
    public async Task Writing_the_evolved_schema_registers_version_2_and_old_readers_still_read_it()
    {
        var v1 = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var v2 = new AvroWireFormat<GiftCardIssuedV2>(Registry);
        v1.Serialize(Sample(), ValueContext);

        var bytes = v2.Serialize(new GiftCardIssuedV2 { CertificateId = "GC-2", AmountMinor = 1, Currency = "USD" }, ValueContext)!;
        var old = v1.Deserialize(bytes, ValueContext)!;

        Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4)), Is.EqualTo(2));
        Assert.That(await Registry.GetSubjectVersionsAsync(Topic + "-value"), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(old.CertificateId, Is.EqualTo("GC-2"));
    }

    [Test]
    public void Serializing_an_incompatible_schema_fails_with_the_registrys_409()
    {
        new AvroWireFormat<GiftCardIssuedV1>(Registry).Serialize(Sample(), ValueContext);
        var incompatible = new AvroWireFormat<GiftCardIssuedRequiresChannel>(Registry);

        var refusal = Assert.Throws<SchemaRegistryException>(() =>
            incompatible.Serialize(new GiftCardIssuedRequiresChannel { CertificateId = "x", Channel = "web" }, ValueContext));

        Assert.That(refusal!.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.IncompatibleSchema));
    }

    [Test]
    public void Null_and_empty_bytes_deserialize_to_null_and_null_serializes_to_null()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);

        Assert.That(serdes.Deserialize(null, ValueContext), Is.Null);
        Assert.That(serdes.Deserialize([], ValueContext), Is.Null);
        Assert.That(serdes.Serialize(null, ValueContext), Is.Null);
    }

    [Test]
    public void A_wrong_magic_byte_is_refused_with_a_clear_exception()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var bytes = serdes.Serialize(Sample(), ValueContext)!;
        bytes[0] = 5;

        var error = Assert.Throws<AvroDeserializationException>(() => serdes.Deserialize(bytes, ValueContext));

        Assert.That(error!.Failure, Is.EqualTo(AvroDeserializationFailure.InvalidMagicByte));
        Assert.That(error.Message, Does.Contain("unknown magic byte 0x05"));
        Assert.That(error.Message, Does.Contain("topic 'GiftCertificates.Stream'"));
        Assert.That(error.Message, Does.Contain("Confluent wire format"));
        Assert.That((error.Topic, error.Component), Is.EqualTo((Topic, MessageComponentType.Value)));
    }

    [Test]
    public void Plain_json_bytes_are_refused_as_a_wrong_magic_byte()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);

        var error = Assert.Throws<AvroDeserializationException>(() => serdes.Deserialize("{\"id\":1}"u8.ToArray(), ValueContext));

        Assert.That(error!.Failure, Is.EqualTo(AvroDeserializationFailure.InvalidMagicByte));
        Assert.That(error.Message, Does.Contain("0x7B"));
    }

    [Test]
    public void Bytes_shorter_than_the_prefix_are_refused()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);

        var error = Assert.Throws<AvroDeserializationException>(() => serdes.Deserialize([0, 0, 1], ValueContext));

        Assert.That(error!.Failure, Is.EqualTo(AvroDeserializationFailure.PayloadTooShort));
    }

    [Test]
    public void An_unknown_schema_id_is_refused_with_a_clear_exception()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var bytes = serdes.Serialize(Sample(), ValueContext)!;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1, 4), 4242);

        var error = Assert.Throws<AvroDeserializationException>(() => serdes.Deserialize(bytes, ValueContext));

        Assert.That(error!.Failure, Is.EqualTo(AvroDeserializationFailure.UnknownSchemaId));
        Assert.That(error.SchemaId, Is.EqualTo(4242));
        Assert.That(error.Message, Does.Contain("schema id 4242 is unknown to the schema registry"));
        Assert.That(error.InnerException, Is.TypeOf<SchemaRegistryException>());
    }

    [Test]
    public void A_truncated_body_is_refused_as_undecodable()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var bytes = serdes.Serialize(Sample(), ValueContext)!;

        var error = Assert.Throws<AvroDeserializationException>(() => serdes.Deserialize(bytes[..8], ValueContext));

        Assert.That(error!.Failure, Is.EqualTo(AvroDeserializationFailure.UndecodablePayload));
        Assert.That(error.SchemaId, Is.EqualTo(1));
    }

    [Test]
    public void The_fast_path_writes_the_bytes_Confluents_serializer_writes()
    {
        var confluent = new AvroSerializer<GiftCardIssuedV1>(Registry).AsSyncOverAsync();
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var records = Enumerable.Range(0, 50).Select(i => new GiftCardIssuedV1 { CertificateId = $"GC-{i:D4}", AmountMinor = i * 1_000_003L, Note = i % 3 == 0 ? null : new string('n', i) }).ToList();

        serdes.Serialize(Sample(), ValueContext); // the first record goes through Confluent's serializer, the others through the fast path
        foreach (var record in records)
        {
            Assert.That(serdes.Serialize(record, ValueContext), Is.EqualTo(confluent.Serialize(record, ValueContext)), record.CertificateId);
        }

        Assert.That(serdes.FastPath.Writes, Is.EqualTo(records.Count), "every record after the first was written on the fast path");
    }

    [Test]
    public void The_fast_path_reads_what_Confluents_deserializer_reads_also_across_schema_versions()
    {
        var writer = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var sameReader = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var evolvedReader = new AvroWireFormat<GiftCardIssuedV2>(Registry);
        var confluent = new AvroDeserializer<GiftCardIssuedV2>(Registry).AsSyncOverAsync();

        for (var i = 0; i < 5; i++)
        {
            var bytes = writer.Serialize(new GiftCardIssuedV1 { CertificateId = $"GC-{i}", AmountMinor = i, Note = $"n{i}" }, ValueContext)!;
            var same = sameReader.Deserialize(bytes, ValueContext)!;
            var evolved = evolvedReader.Deserialize(bytes, ValueContext)!;
            var expected = confluent.Deserialize(bytes, false, ValueContext);
            Assert.That((same.CertificateId, same.AmountMinor, same.Note), Is.EqualTo(($"GC-{i}", (long)i, $"n{i}")));
            Assert.That((evolved.CertificateId, evolved.AmountMinor, evolved.Note, evolved.Currency),
                Is.EqualTo((expected.CertificateId, expected.AmountMinor, expected.Note, expected.Currency)), "the reader's default fills the new field");
        }

        Assert.That((writer.FastPath.Writes, sameReader.FastPath.Reads, evolvedReader.FastPath.Reads), Is.EqualTo((4L, 4L, 4L)), "all but the first record on the fast path");
    }

    [Test]
    public void A_truncated_body_of_a_known_schema_id_is_still_refused_as_undecodable()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var bytes = serdes.Serialize(Sample(), ValueContext)!;
        serdes.Deserialize(bytes, ValueContext); // the id's reader is cached: the next read takes the fast path

        var error = Assert.Throws<AvroDeserializationException>(() => serdes.Deserialize(bytes[..8], ValueContext));

        Assert.That((error!.Failure, error.SchemaId), Is.EqualTo((AvroDeserializationFailure.UndecodablePayload, (int?)1)));
    }

    [Test]
    public void Many_threads_at_once_each_get_their_own_record_back()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        serdes.Deserialize(serdes.Serialize(Sample(), ValueContext), ValueContext);

        var mismatches = 0;
        Parallel.For(0, 4_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var record = new GiftCardIssuedV1 { CertificateId = $"GC-{i}", AmountMinor = i, Note = new string('x', i % 200) };
            var back = serdes.Deserialize(serdes.Serialize(record, ValueContext), ValueContext)!;
            if (back.CertificateId != record.CertificateId || back.AmountMinor != i || back.Note != record.Note)
            {
                Interlocked.Increment(ref mismatches);
            }
        });

        Assert.That(mismatches, Is.Zero);
    }

    [Test]
    public void Bytes_of_an_unrelated_schema_are_refused_as_undecodable()
    {
        var other = new AvroWireFormat<GenericRecord>(Registry);
        var schema = (Avro.RecordSchema)Avro.Schema.Parse("""{"type":"record","name":"Other","fields":[{"name":"x","type":"int"}]}""");
        var record = new GenericRecord(schema);
        record.Add("x", 1);
        var bytes = other.Serialize(record, new SerializationContext(MessageComponentType.Value, "other"))!;

        var error = Assert.Throws<AvroDeserializationException>(() =>
            new AvroWireFormat<GiftCardIssuedV1>(Registry).Deserialize(bytes, ValueContext));

        Assert.That(error!.Failure, Is.EqualTo(AvroDeserializationFailure.UndecodablePayload));
    }

    [Test]
    public void A_generic_record_round_trips()
    {
        var serdes = new AvroWireFormat<GenericRecord>(Registry);
        var record = new GenericRecord((Avro.RecordSchema)GiftCardIssuedV1.AvroSchema);
        record.Add("certificateId", "GC-9");
        record.Add("amountMinor", 99L);
        record.Add("note", null);

        var back = serdes.Deserialize(serdes.Serialize(record, ValueContext), ValueContext)!;

        Assert.That((back["certificateId"], back["amountMinor"], back["note"]), Is.EqualTo(("GC-9", 99L, (object?)null)));
    }

    [Test]
    public void Types_that_are_not_Avro_records_are_refused_at_construction()
    {
        Assert.Throws<NotSupportedException>(() => _ = new AvroWireFormat<string>(Registry));
    }

    [Test]
    public void Serializing_without_a_topic_under_the_topic_strategy_is_refused()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry);

        Assert.Throws<InvalidOperationException>(() => serdes.Serialize(Sample(), new SerializationContext(MessageComponentType.Value, null)));
    }

    [Test]
    public async Task Configured_strategies_override_the_defaults()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(
            Registry,
            new AvroSerializerConfig { SubjectNameStrategy = Confluent.SchemaRegistry.SubjectNameStrategy.Record });

        serdes.Serialize(Sample(), ValueContext);

        Assert.That(await Registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { "gcp.serialization.test.GiftCardIssued" }));
    }

    [Test]
    public void Auto_registration_can_be_turned_off_then_an_unregistered_schema_is_an_error()
    {
        var serdes = new AvroWireFormat<GiftCardIssuedV1>(Registry, new AvroSerializerConfig { AutoRegisterSchemas = false });

        var error = Assert.Throws<SchemaRegistryException>(() => serdes.Serialize(Sample(), ValueContext));

        Assert.That(error!.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SubjectNotFound));
    }
}
