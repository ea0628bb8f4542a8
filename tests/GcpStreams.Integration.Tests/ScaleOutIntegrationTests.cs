using System.Collections.Concurrent;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using GcpStreams.Embedded;
using GcpStreams.SchemaRegistry;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Several service instances in one consumer group against one broker (the test's own embedded cluster, the instances in
/// cluster mode): partitions are shared, an instance stops or restarts, and still every certificate's events appear once
/// and no reservation is handed out twice.
/// </summary>
[NonParallelizable]
public class ScaleOutIntegrationTests
{
    private const string AppId = "gcp-scale";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task TwoInstances_ShareThePartitionsAndNeverHandOutACertificateTwice_EvenWhenOneStops()
    {
        using var cluster = StartCluster();
        var registry = new InProcessSchemaRegistry();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var a = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId);
        TestContext.Out.WriteLine($"{clock.Elapsed}: instance a running");
        var b = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId);
        TestContext.Out.WriteLine($"{clock.Elapsed}: instance b running");
        await using var shop = new Shop(cluster.BootstrapServers, registry, ServiceInstance.ClusterSigner);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string[] pools = ["scale-a", "scale-b", "scale-c", "scale-d"];
        for (var i = 0; i < pools.Length; i++)
        {
            var load = await shop.SendCommandAsync(pools[i], Pools.Load(pools[i], C.Channel.POS, 100_000, count: 30, series: 20 + i), Timeout, cancel.Token);
            Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        }

        var replies = new ConcurrentBag<C.CommandReply>();
        await ReserveConcurrently(shop, pools, perPool: 20, replies, cancel.Token); // both instances serve
        TestContext.Out.WriteLine($"{clock.Elapsed}: first half served");
        await b.DisposeAsync(); // one instance stops: its partitions move to the other
        TestContext.Out.WriteLine($"{clock.Elapsed}: instance b stopped");
        await ReserveConcurrently(shop, pools, perPool: 20, replies, cancel.Token);
        TestContext.Out.WriteLine($"{clock.Elapsed}: second half served");

        var accepted = replies.Where(r => r.outcome == C.ReplyOutcome.ACCEPTED).ToList();
        var refused = replies.Where(r => r.outcome == C.ReplyOutcome.REJECTED).ToList();
        Assert.That(accepted, Has.Count.EqualTo(4 * 30), "every certificate of every pool was handed out");
        Assert.That(accepted.Select(r => r.certificateId), Is.Unique, "no certificate was handed out twice");
        Assert.That(refused, Has.Count.EqualTo(4 * 10), "the rest found the pools empty");
        Assert.That(refused.Select(r => r.reason), Is.All.EqualTo("POOL_EMPTY"));
        // each event id once: a byte-identical copy is the visible write of a transaction the stopped instance did not commit,
        // which the other then committed (ReadStreamOnce asserts that a repeated id carries the same event)
        var reserved = Kafka.ReadStreamOnce(cluster.BootstrapServers, registry).Where(e => e.Event.eventType == "certificate.reserved").ToList();
        Assert.That(reserved.Select(e => e.Key), Is.EquivalentTo(accepted.Select(r => r.certificateId)), "each reservation is on the stream exactly once");
    }

    [Test]
    public async Task Restart_ResumesFromTheChangelogsWithoutLossOrDuplicates()
    {
        using var cluster = StartCluster();
        var registry = new InProcessSchemaRegistry();
        await using var shop = new Shop(cluster.BootstrapServers, registry, ServiceInstance.ClusterSigner);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string id;
        await using (var first = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId))
        {
            Assert.That((await shop.SendCommandAsync("restart-pool", Pools.Load("restart-pool", C.Channel.POS, 100_000, count: 5, series: 40), Timeout, cancel.Token)).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
            id = (await shop.SendCommandAsync("restart-pool", Pools.Reserve("restart-pool", C.Channel.POS, 100_000, "order-r"), Timeout, cancel.Token)).certificateId;
            await shop.ProduceAsync(Topics.SalesOrders, "order-r", Pools.PaidOrder("order-r", id, "restart-pool", C.Channel.POS, 100_000), cancel.Token);
            await shop.WaitForEventAsync(id, "certificate.issued", Timeout, cancel.Token);
            await Capture(shop, id, 40_000, cancel.Token);
        }

        // a new instance with an empty state dir: the ledger and the pool come back from their changelogs
        await using var second = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId);
        var redeemed = await Capture(shop, id, 60_000, cancel.Token);
        Assert.That(((C.CertificateRedeemed)redeemed.payload).balanceAfterMinor, Is.Zero, "100 000 - 40 000 - 60 000: the first capture survived the restart");
        var next = await shop.SendCommandAsync("restart-pool", Pools.Reserve("restart-pool", C.Channel.POS, 100_000, "order-r2"), Timeout, cancel.Token);
        Assert.That(next.certificateId, Is.Not.EqualTo(id), "the pool resumed after its first reservation");

        // The first instance stopped cleanly, so its last transaction committed its input offsets (on the embedded broker by a
        // second, plain commit: MockBrokerTransactions) and the new instance reads none of its inputs again. Before that, the group's
        // offsets never moved on this broker and a restart re-read every input from the start: each recognised as applied
        // (DUPLICATE_EVENT alerts), but the changelogs grew with every pass (docs/reliability.md, the kill phase's finding).
        var stream = Kafka.ReadStream(cluster.BootstrapServers, registry);
        Assert.That(stream.Select(e => e.Event.payload is C.Alert alert ? $"{alert.kind}: {alert.message}" : null).OfType<string>(),
            Is.Empty, "no input was read again after the clean restart");
        Assert.That(stream.Where(e => e.Key == id).Select(e => e.Event.eventType),
            Is.EqualTo(new[] { "certificate.reserved", "certificate.issued", "notification.requested", "certificate.redeemed", "certificate.redeemed" }));
        Assert.That(await Kafka.CommittedOffsetAsync(cluster.BootstrapServers, AppId, Topics.SalesOrders.Name), Is.GreaterThan(0),
            "the group's committed offsets of the inputs moved");
    }

    [Test]
    public async Task Restart_OnTheSameStateDir_KeepsTheStoresAfterACleanStop_AndWipesThemAfterACrash()
    {
        using var cluster = StartCluster();
        var registry = new InProcessSchemaRegistry();
        await using var shop = new Shop(cluster.BootstrapServers, registry, ServiceInstance.ClusterSigner);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stateDir = Directory.CreateTempSubdirectory("gcp-restart-state-").FullName;
        try
        {
            string id;
            await using (var first = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId, stateDir))
            {
                Assert.That((await shop.SendCommandAsync("same-dir", Pools.Load("same-dir", C.Channel.POS, 100_000, count: 3, series: 41), Timeout, cancel.Token)).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
                id = (await shop.SendCommandAsync("same-dir", Pools.Reserve("same-dir", C.Channel.POS, 100_000, "order-s"), Timeout, cancel.Token)).certificateId;
                await shop.ProduceAsync(Topics.SalesOrders, "order-s", Pools.PaidOrder("order-s", id, "same-dir", C.Channel.POS, 100_000), cancel.Token);
                await shop.WaitForEventAsync(id, "certificate.issued", Timeout, cancel.Token);
                await Capture(shop, id, 40_000, cancel.Token);
            }

            // the stores skip the flush at every commit: what the ledger store holds reached its files when it closed
            Assert.That(Directory.GetFiles(Path.Combine(stateDir, AppId), "*.sst", SearchOption.AllDirectories).Where(f => f.Contains($"{Path.DirectorySeparatorChar}certificates{Path.DirectorySeparatorChar}", StringComparison.Ordinal)),
                Is.Not.Empty, "the ledger store's memtable was written to a table file at close");
            var options = Directory.GetFiles(Path.Combine(stateDir, AppId), "OPTIONS-*", SearchOption.AllDirectories)
                .Where(f => f.Contains($"{Path.DirectorySeparatorChar}certificates{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
            Assert.That(options, Is.Not.Empty);
            Assert.That(File.ReadAllText(options[^1]), Does.Contain("write_buffer_size=4194304").And.Contain("max_write_buffer_number=3"),
                "the stores' memtables are bounded by Kafka:StoreWriteBufferMiB (4 MiB), not Streamiz's 16 MiB");
            var marker = StateDirectory.MarkerOf(stateDir, AppId);
            Assert.That(File.Exists(marker), Is.True, "a clean stop leaves its marker");

            // a clean stop: the stores are reopened as they were (nothing to restore past their checkpoints), so the ledger
            // written since the last commit without a flush per commit is on disk: the stores flush their memtables at close
            await using (var second = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId, stateDir))
            {
                Assert.That(File.Exists(marker), Is.False, "the start consumed the marker: a crash from now on leaves none");
                var redeemed = await Capture(shop, id, 30_000, cancel.Token);
                Assert.That(((C.CertificateRedeemed)redeemed.payload).balanceAfterMinor, Is.EqualTo(30_000), "100 000 - 40 000 - 30 000 from the reopened store");
            }

            // a crash leaves no marker (and stores that may hold writes of aborted transactions): the next start wipes them and
            // every store comes back from its changelog
            File.Delete(marker);
            var sentinel = Path.Combine(stateDir, AppId, "left-by-a-crash");
            File.WriteAllText(sentinel, "");
            await using (var third = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId, stateDir))
            {
                Assert.That(File.Exists(sentinel), Is.False, "the state dir of an unclean stop was wiped");
                var redeemed = await Capture(shop, id, 30_000, cancel.Token);
                Assert.That(((C.CertificateRedeemed)redeemed.payload).balanceAfterMinor, Is.Zero, "the ledger came back from its changelog");
            }
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
    }

    private static async Task<C.GiftCertificateEvent> Capture(Shop shop, string id, long amount, CancellationToken token)
    {
        var capture = Pools.Payment(C.PaymentOperation.CAPTURE, id, amount, null, C.Channel.POS);
        var outcome = shop.WaitForOutcomeAsync(capture.eventId, Timeout, token);
        await shop.ProduceAsync(Topics.Payments, capture.paymentId, capture, token);
        return await outcome;
    }

    private static async Task ReserveConcurrently(Shop shop, string[] pools, int perPool, ConcurrentBag<C.CommandReply> replies, CancellationToken token) =>
        await Task.WhenAll(pools.SelectMany(pool => Enumerable.Range(0, perPool).Select(async _ =>
            replies.Add(await shop.SendCommandAsync(pool, Pools.Reserve(pool, C.Channel.POS, 100_000, null), Timeout, token)))));

    private static EmbeddedKafkaCluster StartCluster() => ServiceInstance.ProvisionedCluster(AppId, partitions: 4);
}
