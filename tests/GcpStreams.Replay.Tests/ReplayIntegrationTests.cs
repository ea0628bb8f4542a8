using System.Diagnostics;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Integration.Tests;
using GcpStreams.Ops;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Replay.Tests;

/// <summary>
/// gcp-replay against the standalone broker (a gcp-broker process) with a service instance attached to it: certificates bought
/// one after the other (each reservation and issue waited for, as the live service saw them), then verify, and rebuild.
/// The topics have one partition: with two, two commands of one pool written to different partitions reach the pool in an order
/// a replay does not reproduce (docs/operations.md, "Replay and rebuild", what a replay can reproduce).
/// </summary>
[NonParallelizable]
public class ReplayIntegrationTests : ReplayScenario
{
    [Test]
    public async Task Verify_WhileTheServiceRuns_TheShadowStateAndStreamAreTheLiveOnes()
    {
        var (exit, output, error) = await Replay(null, "verify");
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Contain("verify: identical: the shadow State and Stream are the live ones"));
        Assert.That(output, Does.Match(@"verify: GiftCertificates\.Stream: (\d+) live / \1 shadow records, (\d+) keys, \2 identical, 0 different"));
        Assert.That(output, Does.Match(@"verify: GiftCertificates\.State: (\d+) live / \1 shadow records, 3 keys, 3 identical, 0 different"));
        Assert.That(output, Does.Contain("the shadow ran in a sandbox").Or.Contain("the sandbox"), "the mock cannot create topics on request");
        Assert.That(output, Does.Match(@"replayed \d+ input records in [\d.]+ s \([\d,]+ records/s\)"));
    }

    [Test]
    public async Task Verify_OneShadowRecordAltered_NamesItsKeyAndBothRecords_AndExits1()
    {
        var altered = certificates[1];
        var (exit, output, error) = await Replay(r => r.Key == altered && r.EventType == "certificate.issued" ? r with { Value = [.. r.Value![..^1], (byte)(r.Value[^1] ^ 1)] } : r, "verify", "--show", "5");
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("verify: DIFFERENT: 1 key(s) differ"));
        Assert.That(output, Does.Contain($"GiftCertificates.Stream key {altered}, record #2 of the key:"));
        Assert.That(output, Does.Match(@"live   GiftCertificates\.Stream\[0\]@\d+ certificate\.issued value \d+ B sha256:"));
    }
}

/// <summary>rebuild end to end, on a broker of its own (it resets the application).</summary>
[NonParallelizable]
public class RebuildIntegrationTests : ReplayScenario
{
    [Test]
    public async Task Rebuild_AfterTheServiceStopped_AndARestart_GivesTheSameStatePerCertificate_AndTheLedgerCheckPasses()
    {
        var before = LatestStates();
        var counts = StateCounts();
        Assert.That(before.Keys, Is.EquivalentTo(certificates));
        var root = instance.Root;
        await instance.DisposeAsync();
        instance = null!;

        var (exit, output, error) = await Replay(null, "rebuild", "--state-dir", Path.Combine(root, "state"), "--timeout", "60");
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Match(@"rebuild: gcp-replay-it-certificates-changelog: [1-9]\d* tombstone\(s\)"));
        Assert.That(output, Does.Contain("rebuild: consumer group 'gcp-replay-it': 4 input partitions to their log start, 9 internal partitions to their ends"));
        Assert.That(output, Does.Contain($"rebuild: wiped the local state {Path.Combine(root, "state", AppId)}"));
        Assert.That(output, Does.Contain("rebuild: WARNING: every topic of the group has one partition"), "one partition per topic: the join cannot prove stop-the-world");
        Assert.That(Directory.Exists(Path.Combine(root, "state", AppId)), Is.False);

        instance = await Instance.StartAsync(broker, AppId, Partitions, root);
        var deadline = Stopwatch.StartNew();
        while (StateCounts() is var now && counts.Any(c => now.GetValueOrDefault(c.Key) < 2 * c.Value))
        {
            Assert.That(deadline.Elapsed, Is.LessThan(Timeout), "the rebuilt service did not re-produce every State record");
            await Task.Yield();
        }

        var after = LatestStates();
        Assert.That(after.Keys, Is.EquivalentTo(before.Keys));
        foreach (var (certificate, state) in before)
        {
            Assert.That(after[certificate], Is.EqualTo(state), $"the latest State of {certificate}, byte for byte");
        }

