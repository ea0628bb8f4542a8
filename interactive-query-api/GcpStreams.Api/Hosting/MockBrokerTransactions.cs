using System.Collections.Concurrent;
using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// What exactly-once needs from a broker and the embedded one (librdkafka's mock cluster) does not do, done by the service's Kafka
/// clients instead (<c>Kafka:CommitOffsetsOutsideTransactions</c>; on by default in attached mode only).
/// <para>
/// <b>Input offsets.</b> Streamiz commits a stream thread's input offsets inside its transaction (<c>SendOffsetsToTransaction</c>).
/// The mock answers that request with "no error" and stores nothing (its TxnOffsetCommit handler; pinned by
/// <c>EmbeddedKafkaClusterTests.OffsetsSentToATransaction_AreNotStored_ButAPlainCommitIs</c>), so the group's committed offsets
/// never moved: every rebalance and restart read each input again from the beginning (docs/reliability.md). Each stream thread's
/// transactional producer is given its thread's consumer: once a transaction has committed, the offsets it carried are committed
/// again by the consumer, outside the transaction (a plain OffsetCommit, which the mock stores).
/// </para>
/// <para>
/// <b>Committed changelog ends.</b> The mock does not hide the records of a transaction that never committed (it does not enforce
/// <c>read_committed</c>): after a <c>kill -9</c> the next owner of a task would restore the killed instance's unfinished writes
/// — a store one decision ahead of the outputs that reached the broker (the kill phase's finding, docs/reliability.md). So the same
/// plain commit also records, for each store changelog partition the transaction wrote, where its writes end (the group's
/// committed offset of that changelog partition). Before a changelog is restored, the restore consumer compares the partition's
/// end with that mark; records past it are writes of a transaction that never committed, and <see cref="ChangelogRepair"/>
/// appends the committed value (or a tombstone) of every key they touched, so the restore ends in the committed state, the inputs
/// after the committed offsets are read again and decided again, as on a real cluster.
/// </para>
/// <para>
/// The outputs are committed first, so the committed position never runs ahead of them; an instance that dies between the two
/// reads the last transaction's inputs again against a store set back to before it, and produces the same outputs again (the same
/// event ids: consumers on the embedded broker see such a copy, as they see the records of aborted transactions).
/// </para>
/// <para>
/// <b>A plain commit that fails</b> (typically "rebalance in progress") leaves its transaction's input offsets and changelog ends
/// uncommitted, while the stores keep its writes. The next plain commit carries only its own transaction's offsets: committed
/// alone, it could move a changelog's end past the failed transaction's writes while that transaction's inputs stay uncommitted —
/// the next restore would then keep a store that had applied inputs which are read again (the kill phase's <c>DUPLICATE_EVENT</c>
/// alerts and State one sequence ahead). So the offsets of a failed commit are kept and committed with the next one (each
/// partition's furthest offset): what the group holds is always the position after a prefix of the committed transactions, inputs
/// and changelog ends together.
/// </para>
/// <para>
/// The refusals come from rebalances: the embedded broker refuses every commit from the moment a member (re)joins until all have
/// their new assignment, so Streamiz's commit of the revoked tasks is refused too. Given up there, the next owner of a task would
/// restore to the last mark — reverting <i>committed</i> transactions — and decide their inputs again; outputs it writes again
/// then land after what other tasks wrote since (a pool's State record of a reservation after the certificate's issue: the
/// 2 December run). So kept offsets survive the revocation and are committed as the first thing of the next assignment (Streamiz's
/// range assignor is eager: every partition is revoked, nothing is processed until then), with the new generation, before
/// Streamiz builds its tasks and before any member fetches its positions or restores (each does that after its own assignment
/// callback; the broker answers every member's SyncGroup at once). Should that commit be refused (yet another rebalance), or the
/// partitions be lost, they are given up: the tasks are restored to the last mark and their inputs decided again.
/// </para>
/// <para>
/// Off in embedded
/// mode (broker and stream start and end together, so nothing is read back) and in cluster mode (a real broker stores a
/// transaction's offsets itself and hides what never committed).
/// </para>
/// </summary>
internal sealed class MockBrokerTransactions(IStreamConfig config, ILogger logger) : IKafkaSupplier
{
    private readonly DefaultKafkaClientSupplier inner = new(new KafkaLoggerAdapter(config), config);
    private readonly IStreamConfig stream = config;
    private readonly ConcurrentDictionary<string, IConsumer<byte[], byte[]>> consumers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TransactionalProducer> producers = new(StringComparer.Ordinal);

