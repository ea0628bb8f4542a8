using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Contracts;
using GcpStreams.Embedded;
using GcpStreams.SchemaRegistry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

/// <summary>The read model against a real broker (the embedded one): Avro records in, lookups out.</summary>
public class ReadModelIntegrationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private sealed class Fixture : IDisposable
    {
        public Fixture(int partitions = 3)
        {
            Cluster = new EmbeddedKafkaCluster();
            Cluster.CreateTopics([(Topics.State.Name, partitions), (Topics.Stream.Name, partitions)]);
            Registry = new InProcessSchemaRegistry();
            Codec = new Codec(Registry);
            Producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig
            {
                BootstrapServers = Cluster.BootstrapServers,
                EnableIdempotence = true,
                TransactionalId = "read-model-test-" + Guid.NewGuid().ToString("N"),
                LingerMs = 0,
            }).Build();
            Producer.InitTransactions(Deadline);
        }

        public EmbeddedKafkaCluster Cluster { get; }
        public ISchemaRegistryClient Registry { get; }
        public Codec Codec { get; }
        public IProducer<byte[], byte[]?> Producer { get; }

        public CertificateReadModel Model(string? directory = null) =>
            new(new ReadModelOptions { BootstrapServers = Cluster.BootstrapServers, Directory = directory, BlockCacheMiB = 8, WriteBufferMiB = 4 }, Codec);

        /// <summary>Writes records in one committed transaction (so each partition ends with a commit marker).</summary>
        public void Transaction(Action<Fixture> write)
        {
            Producer.BeginTransaction();
            write(this);
            Producer.CommitTransaction(Deadline);
        }

        public void State(CertificateState state) => Raw(Topics.State.Name, state.certificateId, Codec.Encode(Topics.State, state));

        public void Tombstone(string certificateId) => Raw(Topics.State.Name, certificateId, null);

        public void Event(GiftCertificateEvent e) => Raw(Topics.Stream.Name, e.certificateId ?? e.poolId!, Codec.Encode(Topics.Stream, e));

        public void Raw(string topic, string key, byte[]? value) =>
            Producer.Produce(topic, new Message<byte[], byte[]?> { Key = Encoding.UTF8.GetBytes(key), Value = value });

        public void Dispose()
        {
            Producer.Dispose();
            Cluster.Dispose();
        }
    }

    [Test]
    public async Task ReadsBothTopicsFromTheBeginning_CatchesUp_AnswersQueries_ThenFollowsNewWrites()
    {
        using var fx = new Fixture();
        fx.Transaction(f =>
        {
            f.Event(Loaded("l1", "p1", count: 4, availableAfter: 4, sequence: 1));
            f.Event(Reserved("r1", "c1", "p1", availableAfter: 3, sequence: 1, order: "o1", poolVersion: 2));
            f.Event(Reserved("r2", "c2", "p1", availableAfter: 2, sequence: 1, order: "o2", poolVersion: 3));
            f.Event(Issued("i2", "c2", "p1", order: "o2", sequence: 2));
            f.Event(Redeemed("d2", "c2", amount: 1500, balanceAfter: 3500, sequence: 3));
            f.Event(Blocked("b1", "p1", sequence: 2));
            f.State(State("c1", "p1", CertificateStatus.RESERVED, order: "o1", sequence: 1, lastEventId: "r1"));
            f.State(State("c2", "p1", CertificateStatus.ACTIVE, order: "o2", client: "k2", sequence: 2, lastEventId: "i2"));
            f.State(State("c2", "p1", CertificateStatus.PARTIALLY_REDEEMED, order: "o2", client: "k2", sequence: 3, lastEventId: "d2"));
            f.State(State("c3", "p1", CertificateStatus.ACTIVE, order: "o3", sequence: 1));
            f.Tombstone("c3");
            f.Raw(Topics.State.Name, "c4", [0, 0, 0, 0, 42, 1, 2, 3]); // not Avro of a registered schema
            f.Raw(Topics.Stream.Name, "c4", Encoding.UTF8.GetBytes("not avro at all"));
        });

        using var model = fx.Model();
        await model.StartAsync(CancellationToken.None);
        await model.WhenCaughtUp.WaitAsync(Deadline);

        Assert.That(model.IsCaughtUp, Is.True);
        Assert.That(model.EndOffsets, Has.Count.EqualTo(6), "3 partitions of each topic");
        Assert.That(model.EndOffsets.Values.Sum(), Is.GreaterThan(13),
            "13 records, and every partition written in the transaction ends with a commit marker that is never delivered");
        Assert.That(model.UndecodableRecords, Is.EqualTo(2), "one bad record per topic, skipped");
        Assert.That(model.StateRecords, Is.EqualTo(5));
        Assert.That(model.StreamEvents, Is.EqualTo(6));

        Assert.That(model.Get("c2"), Has.Property("status").EqualTo(CertificateStatus.PARTIALLY_REDEEMED).And.Property("sequence").EqualTo(3));
        Assert.That(model.Get("c3"), Is.Null, "tombstoned");
        Assert.That(model.Get("c4"), Is.Null, "undecodable");
        Assert.That(model.Search(new CertificateFilter(PoolId: "p1"), 10).Items.Select(s => s.certificateId), Is.EqualTo(new[] { "c1", "c2" }));
        Assert.That(model.Search(new CertificateFilter(Status: CertificateStatus.RESERVED, OrderId: "o1"), 10).Items.Select(s => s.certificateId), Is.EqualTo(new[] { "c1" }));
        Assert.That(model.Search(new CertificateFilter(ClientId: "k2"), 10).Items.Select(s => s.certificateId), Is.EqualTo(new[] { "c2" }));
        Assert.That(model.GetHistory("c2").Select(h => h.EventType), Is.EqualTo(new[] { "certificate.reserved", "certificate.issued", "certificate.redeemed" }));
        Assert.That(model.GetHistory("c2")[^1].BalanceAfterMinor, Is.EqualTo(3500));
        Assert.That(model.GetPool("p1"), Has.Property("Loaded").EqualTo(4).And.Property("Available").EqualTo(2).And.Property("Reserved").EqualTo(1)
            .And.Property("Issued").EqualTo(1).And.Property("IssueBlocked").EqualTo(1));
        Assert.That(model.GetPools().Select(p => p.PoolId), Is.EqualTo(new[] { "p1" }));
        Assert.That(await model.WaitForEventAsync("d2", TimeSpan.Zero), Is.True, "already applied");

        // read your writes: the waits are registered before the records exist
        var issued = model.WaitForEventAsync("i1", Deadline, certificateId: "c1");
        var redeemed = model.WaitForAsync("c2", 4, Deadline);
        Assert.That(issued.IsCompleted || redeemed.IsCompleted, Is.False);
        fx.Transaction(f =>
        {
            f.Event(Issued("i1", "c1", "p1", order: "o1", sequence: 2));
            f.State(State("c1", "p1", CertificateStatus.ACTIVE, order: "o1", client: "k1", sequence: 2, lastEventId: "i1"));
            f.Event(Redeemed("d3", "c2", amount: 3500, balanceAfter: 0, sequence: 4));
            f.State(State("c2", "p1", CertificateStatus.EXHAUSTED, order: "o2", client: "k2", sequence: 4, lastEventId: "d3"));
        });

        Assert.That(await issued, Is.True);
        Assert.That(model.Get("c1")!.status, Is.EqualTo(CertificateStatus.ACTIVE), "the write is visible once the wait completes");
        Assert.That(await redeemed, Is.True);
        Assert.That(model.Get("c2")!.status, Is.EqualTo(CertificateStatus.EXHAUSTED));
        Assert.That(model.Search(new CertificateFilter(Status: CertificateStatus.RESERVED), 10).Items, Is.Empty);
        Assert.That(model.GetPool("p1"), Has.Property("Reserved").EqualTo(0).And.Property("Issued").EqualTo(2));

        await model.StopAsync(CancellationToken.None);
        Assert.That(model.ExecuteTask!.IsCompletedSuccessfully, Is.True, "stopped cleanly");
    }

    [Test]
    public async Task EmptyTopics_AreCaughtUpAtOnce_AndDisposeStopsTheConsumer()
    {
        using var fx = new Fixture(partitions: 2);
        var model = fx.Model();
        await model.StartAsync(CancellationToken.None);
        await model.WhenCaughtUp.WaitAsync(Deadline);
        Assert.That(model.EndOffsets.Values, Is.All.Zero);

        var pending = model.WaitForAsync("c1", 1, Deadline);
        model.Dispose();
        model.Dispose();

        Assert.That(model.ExecuteTask!.IsCompleted, Is.True);
        Assert.That(await pending, Is.False, "pending waits end with dispose");
        Assert.That(model.Store.Count, Is.Zero);
    }

    [Test]
    public async Task ARestart_ReadsOnlyWhatIsNew_AndAnotherBrokerMeansARebuild()
    {
        var directory = Directory.CreateTempSubdirectory("gcp-read-model-").FullName;
        try
        {
            using var fx = new Fixture(partitions: 2);
            fx.Transaction(f =>
            {
                f.Event(Issued("i1", "c1", "p1"));
                f.State(State("c1", "p1", order: "o1"));
            });
            using (var first = fx.Model(directory))
            {
                await first.StartAsync(CancellationToken.None);
                await first.WhenCaughtUp.WaitAsync(Deadline);
                Assert.That((first.StateRecords, first.StreamEvents), Is.EqualTo((1, 1)));
            }

            fx.Transaction(f => f.State(State("c2", "p1", order: "o1")));
            using (var second = fx.Model(directory))
            {
                await second.StartAsync(CancellationToken.None);
                await second.WhenCaughtUp.WaitAsync(Deadline);
                Assert.That((second.StateRecords, second.StreamEvents), Is.EqualTo((1, 0)), "only the new record is read");
                Assert.That(second.Store.Count, Is.EqualTo(2));
                Assert.That(second.GetHistory("c1").Select(h => h.EventId), Is.EqualTo(new[] { "i1" }));
                Assert.That(second.Search(new CertificateFilter(OrderId: "o1"), 10).Items.Select(s => s.certificateId), Is.EqualTo(new[] { "c1", "c2" }));
                Assert.That(await second.WaitForEventAsync("i1", TimeSpan.Zero, certificateId: "c1"), Is.True, "found in the stored history");
            }

            // another broker with other partitions: what the directory holds does not belong to it
            using var other = new Fixture(partitions: 3);
            other.Transaction(f => f.State(State("c9", "p9")));
            using var third = other.Model(directory);
            await third.StartAsync(CancellationToken.None);
            await third.WhenCaughtUp.WaitAsync(Deadline);
            Assert.That(third.Store.Count, Is.EqualTo(1));
            Assert.That(third.Get("c1"), Is.Null);
            Assert.That(third.GetHistory("c1"), Is.Empty);
            Assert.That(third.GetPools().Select(p => p.PoolId), Is.EqualTo(new[] { "p9" }));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void StoredPositions_AreUsedOnlyWhenTheyFitTheCluster()
    {
        var partitions = new Dictionary<string, int> { ["S"] = 1 };
        var watermarks = new Dictionary<TopicPartition, WatermarkOffsets> { [new TopicPartition("S", 0)] = new(new Offset(5), new Offset(10)) };
        StoredOrigin Stored(long position, string cluster = "k1", int count = 1) =>
            new(cluster, new Dictionary<string, int> { ["S"] = count }, new Dictionary<(string, int), long> { [("S", 0)] = position }, HoldsData: true);

        Assert.That(CertificateReadModel.Mismatch(Stored(7), "k1", partitions, watermarks), Is.Null);
        Assert.That(CertificateReadModel.Mismatch(Stored(10), "k1", partitions, watermarks), Is.Null, "at the end");
        Assert.That(CertificateReadModel.Mismatch(Stored(11), "k1", partitions, watermarks), Does.Contain("beyond its end 10"));
        Assert.That(CertificateReadModel.Mismatch(Stored(4), "k1", partitions, watermarks), Does.Contain("before its log start 5"));
        Assert.That(CertificateReadModel.Mismatch(Stored(7, "k2"), "k1", partitions, watermarks), Does.Contain("cluster k2"));
        Assert.That(CertificateReadModel.Mismatch(Stored(7, count: 2), "k1", partitions, watermarks), Does.Contain("S had 2 partitions, it has 1"));
        Assert.That(CertificateReadModel.Mismatch(Stored(7), null, partitions, watermarks), Is.Null, "a cluster that does not say its id: the offsets decide");
        Assert.That(CertificateReadModel.Mismatch(new StoredOrigin(null, new Dictionary<string, int>(), new Dictionary<(string, int), long>(), false), "k1", partitions, watermarks),
            Is.Null, "nothing stored");
    }

    [Test]
    public async Task AHostRunsTheRegisteredModel()
    {
        using var fx = new Fixture(partitions: 1);
        fx.Transaction(f => f.State(State("c1")));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(fx.Registry);
        builder.Services.AddCertificateReadModel(o =>
        {
            o.BootstrapServers = fx.Cluster.BootstrapServers;
            o.ConsumerSettings["client.id"] = "read-model-host-test";
        });
        using var host = builder.Build();
        await host.StartAsync();
        var model = host.Services.GetRequiredService<CertificateReadModel>();
        Assert.That(host.Services.GetServices<IHostedService>(), Does.Contain(model));
        Assert.That(host.Services.GetRequiredService<ReadModelStore>(), Is.SameAs(model.Store));

        await model.WhenCaughtUp.WaitAsync(Deadline);
        Assert.That(model.Get("c1"), Is.Not.Null);
        await host.StopAsync();
    }

    [Test]
    public void Options_WithoutBootstrapServers_AreRefused()
    {
        var codec = new Codec(new InProcessSchemaRegistry());
        Assert.That(() => new CertificateReadModel(new ReadModelOptions(), codec), Throws.InvalidOperationException.With.Message.Contains("BootstrapServers"));
        Assert.That(() => new ReadModelOptions { BootstrapServers = "b", BlockCacheMiB = 1 }.Storage(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("BlockCacheMiB"));
        Assert.That(() => new ReadModelOptions { BootstrapServers = "b", WriteBufferMiB = 0 }.Storage(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("WriteBufferMiB"));
        var config = new ReadModelOptions { BootstrapServers = "127.0.0.1:1", FetchWaitMaxMs = 7 }.ConsumerConfig();
        Assert.That(config, Has.Property("FetchWaitMaxMs").EqualTo(7).And.Property("IsolationLevel").EqualTo(IsolationLevel.ReadCommitted)
            .And.Property("EnableAutoCommit").EqualTo(false));
    }
}
