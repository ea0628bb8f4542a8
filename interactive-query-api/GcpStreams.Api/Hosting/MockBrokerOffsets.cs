using System.Collections.Concurrent;
using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Input offsets that move on the embedded broker under exactly-once (<c>Kafka:CommitOffsetsOutsideTransactions</c>).
/// <para>
/// Under exactly-once, Streamiz commits a stream thread's input offsets inside its transaction (<c>SendOffsetsToTransaction</c>).
/// librdkafka's mock cluster, the embedded broker, answers that request with "no error" and stores nothing (its
/// TxnOffsetCommit handler; pinned by <c>EmbeddedKafkaClusterTests.OffsetsSentToATransaction_AreNotStored_ButAPlainCommitIs</c>),
/// so the consumer group's committed offsets never move: every rebalance and every restart read each input again from the
/// beginning (the deciders recognised every input as applied, but the changelogs grew with each pass until the mock's 5 MiB per
/// partition dropped their oldest records: docs/reliability.md, the finding of the kill phase).
/// </para>
/// <para>
/// This supplier gives each stream thread's transactional producer its thread's consumer: once a transaction has committed, the
/// offsets it carried are committed again by the consumer, outside the transaction (a plain OffsetCommit, which the mock stores).
/// The outputs are committed first, so the committed position never runs ahead of them; an instance that dies between the two
/// reads the last transaction's inputs again, which the deciders recognise. On by default in attached mode only: embedded
/// mode's broker ends with the process, so its offsets are never read back, and a real cluster stores the transaction's
/// offsets itself (this would be a redundant round trip per commit).
/// </para>
/// </summary>
internal sealed class MockBrokerOffsets(IStreamConfig config, ILogger logger) : IKafkaSupplier
{
    private readonly DefaultKafkaClientSupplier inner = new(new KafkaLoggerAdapter(config), config);
    private readonly ConcurrentDictionary<string, IConsumer<byte[], byte[]>> consumers = new(StringComparer.Ordinal);

    public StreamMetricsRegistry MetricsRegistry
    {
        get => inner.MetricsRegistry;
        set => inner.MetricsRegistry = value;
    }

    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener)
    {
        var consumer = inner.GetConsumer(config, rebalanceListener);
        if (ThreadOf(config) is { } thread)
        {
            consumers[thread] = consumer;
        }

        return consumer;
    }

    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config)
    {
        var producer = inner.GetProducer(config);
        if (config.TransactionalId is null)
        {
            return producer;
        }

        // only a stream thread's transactional producer carries input offsets; its consumer is created after it
        var thread = ThreadOf(config) ?? throw new InvalidOperationException(
            $"Kafka:CommitOffsetsOutsideTransactions: the producer {config.ClientId} names no stream thread (Streamiz's StreamizProducerConfig.ThreadId); this Streamiz version is not supported with the setting");
        return new OffsetCommittingProducer(producer, () => consumers.GetValueOrDefault(thread), logger);
    }

    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => inner.GetRestoreConsumer(config);

    public IAdminClient GetAdmin(AdminClientConfig config) => inner.GetAdmin(config);

    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => inner.GetGlobalConsumer(config);

    /// <summary>
    /// The stream thread a client belongs to: Streamiz passes a stream thread's consumer and producer configurations as its own
    /// subclasses (internal) with the thread's id; their client ids differ in more than a suffix.
    /// </summary>
    internal static string? ThreadOf(ClientConfig config) =>
        config.GetType().GetProperty("ThreadId")?.GetValue(config) as string;

    /// <summary>A transactional producer that, after each committed transaction, commits its input offsets by the consumer too.</summary>
    internal sealed class OffsetCommittingProducer(IProducer<byte[], byte[]> producer, Func<IConsumer<byte[], byte[]>?> consumer, ILogger logger)
        : IProducer<byte[], byte[]>
    {
        private List<TopicPartitionOffset>? pending;

        public Handle Handle => producer.Handle;

        public string Name => producer.Name;

        public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout)
        {
            var list = offsets.ToList();
            producer.SendOffsetsToTransaction(list, groupMetadata, timeout);
            (pending ??= []).AddRange(list);
        }

        public void CommitTransaction(TimeSpan timeout)
        {
            producer.CommitTransaction(timeout);
            CommitPending();
        }

        public void CommitTransaction()
        {
            producer.CommitTransaction();
            CommitPending();
        }

        public void AbortTransaction(TimeSpan timeout)
        {
            pending = null;
            producer.AbortTransaction(timeout);
        }

        public void AbortTransaction()
        {
            pending = null;
            producer.AbortTransaction();
        }

        private void CommitPending()
        {
            var offsets = pending;
            pending = null;
            if (offsets is not { Count: > 0 } || consumer() is not { } c)
            {
                return;
            }

            try
            {
                c.Commit(offsets);
            }
            catch (KafkaException e)
            {
                // e.g. the group rebalanced since: the next owner starts from the previous position and the deciders recognise
                // what this transaction applied; nothing is lost
                logger.LogInformation("Committing the offsets of a committed transaction outside it failed ({Reason}); the inputs after the previous commit may be read again", e.Error.Reason);
            }
        }

        public void BeginTransaction() => producer.BeginTransaction();

        public void InitTransactions(TimeSpan timeout) => producer.InitTransactions(timeout);

        public Task<DeliveryResult<byte[], byte[]>> ProduceAsync(string topic, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
            producer.ProduceAsync(topic, message, cancellationToken);

        public Task<DeliveryResult<byte[], byte[]>> ProduceAsync(TopicPartition topicPartition, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
            producer.ProduceAsync(topicPartition, message, cancellationToken);

        public void Produce(string topic, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
            producer.Produce(topic, message, deliveryHandler);

        public void Produce(TopicPartition topicPartition, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
            producer.Produce(topicPartition, message, deliveryHandler);

        public int Poll(TimeSpan timeout) => producer.Poll(timeout);

        public int Flush(TimeSpan timeout) => producer.Flush(timeout);

        public void Flush(CancellationToken cancellationToken = default) => producer.Flush(cancellationToken);

        public int AddBrokers(string brokers) => producer.AddBrokers(brokers);

        public void SetSaslCredentials(string username, string password) => producer.SetSaslCredentials(username, password);

        public void Dispose() => producer.Dispose();
    }
}
