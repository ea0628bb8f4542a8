using Confluent.Kafka;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using GcpStreams.Embedded;
using GcpStreams.SchemaRegistry;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Broker faults while the service works (issue 15), injected with librdkafka's mock fault injection into the broker a
/// cluster-mode instance runs against: request errors, transaction coordinator errors, a round-trip spike, the broker down and
/// back. Reservations and captures sent during the fault are all answered once it clears, each outcome once, the balance is
/// the fold of the captures, and the instance is running again by itself.
/// </summary>
[NonParallelizable]
public class BrokerFaultIntegrationTests
{
    private const string AppId = "gcp-faults";
    private const long Nominal = 100_000;
    private const int Reservations = 8;
    private const int Captures = 5;
    private const long CaptureAmount = 1_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The stream supervisor's stall limit in these tests: well above a commit's worst case under the other faults.</summary>
    private const int StallSeconds = 10;

    /// <summary>A fault: injected on the broker, and how long it lasts before it is cleared (zero: it clears itself).</summary>
    public sealed record Fault(string Name, Action<EmbeddedKafkaCluster> Inject, Action<EmbeddedKafkaCluster> Clear, TimeSpan Lasts)
    {
        public override string ToString() => Name;
    }

    private static IEnumerable<Fault> Faults()
    {
        static void Nothing(EmbeddedKafkaCluster _)
        {
        }

        // retriable errors: the clients retry them
        yield return new Fault("produce: not enough replicas, leader not available",
            c => c.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.LeaderNotAvailable, ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut),
            Nothing, TimeSpan.Zero);
        yield return new Fault("fetch: not leader, unknown leader epoch",
            c => c.PushRequestErrors(KafkaApiKey.Fetch, ErrorCode.NotLeaderForPartition, ErrorCode.UnknownLeaderEpoch, ErrorCode.NotLeaderForPartition),
            Nothing, TimeSpan.Zero);

        // the transaction coordinator: moving, loading, busy with the previous transaction
        yield return new Fault("transaction coordinator: not coordinator, loading, concurrent transactions",
            c =>
            {
                c.PushRequestErrors(KafkaApiKey.AddPartitionsToTxn, ErrorCode.ConcurrentTransactions, ErrorCode.GroupLoadInProgress);
                c.PushRequestErrors(KafkaApiKey.TxnOffsetCommit, ErrorCode.GroupLoadInProgress, ErrorCode.NotCoordinatorForGroup);
                c.PushRequestErrors(KafkaApiKey.EndTxn, ErrorCode.NotCoordinatorForGroup, ErrorCode.GroupLoadInProgress);
            },
            Nothing, TimeSpan.Zero);

