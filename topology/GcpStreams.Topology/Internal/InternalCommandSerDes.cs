using Confluent.Kafka;
using Streamiz.Kafka.Net.SerDes;

namespace GcpStreams.Topology.Internal;

/// <summary>JSON SerDes for the internal command topics (<see cref="CertificateInput"/>, <see cref="PoolInput"/>).</summary>
public sealed class InternalJsonSerDes<T> : AbstractSerDes<T>
    where T : class
{
    public override byte[] Serialize(T data, SerializationContext context) => InternalJson.Serialize(data);

    public override T Deserialize(byte[] data, SerializationContext context) => InternalJson.Deserialize<T>(data);
}
