using Confluent.Kafka;
using GcpStreams.SchemaRegistry;
using GcpStreams.Serialization;
using GcpStreams.Serialization.Tests.Fixtures;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// The Streamiz SerDes, a thin adapter over the wire format (whose own tests are in GcpStreams.Serialization.Tests), in a
/// Streamiz topology with the in-process registry.
/// </summary>
public class SchemaRegistryAvroSerDesTests : RegistryTest
{
    private static GiftCardIssuedV1 Sample() => new() { CertificateId = "GC-0001", AmountMinor = 2500, Note = "birthday" };

    [Test]
    public void It_delegates_to_the_wire_format_tombstones_included()
    {
        var format = new AvroWireFormat<GiftCardIssuedV1>(Registry);
        var serdes = new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(format);

        var bytes = serdes.Serialize(Sample(), ValueContext)!;

        Assert.That(serdes.Format, Is.SameAs(format));
        Assert.That(bytes, Is.EqualTo(format.Serialize(Sample(), ValueContext)));
        Assert.That(serdes.Deserialize(bytes, ValueContext).CertificateId, Is.EqualTo("GC-0001"));
        Assert.That(serdes.Deserialize(null, ValueContext), Is.Null);
        Assert.That(serdes.Deserialize([], ValueContext), Is.Null);
        Assert.That(serdes.Serialize(null, ValueContext), Is.Null);
        Assert.That(serdes.SerializeObject(null, ValueContext), Is.Null);
    }

    [Test]
    public void Streamiz_runs_a_topology_with_the_serdes()
    {
        var config = new StreamConfig<StringSerDes, StringSerDes> { ApplicationId = "serdes-test" };
        var builder = new StreamBuilder();
        builder.Stream(Topic, new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(Registry))
            .MapValues((v, _) => new GiftCardIssuedV2 { CertificateId = v.CertificateId, AmountMinor = v.AmountMinor * 2, Note = v.Note, Currency = "GBP" })
            .To("GiftCertificates.Doubled", new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV2>(Registry));
        using var driver = new TopologyTestDriver(builder.Build(), config);
        var input = driver.CreateInputTopic(Topic, new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(Registry));
        var output = driver.CreateOutputTopic("GiftCertificates.Doubled", TimeSpan.FromSeconds(1), new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV2>(Registry));

        input.PipeInput("GC-0001", Sample());
        var result = output.ReadKeyValue();

        Assert.That(result.Message.Key, Is.EqualTo("GC-0001"));
        Assert.That((result.Message.Value.AmountMinor, result.Message.Value.Currency), Is.EqualTo((5000L, "GBP")));
    }

    [Test]
    public void Streamiz_hands_a_poison_pill_to_the_deserialization_exception_handler()
    {
        var seen = new List<Exception>();
        var config = new StreamConfig<StringSerDes, StringSerDes>
        {
            ApplicationId = "serdes-poison-test",
            DeserializationExceptionHandler = (_, _, e) =>
            {
                seen.Add(e);
                return ExceptionHandlerResponse.CONTINUE;
            },
        };
        var builder = new StreamBuilder();
        builder.Stream(Topic, new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(Registry))
            .To("GiftCertificates.Copy", new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(Registry));
        using var driver = new TopologyTestDriver(builder.Build(), config);
        var raw = driver.CreateInputTopic(Topic, new StringSerDes(), new ByteArraySerDes());
        var output = driver.CreateOutputTopic("GiftCertificates.Copy", TimeSpan.FromSeconds(1), new StringSerDes(), new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(Registry));

        raw.PipeInput("bad", "not avro"u8.ToArray());
        raw.PipeInput("good", new SchemaRegistryAvroSerDes<GiftCardIssuedV1>(Registry).Serialize(Sample(), ValueContext));

        // Streamiz 1.8.2 (TopologyTestDriver) calls the handler twice for the one bad record: a handler that
        // dead-letters must be idempotent (e.g. key the dead letter by topic/partition/offset).
        Assert.That(seen, Is.Not.Empty);
        Assert.That(seen, Is.All.TypeOf<AvroDeserializationException>());
        Assert.That(seen.Cast<AvroDeserializationException>().Select(e => e.Failure), Is.All.EqualTo(AvroDeserializationFailure.InvalidMagicByte));
        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "good" }));
    }
}
