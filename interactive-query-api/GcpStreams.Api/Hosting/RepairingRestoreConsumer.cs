using Confluent.Kafka;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// A stream thread's restore consumer that repairs each store changelog partition (<see cref="ChangelogRepair"/>) when Streamiz asks
/// for its end, which it does before it restores the partition; everything else is the consumer's own.
/// </summary>
internal sealed class RepairingRestoreConsumer(IConsumer<byte[], byte[]> consumer, ChangelogRepair repair) : IConsumer<byte[], byte[]>
{
    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition topicPartition, TimeSpan timeout)
    {
        var marks = consumer.QueryWatermarkOffsets(topicPartition, timeout);
        return repair.Applies(topicPartition.Topic) ? repair.Repair(topicPartition, marks) : marks;
    }

    public void Dispose()
    {
        consumer.Dispose();
        repair.Dispose();
    }

    public Handle Handle => consumer.Handle;

    public string Name => consumer.Name;

    public string MemberId => consumer.MemberId;

    public List<TopicPartition> Assignment => consumer.Assignment;

    public List<string> Subscription => consumer.Subscription;

    public IConsumerGroupMetadata ConsumerGroupMetadata => consumer.ConsumerGroupMetadata;

    public int AddBrokers(string brokers) => consumer.AddBrokers(brokers);

    public void SetSaslCredentials(string username, string password) => consumer.SetSaslCredentials(username, password);

    public ConsumeResult<byte[], byte[]> Consume(int millisecondsTimeout) => consumer.Consume(millisecondsTimeout);

    public ConsumeResult<byte[], byte[]> Consume(CancellationToken cancellationToken = default) => consumer.Consume(cancellationToken);

    public ConsumeResult<byte[], byte[]> Consume(TimeSpan timeout) => consumer.Consume(timeout);

    public void Subscribe(IEnumerable<string> topics) => consumer.Subscribe(topics);

    public void Subscribe(string topic) => consumer.Subscribe(topic);

    public void Unsubscribe() => consumer.Unsubscribe();

    public void Assign(TopicPartition partition) => consumer.Assign(partition);

    public void Assign(TopicPartitionOffset partition) => consumer.Assign(partition);

    public void Assign(IEnumerable<TopicPartitionOffset> partitions) => consumer.Assign(partitions);

    public void Assign(IEnumerable<TopicPartition> partitions) => consumer.Assign(partitions);

    public void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions) => consumer.IncrementalAssign(partitions);

    public void IncrementalAssign(IEnumerable<TopicPartition> partitions) => consumer.IncrementalAssign(partitions);

    public void IncrementalUnassign(IEnumerable<TopicPartition> partitions) => consumer.IncrementalUnassign(partitions);

    public void Unassign() => consumer.Unassign();

    public void StoreOffset(ConsumeResult<byte[], byte[]> result) => consumer.StoreOffset(result);

    public void StoreOffset(TopicPartitionOffset offset) => consumer.StoreOffset(offset);

    public List<TopicPartitionOffset> Commit() => consumer.Commit();

    public void Commit(IEnumerable<TopicPartitionOffset> offsets) => consumer.Commit(offsets);

    public void Commit(ConsumeResult<byte[], byte[]> result) => consumer.Commit(result);

    public void Seek(TopicPartitionOffset tpo) => consumer.Seek(tpo);

    public void Pause(IEnumerable<TopicPartition> partitions) => consumer.Pause(partitions);

    public void Resume(IEnumerable<TopicPartition> partitions) => consumer.Resume(partitions);

    public List<TopicPartitionOffset> Committed(TimeSpan timeout) => consumer.Committed(timeout);

    public List<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout) => consumer.Committed(partitions, timeout);

    public Offset Position(TopicPartition partition) => consumer.Position(partition);

    public List<TopicPartitionOffset> OffsetsForTimes(IEnumerable<TopicPartitionTimestamp> timestampsToSearch, TimeSpan timeout) =>
        consumer.OffsetsForTimes(timestampsToSearch, timeout);

    public WatermarkOffsets GetWatermarkOffsets(TopicPartition topicPartition) => consumer.GetWatermarkOffsets(topicPartition);

    public void Close() => consumer.Close();
}
