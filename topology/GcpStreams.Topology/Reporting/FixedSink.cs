using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace GcpStreams.Topology.Reporting;

/// <summary>
/// A sink to one fixed topic without a stream partitioner, as the topology's own sinks (<c>GcpTopology.StaticSink</c>): the producer's
/// murmur2 of the key decides the partition, without Streamiz asking for the partition count on every record; the topic extractor
/// is Streamiz's own static one (internal, created by reflection; Streamiz is pinned), so the description still names the topic.
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
