using System.Buffers.Binary;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace GcpStreams.SchemaRegistry.Tests.Http;

/// <summary>
/// Confluent's Avro serializer and deserializer (default settings of the 2.16 client) through HTTP: the same bytes
/// and schema ids as against the in-process registry directly.
/// </summary>
public class AvroSerDesTests
{
    private const string Topic = "gift-cards";

    private static readonly SerializationContext ValueContext = new(MessageComponentType.Value, Topic);

    private RegistryServer server = null!;

    [SetUp]
    public async Task SetUp() => server = await RegistryServer.StartAsync();

    [TearDown]
    public async Task TearDown() => await server.DisposeAsync();

    private static GenericRecord Card(string id, long amountMinor)
    {
        var record = new GenericRecord((RecordSchema)Avro.Schema.Parse(Schemas.V1));
        record.Add("certificateId", id);
        record.Add("amountMinor", amountMinor);
        return record;
    }

    [Test]
    public async Task A_serializer_over_HTTP_and_a_deserializer_over_another_HTTP_client_share_the_schema_id()
    {
        using var producerClient = server.NewClient();
        using var consumerClient = server.NewClient();

        var bytes = await new AvroSerializer<GenericRecord>(producerClient).SerializeAsync(Card("GC-0042", 1999), ValueContext);
        var back = await new AvroDeserializer<GenericRecord>(consumerClient).DeserializeAsync(bytes, isNull: false, ValueContext);

        Assert.That(bytes[0], Is.EqualTo(0), "Confluent's magic byte");
        var id = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4));
        Assert.That(id, Is.EqualTo((await server.Registry.GetLatestSchemaAsync(Topic + "-value")).Id));
        Assert.That((back["certificateId"], back["amountMinor"]), Is.EqualTo(("GC-0042", 1999L)));
    }

    [Test]
    public async Task Bytes_written_over_HTTP_equal_the_in_process_ones_and_decode_in_process()
    {
        using var httpClient = server.NewClient();

        var overHttp = await new AvroSerializer<GenericRecord>(httpClient).SerializeAsync(Card("GC-7", 7), ValueContext);
        var inProcess = await new AvroSerializer<GenericRecord>(server.Registry).SerializeAsync(Card("GC-7", 7), ValueContext);
        var decoded = await new AvroDeserializer<GenericRecord>(server.Registry).DeserializeAsync(overHttp, isNull: false, ValueContext);

        Assert.That(overHttp, Is.EqualTo(inProcess));
        Assert.That(decoded["certificateId"], Is.EqualTo("GC-7"));
        Assert.That(server.Registry.SchemaCount, Is.EqualTo(1));
    }

    /// <summary>
    /// Every request Confluent's client sends on the ordinary serializer / deserializer path: all the API serves. (The
    /// Streamiz SerDes, with the Topic strategy, sends the registration and the read by id only.)
    /// </summary>
    [Test]
    public async Task The_client_asks_for_associations_then_registers_and_reads_by_id_with_the_subject()
    {
        using var producerClient = server.NewClient();
        using var consumerClient = server.NewClient();

        var bytes = await new AvroSerializer<GenericRecord>(producerClient).SerializeAsync(Card("GC-1", 1), ValueContext);
        await new AvroDeserializer<GenericRecord>(consumerClient).DeserializeAsync(bytes, isNull: false, ValueContext);

        // What Confluent.SchemaRegistry 2.16 sends on the ordinary serializer / deserializer path (the "Associated"
        // subject name strategy asks first, finds none, falls back to the Topic strategy; limit -1 is not sent).
        var associations = "GET /schema-registry/associations/resources/-/gift-cards?resourceType=topic&associationType=value";
        Assert.That(server.Requests, Is.EqualTo(new[]
        {
            associations,
            "POST /schema-registry/subjects/gift-cards-value/versions?normalize=False",
            associations,
            "GET /schema-registry/schemas/ids/1?subject=gift-cards-value",
        }));
    }
}
