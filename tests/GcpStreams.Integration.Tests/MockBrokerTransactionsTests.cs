using System.Text;
using Confluent.Kafka;
using GcpStreams.Api.Hosting;
using GcpStreams.Embedded;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The kill phase's finding of 30 November 2026 (docs/reliability.md): the embedded broker shows the writes of a transaction that
/// never committed, so the next owner of a task restored a store one decision ahead of the outputs. The service's clients on the
/// embedded broker (<see cref="MockBrokerTransactions"/>) record where each changelog partition's committed writes end and set a
/// changelog back to them before it is restored. Driven here the way Streamiz drives its clients: a stream thread's consumer and
/// transactional producer, then a restore consumer asked for the partition's end before it reads it.
/// </summary>
public class MockBrokerTransactionsTests
{
    private const string App = "it-mbt";
    private const string Changelog = App + "-ledger-changelog";
    private const string Input = App + "-input";
    private static readonly TopicPartition Ledger = new(Changelog, 0);

    [Test]
    public void A_store_changelog_restores_to_its_committed_writes_after_an_instance_died_in_the_middle_of_a_transaction()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic(Changelog, partitions: 1);
        cluster.CreateTopic(Input, partitions: 1);
        var clients = new MockBrokerTransactions(new StreamConfig { ApplicationId = App, BootstrapServers = cluster.BootstrapServers }, NullLogger.Instance);

        using (var thread = new StreamThread(clients, cluster, "t1"))
        {
            thread.Commit(inputOffset: 7, ("a", "a1"), ("b", "b1"), ("c", "c1"));

            Assert.That(Committed(cluster, Input), Is.EqualTo(7), "the transaction's input offset, committed again outside it");
            Assert.That(Committed(cluster, Changelog), Is.EqualTo(3), "where the changelog's committed writes end");

            thread.Producer.BeginTransaction();
            Put(thread.Producer, "a", "a2");
            Put(thread.Producer, "d", "d1");
            Put(thread.Producer, "b", null);
            thread.Producer.Flush(Kafka.Timeout);
            // the instance is killed here: the transaction never commits
        }

        var end = End(cluster);
        Assert.That(Fold(cluster, to: end), Is.EqualTo(new Dictionary<string, string> { ["a"] = "a2", ["c"] = "c1", ["d"] = "d1" }),
            "the embedded broker shows the unfinished transaction's writes: restored as they are, the store would be a decision ahead");