        var ledger = await Ops("ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl);
        Assert.That(ledger.Exit, Is.EqualTo(0), ledger.Output);
        Assert.That(ledger.Output, Does.Contain("every certificate's State is the fold of its events"));
        Assert.That(ledger.Output, Does.Match(@"ledger-check: [1-9]\d* event\(s\) repeat an earlier event id \(re-produced by a rebuild"));
    }
}

/// <summary>
/// rebuild refused while an instance runs, on topics of 2 partitions (the service's default): with one partition per topic the
/// range assignor may give the joining tool every partition and the running instance none (the tool then warns instead).
/// </summary>
[NonParallelizable]
public class RebuildRefusalTests : ReplayScenario
{
    protected override int Partitions => 2;

    [Test]
    public async Task Rebuild_WhileTheServiceRuns_IsRefused_StopTheWorld()
    {
        // stop-the-world: refused while an instance is a member of the group (on the mock, the rebalance this join causes makes the
        // running service read its inputs again: its exactly-once offsets were dropped; its duplicate checks absorb them)
        var refused = await Replay(null, "rebuild", "--timeout", "60");
        Assert.That(refused.Exit, Is.EqualTo(3), refused.Output + refused.Error);
        Assert.That(refused.Error, Does.StartWith("gcp-replay rebuild refused: the consumer group 'gcp-replay-it' has live members"));
        Assert.That(refused.Error, Does.Contain("Stop every instance of the service first"));
        Assert.That(refused.Output, Does.Not.Contain("tombstone"), "nothing was reset");
    }
}

/// <summary>The broker, the instance and the certificates bought, for each fixture.</summary>
public abstract class ReplayScenario
{
    protected const string AppId = "gcp-replay-it";
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    protected BrokerProcess broker = null!; // the fixture's, for its tests
    protected Instance instance = null!;
    protected CachedSchemaRegistryClient registry = null!;
    protected readonly List<string> certificates = [];

    /// <summary>The partitions of every topic.</summary>
    protected virtual int Partitions => 1;

    [OneTimeSetUp]
    public async Task StartBrokerAndInstance_ThenBuyThreeCertificates()
    {
        broker = await BrokerProcess.StartAsync("--application-id", AppId, "--partitions", Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture));
        instance = await Instance.StartAsync(broker, AppId, Partitions);
        registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = broker.RegistryUrl });
        await using var shop = new Shop(broker.BootstrapServers, registry, instance.Signing.Signer);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        for (var i = 1; i <= 3; i++)
        {
            var orderId = $"order-replay-{i}";
            var reserved = await shop.SendCommandAsync(Instance.DemoPool, Pools.Reserve(Instance.DemoPool, C.Channel.POS, Instance.DemoNominal, orderId), Timeout, cancel.Token);
            Assert.That(reserved.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reserved.message);
            certificates.Add(reserved.certificateId);
            await shop.ProduceAsync(Topics.SalesOrders, orderId, Pools.PaidOrder(orderId, reserved.certificateId, Instance.DemoPool, C.Channel.POS, Instance.DemoNominal), cancel.Token);
            await shop.WaitForEventAsync(reserved.certificateId, "notification.requested", Timeout, cancel.Token);
        }
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        registry?.Dispose();
        if (instance is not null)
        {
            await instance.DisposeAsync();
        }

        broker?.Dispose();
    }

    protected Dictionary<string, int> StateCounts() =>
        new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.State.Name).GroupBy(r => Topics.State.Key(r.Message.Key)).ToDictionary(g => g.Key, g => g.Count());

    protected Dictionary<string, string> LatestStates()
    {
        var latest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.State.Name))
        {
            latest[Topics.State.Key(record.Message.Key)] = Convert.ToHexString(record.Message.Value ?? []);
        }

        return latest;
    }

    protected async Task<(int Exit, string Output, string Error)> Replay(Func<OutputRecord, OutputRecord>? alter, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] all = [.. args, "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl, "--application-id", AppId, "--plain"];
        if (args[0] == "verify" && !args.Contains("--timeout"))
        {
            all = [.. all, "--timeout", "300"];
        }

        var exit = await ReplayCommands.RunAsync(all, output, error, alter, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>gcp-ops' command line, in this process.</summary>
    protected static Task<(int Exit, string Output)> Ops(params string[] args)
    {
        // gcp-ops' command entry point is internal to it (its own tests see it): called as its Program does
        var run = typeof(TopicReader).Assembly.GetType("GcpStreams.Ops.OpsCommands", throwOnError: true)!
            .GetMethod("Run", [typeof(string[]), typeof(TextWriter), typeof(TextWriter)])!;
        using var output = new StringWriter();
        var exit = (int)run.Invoke(null, [args, output, output])!;
        return Task.FromResult((exit, output.ToString()));
    }
}
