using Confluent.Kafka;
using GcpStreams.SchemaRegistry;

namespace GcpStreams.Serialization.Tests.Fixtures;

/// <summary>A test with a fresh in-process schema registry per test, and the value context of one topic.</summary>
public abstract class RegistryTest
{
    protected const string Topic = "GiftCertificates.Stream";

    protected static readonly SerializationContext ValueContext = new(MessageComponentType.Value, Topic);

    protected InProcessSchemaRegistry Registry { get; private set; } = null!;

    [SetUp]
    public void CreateRegistry() => Registry = new InProcessSchemaRegistry();

    [TearDown]
    public void DisposeRegistry() => Registry.Dispose();
}