        using (var restore = clients.GetRestoreConsumer(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = App + "-restore" }))
        {
            var repaired = restore.QueryWatermarkOffsets(Ledger, Kafka.Timeout).High.Value;
            Assert.That(repaired, Is.EqualTo(end + 3), "a, b and d set back: a1, b1 and a tombstone for d");
            Assert.That(Fold(cluster, to: repaired), Is.EqualTo(CommittedWrites), "restored, the store holds the committed writes");

            var again = restore.QueryWatermarkOffsets(Ledger, Kafka.Timeout).High.Value;
            Assert.That(again, Is.EqualTo(repaired + 3), "restored again before the next owner commits: set back again");
            Assert.That(Fold(cluster, to: again), Is.EqualTo(CommittedWrites));
        }

        using (var thread = new StreamThread(clients, cluster, "t2"))
        {
            thread.Commit(inputOffset: 9, ("a", "a2"), ("e", "e1")); // the next owner decides the inputs after the committed offset again
        }

        Assert.That(Committed(cluster, Input), Is.EqualTo(9));
        var final = End(cluster);
        Assert.That(Committed(cluster, Changelog), Is.InRange(final - 1, final), "the committed end: after the last record (the broker may add its marker after it)");
        using (var restore = clients.GetRestoreConsumer(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = App + "-restore" }))
        {
            Assert.That(restore.QueryWatermarkOffsets(Ledger, Kafka.Timeout).High.Value, Is.EqualTo(final), "nothing past the committed end: restored as it is");
        }

        Assert.That(Fold(cluster, to: final), Is.EqualTo(new Dictionary<string, string> { ["a"] = "a2", ["b"] = "b1", ["c"] = "c1", ["e"] = "e1" }),
            "the repair stays in the middle of the changelog and every later restore passes it");
    }

    /// <summary>
    /// The kill phase's findings of 2 December 2026: a plain commit refused during a rebalance left its transaction's input offsets
    /// uncommitted, and the next commit, carrying its own offsets only, moved the changelog's committed end past the refused
    /// transaction's writes (a store that had applied inputs read again: <c>DUPLICATE_EVENT</c>, State one sequence ahead); and,
    /// given up at the revocation, the refused offsets made the next owner revert committed transactions and write their outputs
    /// again after newer ones of other tasks (a certificate's State back to RESERVED after its issue).
    /// </summary>
    [Test]
    public void A_refused_commit_outside_the_transaction_is_carried_by_the_next_commit_or_the_next_assignment()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic(Changelog, partitions: 1);
        cluster.CreateTopic(Input, partitions: 2);
        var clients = new MockBrokerTransactions(new StreamConfig { ApplicationId = App, BootstrapServers = cluster.BootstrapServers }, NullLogger.Instance);
        var streamiz = new RecordingListener();
        using var thread = new StreamThread(clients, cluster, "t1", streamiz);

        thread.Commit(inputOffset: 7, ("a", "a1"));
        Assert.That((Committed(cluster, Input), Committed(cluster, Changelog)), Is.EqualTo((7L, 1L)));

        cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, ErrorCode.RebalanceInProgress);
        thread.Commit(inputOffset: 9, ("a", "a2"));
        Assert.That((Committed(cluster, Input), Committed(cluster, Changelog)), Is.EqualTo((7L, 1L)), "refused: nothing moved");

        thread.Commit(new TopicPartitionOffset(Input, 1, 4), ("b", "b1")); // the next transaction read the other input partition only
        Assert.That(Committed(cluster, Input), Is.EqualTo(9), "the refused commit's input offset, carried by the next commit");
        Assert.That(Committed(cluster, Input, partition: 1), Is.EqualTo(4));
        var changelogEnd = Committed(cluster, Changelog);
        Assert.That(changelogEnd, Is.GreaterThanOrEqualTo(3), "past a2 and b1, with the inputs that made them");

        cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, ErrorCode.RebalanceInProgress);
        thread.Commit(inputOffset: 11, ("a", "a3")); // refused: the group is rebalancing, and so is Streamiz's commit at the revocation
        thread.Rebalance();
        Assert.That((streamiz.Revoked, streamiz.Assigned), Is.EqualTo((1, 2)), "Streamiz's own listener was called");
        Assert.That(Committed(cluster, Input), Is.EqualTo(11), "committed as the first thing of the next assignment");
        Assert.That(Committed(cluster, Changelog), Is.GreaterThan(changelogEnd), "a3 is committed: no restore reverts it");

        cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, ErrorCode.RebalanceInProgress, ErrorCode.RebalanceInProgress);
        thread.Commit(inputOffset: 13, ("a", "a4"));
        thread.Rebalance(); // the commit at the assignment is refused too: given up, the tasks restore to the last mark
        thread.Commit(new TopicPartitionOffset(Input, 1, 6), ("b", "b2"));
        Assert.That(Committed(cluster, Input), Is.EqualTo(11), "given up: not carried by a later commit");
        Assert.That(Committed(cluster, Input, partition: 1), Is.EqualTo(6));
    }

    private static Dictionary<string, string> CommittedWrites => new() { ["a"] = "a1", ["b"] = "b1", ["c"] = "c1" };

    private static long End(EmbeddedKafkaCluster cluster)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = App + "-reader" }).Build();
        return consumer.QueryWatermarkOffsets(Ledger, Kafka.Timeout).High.Value;
    }

    private static void Put(IProducer<byte[], byte[]> producer, string key, string? value) =>
        producer.Produce(Ledger, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = value is null ? null! : Encoding.UTF8.GetBytes(value) }, report =>
        {
            if (report.Error.IsError)
            {
                throw new KafkaException(report.Error);
            }
        });

    private static long Committed(EmbeddedKafkaCluster cluster, string topic, int partition = 0)
    {
        using var group = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = App }).Build();
        return group.Committed([new TopicPartition(topic, partition)], Kafka.Timeout).Single().Offset.Value;
    }

    /// <summary>What a restore of the changelog from its start to offset <paramref name="to"/> puts in the store.</summary>
    private static Dictionary<string, string> Fold(EmbeddedKafkaCluster cluster, long to)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = App + "-reader", FetchWaitMaxMs = 5 }).Build();
        consumer.Assign(new TopicPartitionOffset(Ledger, Offset.Beginning));
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (consumer.Position(Ledger).Value < to)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the changelog could not be read to offset {to}");
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } record || record.Offset.Value >= to)
            {
                continue;
            }

            var key = Encoding.UTF8.GetString(record.Message.Key);
            if (record.Message.Value is null)
            {
                store.Remove(key);
            }
            else
            {
                store[key] = Encoding.UTF8.GetString(record.Message.Value);
            }
        }

        return store;
    }

    /// <summary>A stream thread's consumer and transactional producer, as Streamiz gets them from its client supplier.</summary>
    private sealed class StreamThread : IDisposable
    {
        private readonly IConsumer<byte[], byte[]> consumer;

        /// <param name="listener">Streamiz's rebalance listener; with one, the consumer subscribes to the input and joins the group.</param>
        public StreamThread(MockBrokerTransactions clients, EmbeddedKafkaCluster cluster, string id, IConsumerRebalanceListener? listener = null)
        {
            Producer = clients.GetProducer(new ThreadProducerConfig { ThreadId = id, BootstrapServers = cluster.BootstrapServers, TransactionalId = $"{App}-{id}" });
            Producer.InitTransactions(Kafka.Timeout);
            consumer = clients.GetConsumer(new ThreadConsumerConfig
            {
                ThreadId = id, BootstrapServers = cluster.BootstrapServers, GroupId = App, EnableAutoCommit = false, SessionTimeoutMs = 6_000, HeartbeatIntervalMs = 500,
            }, listener!);
            if (listener is not null)
            {
                consumer.Subscribe(Input);
                WaitForAssignment();
            }
        }

        public IProducer<byte[], byte[]> Producer { get; }

        /// <summary>One transaction: the writes to the changelog and the input offset it consumed up to.</summary>
        public void Commit(long inputOffset, params (string Key, string? Value)[] writes) =>
            Commit(new TopicPartitionOffset(Input, 0, inputOffset), writes);

        public void Commit(TopicPartitionOffset input, params (string Key, string? Value)[] writes)
        {
            Producer.BeginTransaction();
            foreach (var (key, value) in writes)
            {
                Put(Producer, key, value);
            }

            Producer.SendOffsetsToTransaction([input], consumer.ConsumerGroupMetadata, Kafka.Timeout);
            Producer.CommitTransaction(Kafka.Timeout);
        }

        /// <summary>Leaves the group and joins it again: its partitions are revoked, then assigned again (the listener is called).</summary>
        public void Rebalance()
        {
            consumer.Unsubscribe();
            consumer.Consume(TimeSpan.FromMilliseconds(50)); // serves the revocation
            consumer.Subscribe(Input);
            WaitForAssignment();
        }

        private void WaitForAssignment()
        {
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (consumer.Assignment.Count == 0)
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the consumer got no partitions");
                consumer.Consume(TimeSpan.FromMilliseconds(50));
            }
        }

        public void Dispose()
        {
            Producer.Dispose();
            consumer.Dispose();
        }
    }

    /// <summary>Streamiz's rebalance listener, counting assignments and revocations.</summary>
    private sealed class RecordingListener : IConsumerRebalanceListener
    {
        public int Assigned { get; private set; }

        public int Revoked { get; private set; }

        public void PartitionsAssigned(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions) => Assigned++;

        public void PartitionsRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions) => Revoked++;

        public void PartitionsLost(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
        {
        }
    }

    /// <summary>A stream thread's consumer configuration as Streamiz passes it (a subclass naming the thread).</summary>
    private sealed class ThreadConsumerConfig : ConsumerConfig
    {
        public string ThreadId { get; init; } = "";
    }

    /// <summary>A stream thread's producer configuration as Streamiz passes it.</summary>
    private sealed class ThreadProducerConfig : ProducerConfig
    {
        public string ThreadId { get; init; } = "";
    }
}
