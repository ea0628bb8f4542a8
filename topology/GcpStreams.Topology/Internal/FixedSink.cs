using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// A sink to one fixed topic without a stream partitioner, for every sink of the topology. Streamiz's <c>To(topic, ...)</c> always
/// attaches its default partitioner, which answers "any partition" (the producer's murmur2 of the key decides) but first asks the
/// producer for the topic's partition count, rebuilding an admin configuration and reading the local clock, on every record (8 % of
/// the stream thread in the profile of docs/benchmarks.md). Without a partitioner the producer decides directly: the same partition.
/// The topic extractor is Streamiz's own static one (internal, hence created by reflection; Streamiz is pinned and every topology
/// test builds through here), so the topology's description still names each sink's topic (<see cref="TopologyTopics"/>). The
/// output record's timestamp is the input record's, as with <c>To(topic, ...)</c>.
/// </summary>
internal static class FixedSink
{
    public static void To<TKey, TValue>(IKStream<TKey, TValue> stream, string topic, ISerDes<TKey> keySerDes, ISerDes<TValue> valueSerDes, string named)
    {
        var extractor = (ITopicNameExtractor<TKey, TValue>)Activator.CreateInstance(
            typeof(IKStream<,>).Assembly.GetType("Streamiz.Kafka.Net.Processors.Internal.StaticTopicNameExtractor`2", throwOnError: true)!
                .MakeGenericType(typeof(TKey), typeof(TValue)), topic)!;
        stream.To(extractor, keySerDes, valueSerDes, new RecordTime<TKey, TValue>(), partitioner: null, named);
    }

    /// <summary>The output record's timestamp is the input record's.</summary>
    private sealed class RecordTime<TKey, TValue> : IRecordTimestampExtractor<TKey, TValue>
    {
        public long Extract(TKey key, TValue value, IRecordContext recordContext) => recordContext.Timestamp;
    }
}