        // slow broker: every response 300 ms late for a while
        yield return new Fault("round-trip spike of 300 ms",
            c => c.SetBrokerRoundTripTime(1, TimeSpan.FromMilliseconds(300)),
            c => c.SetBrokerRoundTripTime(1, TimeSpan.Zero), TimeSpan.FromSeconds(4));
    }

    /// <summary>The broker goes away (connections refused) and comes back.</summary>
    private static IEnumerable<Fault> Outages()
    {
        yield return new Fault("broker down for 4 s, then up", c => c.SetBrokerDown(1), c => c.SetBrokerUp(1), TimeSpan.FromSeconds(4));
    }

    [TestCaseSource(nameof(Faults))]
    public Task DuringABrokerFault_EveryRequestIsAnsweredOnce_AndTheServiceRecoversByItself(Fault fault) => Run(fault);

    /// <summary>
    /// After the outage the stream thread may stay inside librdkafka's <c>rd_kafka_send_offsets_to_transaction</c>, whose timeout
    /// librdkafka does not enforce (docs/reliability.md, <i>Broker down and back</i>); the stream supervisor then replaces the
    /// stream after <c>Kafka:StreamStallSeconds</c> (10 s here).
    /// </summary>
    [TestCaseSource(nameof(Outages))]
    public Task AfterABrokerOutage_EveryRequestIsAnsweredOnce_AndTheServiceRecoversByItself(Fault fault) => Run(fault);

    private static async Task Run(Fault fault)
    {
        using var cluster = StartCluster();
        var registry = new InProcessSchemaRegistry();
        await using var instance = await ServiceInstance.StartClusterAsync(cluster.BootstrapServers, registry, AppId,
            settings: new Dictionary<string, string?> { ["Kafka:StreamStallSeconds"] = StallSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await using var shop = new Shop(cluster.BootstrapServers, registry, ServiceInstance.ClusterSigner);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        const string pool = "faults";
        Assert.That((await shop.SendCommandAsync(pool, Pools.Load(pool, C.Channel.POS, Nominal, count: Reservations + 2, series: 60), Timeout, cancel.Token)).outcome,
            Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        var id = (await shop.SendCommandAsync(pool, Pools.Reserve(pool, C.Channel.POS, Nominal, "order-f"), Timeout, cancel.Token)).certificateId;
        await shop.ProduceAsync(Topics.SalesOrders, "order-f", Pools.PaidOrder("order-f", id, pool, C.Channel.POS, Nominal), cancel.Token);
        await shop.WaitForEventAsync(id, "certificate.issued", Timeout, cancel.Token);

        // the fault, with reservations and captures in flight during it
        var clock = System.Diagnostics.Stopwatch.StartNew();
        fault.Inject(cluster);
        TestContext.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {clock.Elapsed}: {fault} injected");
        var reservations = Enumerable.Range(0, Reservations)
            .Select(_ => shop.SendCommandAsync(pool, Pools.Reserve(pool, C.Channel.POS, Nominal, null), Timeout, cancel.Token)).ToList();
        var captures = Enumerable.Range(0, Captures).Select(_ => Pools.Payment(C.PaymentOperation.CAPTURE, id, CaptureAmount, null, C.Channel.POS)).ToList();
        var outcomes = captures.Select(c => shop.WaitForOutcomeAsync(c.eventId, Timeout, cancel.Token)).ToList();
        var sent = captures.Select(c => shop.ProduceAsync(Topics.Payments, c.paymentId, c, cancel.Token)).ToList(); // delivered once the broker takes them

        await Task.Delay(fault.Lasts, cancel.Token); // how long the fault lasts, not a wait for the service
        fault.Clear(cluster);
        TestContext.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {clock.Elapsed}: cleared");

        await Task.WhenAll(sent);
        TestContext.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {clock.Elapsed}: captures delivered to the broker");
        var replies = await Task.WhenAll(reservations);
        TestContext.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {clock.Elapsed}: reservations answered");
        var redeemed = await Task.WhenAll(outcomes);
        TestContext.Out.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {clock.Elapsed}: captures answered; stream restarts by the supervisor: "
            + $"{instance.Stream.Supervisor.Restarts}, last one RUNNING after {instance.Stream.Supervisor.LastRecovery?.ToString() ?? "-"}");
        await instance.Stream.WhenRunning.WaitAsync(Timeout, cancel.Token);
        Assert.That(instance.Stream.State, Is.EqualTo(ServiceState.Running), "the instance recovered by itself");
        Assert.That(instance.Stream.Supervisor.GaveUp, Is.Null, "the supervisor did not give up");

        // after the fault the service works as before: one more reservation (the pool's last) and one more capture
        var after = await shop.SendCommandAsync(pool, Pools.Reserve(pool, C.Channel.POS, Nominal, null), Timeout, cancel.Token);
        var last = Pools.Payment(C.PaymentOperation.CAPTURE, id, CaptureAmount, null, C.Channel.POS);
        var lastOutcome = shop.WaitForOutcomeAsync(last.eventId, Timeout, cancel.Token);
        await shop.ProduceAsync(Topics.Payments, last.paymentId, last, cancel.Token);
        var lastRedeemed = await lastOutcome;

        var stream = Kafka.ReadStream(cluster.BootstrapServers, registry);
        Assert.Multiple(() =>
        {
            Assert.That(replies.Select(r => r.outcome), Is.All.EqualTo(C.ReplyOutcome.ACCEPTED), "every reservation during the fault was served");
            Assert.That(replies.Select(r => r.certificateId).Append(after.certificateId).Append(id), Is.Unique, "no certificate handed out twice");
            Assert.That(redeemed.Select(e => e.eventType), Is.All.EqualTo("certificate.redeemed"));
            Assert.That(((C.CertificateRedeemed)lastRedeemed.payload).balanceAfterMinor, Is.EqualTo(Nominal - ((Captures + 1) * CaptureAmount)),
                "each capture debited once");

            // outcomes by content (the embedded broker shows records of aborted transactions too, so a retried transaction's
            // first attempt may be visible: the same event id again, never a second, different outcome)
            var reserved = stream.Where(e => e.Event.eventType == "certificate.reserved").GroupBy(e => e.Key).ToList();
            Assert.That(reserved.Select(g => g.Key), Is.EquivalentTo(replies.Select(r => r.certificateId).Append(after.certificateId).Append(id)));
            Assert.That(reserved.Where(g => g.Select(e => e.Event.eventId).Distinct().Count() > 1).Select(g => g.Key), Is.Empty, "one reservation event per certificate");
            var debits = stream.Where(e => e.Key == id && e.Event.eventType == "certificate.redeemed").Select(e => e.Event.eventId).Distinct().Count();
            Assert.That(debits, Is.EqualTo(Captures + 1), "one redemption per capture");
        });
    }

    private static EmbeddedKafkaCluster StartCluster() => ServiceInstance.ProvisionedCluster(AppId, partitions: 2);
}