    public StreamMetricsRegistry MetricsRegistry
    {
        get => inner.MetricsRegistry;
        set => inner.MetricsRegistry = value;
    }

    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener)
    {
        var thread = ThreadOf(config);
        var listener = thread is null || rebalanceListener is null
            ? rebalanceListener
            : new KeptOffsetsListener(rebalanceListener, () => producers.GetValueOrDefault(thread));
        var consumer = inner.GetConsumer(config, listener);
        if (thread is not null)
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
        // Streamiz makes a new one after a lost rebalance (ResetProducer): the thread's latest is the one its rebalances concern
        return producers[thread] = new TransactionalProducer(
            producer, () => consumers.GetValueOrDefault(thread), topic => Topology.InternalTopics.IsChangelog(stream.ApplicationId, topic), logger);
    }

    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) =>
        new RepairingRestoreConsumer(inner.GetRestoreConsumer(config), new ChangelogRepair(stream.BootstrapServers, stream.ApplicationId, logger));

    public IAdminClient GetAdmin(AdminClientConfig config) => inner.GetAdmin(config);

    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => inner.GetGlobalConsumer(config);

    /// <summary>
    /// The stream thread a client belongs to: Streamiz passes a stream thread's consumer and producer configurations as its own
    /// subclasses (internal) with the thread's id; their client ids differ in more than a suffix.
    /// </summary>
    internal static string? ThreadOf(ClientConfig config) =>
        config.GetType().GetProperty("ThreadId")?.GetValue(config) as string;

    /// <summary>
    /// A stream thread's rebalance listener that commits the offsets its producer kept (commits refused during the rebalance) as
    /// the first thing of the next assignment, before Streamiz's own handling, and gives them up when the partitions are lost.
    /// </summary>
    internal sealed class KeptOffsetsListener(IConsumerRebalanceListener inner, Func<TransactionalProducer?> producer) : IConsumerRebalanceListener
    {
        public void PartitionsAssigned(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
        {
            producer()?.CommitKeptOffsets(consumer);
            inner.PartitionsAssigned(consumer, partitions);
        }

        public void PartitionsRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions) =>
            inner.PartitionsRevoked(consumer, partitions); // Streamiz commits the revoked tasks: the kept offsets go with it, if accepted

        public void PartitionsLost(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
        {
            try
            {
                inner.PartitionsLost(consumer, partitions);
            }
            finally
            {
                producer()?.ForgetKeptOffsets();
            }
        }
    }

    /// <summary>
    /// A transactional producer that, after each committed transaction, commits by the consumer its input offsets and, for every store
    /// changelog partition it wrote, the offset after its last write there — with the offsets of earlier committed transactions whose
    /// commit was refused.
    /// </summary>
    internal sealed class TransactionalProducer(
        IProducer<byte[], byte[]> producer, Func<IConsumer<byte[], byte[]>?> consumer, Func<string, bool> isChangelog, ILogger logger)
        : IProducer<byte[], byte[]>
    {
        /// <summary>How long a commit waits for the delivery reports of its changelog writes (they are in once the commit returns).</summary>
        private static readonly TimeSpan ReportsTimeout = TimeSpan.FromSeconds(10);

        private readonly object gate = new();
        private readonly Dictionary<TopicPartition, long> changelogEnds = [];
        private readonly object keptGate = new();

        /// <summary>Offsets of committed transactions the consumer has not committed yet (each partition's furthest).</summary>
        private readonly Dictionary<TopicPartition, long> kept = [];

        /// <summary>A committed transaction's changelog ends are unknown: nothing is committed outside transactions until the next assignment.</summary>
        private bool endsUnknown;
        private int transaction;
        private int unreported;
        private bool offsetUnknown;
        private List<TopicPartitionOffset>? pending;

        public Handle Handle => producer.Handle;

        public string Name => producer.Name;

        public void BeginTransaction()
        {
            NextTransaction();
            producer.BeginTransaction();
        }

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
            NextTransaction();
            producer.AbortTransaction(timeout);
        }

        public void AbortTransaction()
        {
            NextTransaction();
            producer.AbortTransaction();
        }

        public void Produce(string topic, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null)
        {
            if (!isChangelog(topic))
            {
                producer.Produce(topic, message, deliveryHandler);
                return;
            }

            var sent = Sending();
            Tracked(sent, () => producer.Produce(topic, message, Reported(sent, deliveryHandler)));
        }

        public void Produce(TopicPartition topicPartition, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null)
        {
            if (!isChangelog(topicPartition.Topic))
            {
                producer.Produce(topicPartition, message, deliveryHandler);
                return;
            }

            var sent = Sending();
            Tracked(sent, () => producer.Produce(topicPartition, message, Reported(sent, deliveryHandler)));
        }

        public Task<DeliveryResult<byte[], byte[]>> ProduceAsync(string topic, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
            isChangelog(topic) ? TrackedAsync(producer.ProduceAsync(topic, message, cancellationToken)) : producer.ProduceAsync(topic, message, cancellationToken);

        public Task<DeliveryResult<byte[], byte[]>> ProduceAsync(TopicPartition topicPartition, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
            isChangelog(topicPartition.Topic)
                ? TrackedAsync(producer.ProduceAsync(topicPartition, message, cancellationToken))
                : producer.ProduceAsync(topicPartition, message, cancellationToken);

        public int Poll(TimeSpan timeout) => producer.Poll(timeout);

        public int Flush(TimeSpan timeout) => producer.Flush(timeout);

        public void Flush(CancellationToken cancellationToken = default) => producer.Flush(cancellationToken);

        public void InitTransactions(TimeSpan timeout) => producer.InitTransactions(timeout);

        public int AddBrokers(string brokers) => producer.AddBrokers(brokers);

        public void SetSaslCredentials(string username, string password) => producer.SetSaslCredentials(username, password);

        public void Dispose() => producer.Dispose();

        /// <summary>A new transaction (begun or the last one aborted): the reports of earlier writes no longer count.</summary>
        private void NextTransaction()
        {
            pending = null;
            lock (gate)
            {
                transaction++;
                changelogEnds.Clear();
                unreported = 0;
                offsetUnknown = false;
            }
        }

        /// <summary>A changelog write of the current transaction is being sent; its transaction's number.</summary>
        private int Sending()
        {
            lock (gate)
            {
                unreported++;
                return transaction;
            }
        }

        /// <summary>The delivery of a changelog write of transaction <paramref name="sent"/>: where its partition's writes now end.</summary>
        private void Delivered(int sent, TopicPartitionOffset? written)
        {
            lock (gate)
            {
                if (sent != transaction)
                {
                    return; // a late report of an aborted transaction
                }

                if (written is { Offset.Value: >= 0 })
                {
                    changelogEnds[written.TopicPartition] = Math.Max(changelogEnds.GetValueOrDefault(written.TopicPartition), written.Offset.Value + 1);
                }
                else if (written is not null)
                {
                    offsetUnknown = true; // delivered without an offset: where this transaction's writes end is unknown
                }

                unreported--;
                Monitor.PulseAll(gate);
            }
        }

        private Action<DeliveryReport<byte[], byte[]>> Reported(int sent, Action<DeliveryReport<byte[], byte[]>>? handler) => report =>
        {
            Delivered(sent, report.Error.IsError ? null : report.TopicPartitionOffset);
            handler?.Invoke(report);
        };

        private void Tracked(int sent, Action produce)
        {
            try
            {
                produce();
            }
            catch
            {
                Delivered(sent, null); // never sent: no report will come
                throw;
            }
        }

        private async Task<DeliveryResult<byte[], byte[]>> TrackedAsync(Task<DeliveryResult<byte[], byte[]>> delivery)
        {
            var sent = Sending();
            try
            {
                var result = await delivery.ConfigureAwait(false);
                Delivered(sent, result.TopicPartitionOffset);
                return result;
            }
            catch
            {
                Delivered(sent, null);
                throw;
            }
        }

        /// <summary>Where the committed transaction's changelog writes end; null if their reports did not all come, or one came without an offset.</summary>
        private List<TopicPartitionOffset>? CommittedChangelogEnds()
        {
            var deadline = DateTime.UtcNow + ReportsTimeout;
            lock (gate)
            {
                while (unreported > 0)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    Monitor.Wait(gate, left);
                }

                return offsetUnknown ? null : [.. changelogEnds.Select(e => new TopicPartitionOffset(e.Key, e.Value))];
            }
        }

        /// <summary>The partitions were lost: their next owners restore them to the group's position; the kept offsets are given up.</summary>
        public void ForgetKeptOffsets()
        {
            lock (keptGate)
            {
                ClearKept();
            }
        }

        /// <summary>
        /// At an assignment, before anything is processed, fetched or restored: commits the kept offsets with the new generation; if
        /// that is refused too, they are given up (whoever owns the partitions now decides their inputs again from the last mark).
        /// </summary>
        public void CommitKeptOffsets(IConsumer<byte[], byte[]> consumer)
        {
            lock (keptGate)
            {
                try
                {
                    if (!endsUnknown && kept.Count > 0)
                    {
                        consumer.Commit(KeptList());
                        logger.LogInformation("Committed the offsets of {Partitions} partition(s) kept since a refused commit, at the new assignment", kept.Count);
                    }
                }
                catch (KafkaException e)
                {
                    logger.LogWarning("Committing the offsets kept since a refused commit failed at the new assignment too ({Reason}); their tasks are restored to the last commit and their inputs decided again", e.Error.Reason);
                }
                finally
                {
                    ClearKept();
                }
            }
        }

        /// <summary>The kept offsets as a commit takes them (call under <see cref="keptGate"/>).</summary>
        private List<TopicPartitionOffset> KeptList() => [.. kept.Select(k => new TopicPartitionOffset(k.Key, k.Value))];

        /// <summary>Nothing kept any more, and commits outside transactions allowed again (call under <see cref="keptGate"/>).</summary>
        private void ClearKept()
        {
            kept.Clear();
            endsUnknown = false;
        }

        private void CommitPending()
        {
            var inputs = pending;
            pending = null;
            var changelogs = CommittedChangelogEnds();
            lock (keptGate)
            {
                if (changelogs is null)
                {
                    // where the changelog writes end is unknown, so no later commit may carry this transaction's inputs (nor move a
                    // changelog's end past its writes) until the next assignment, whose restores set them back to the last commit
                    logger.LogWarning("The delivery reports of a committed transaction's changelog writes did not all come within {Timeout}, or one came without an offset; no offsets are committed outside transactions until the next assignment", ReportsTimeout);
                    endsUnknown = true;
                }

                if (endsUnknown)
                {
                    return;
                }

                foreach (var offset in (inputs ?? []).Concat(changelogs!))
                {
                    kept[offset.TopicPartition] = Math.Max(kept.GetValueOrDefault(offset.TopicPartition), offset.Offset.Value);
                }

                if (kept.Count == 0 || consumer() is not { } c)
                {
                    return;
                }

                try
                {
                    c.Commit(KeptList());
                    kept.Clear();
                }
                catch (KafkaException e)
                {
                    // a rebalance in progress: committed with the next transaction's offsets or at the next assignment
                    logger.LogInformation("Committing the offsets of a committed transaction outside it failed ({Reason}); they are committed with the next transaction's or at the next assignment", e.Error.Reason);
                }
            }
        }
    }
}
