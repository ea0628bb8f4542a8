using Confluent.Kafka;
using GcpStreams.Client;
using Streamiz.Kafka.Net.SerDes;

namespace GcpStreams.Topology;

/// <summary>Sink value SerDes for <see cref="Outgoing"/>: the bytes were produced by the processor.</summary>
public sealed class OutgoingSerDes : AbstractSerDes<Outgoing>
{
    public override byte[]? Serialize(Outgoing data, SerializationContext context) => data?.Value;

    public override Outgoing Deserialize(byte[] data, SerializationContext context) =>
        throw new NotSupportedException("Outgoing records are only written.");
}
