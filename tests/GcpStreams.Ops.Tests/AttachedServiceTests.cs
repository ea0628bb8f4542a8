using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Api.Hosting;
using GcpStreams.Broker;
using GcpStreams.Client;
using GcpStreams.Integration.Tests;
using GcpStreams.Topology;
using GcpStreams.Traffic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops.Tests;

/// <summary>
/// One standalone broker, two service instances attached to it at once, one purchase and redemption through them; then the
/// operations' checks against that broker.
/// </summary>
[NonParallelizable]
public class AttachedServiceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private StandaloneBroker broker = null!;
    private AttachedInstance first = null!;
    private AttachedInstance second = null!;
    private CachedSchemaRegistryClient registry = null!;
    private string certificateId = null!;

    [OneTimeSetUp]
    public async Task StartBrokerInstancesAndBuy()
    {
        broker = await StandaloneBroker.StartAsync(new BrokerSettings { ApplicationId = "gcp-ops-it", LogStartCheckInterval = TimeSpan.FromMinutes(10) }, NullLoggerFactory.Instance);
        // both at once: each finds the demo pool missing and loads it, under the same idempotency key
        var starting = new[] { AttachedInstance.StartAsync(broker), AttachedInstance.StartAsync(broker) };
        var started = await Task.WhenAll(starting);
        (first, second) = (started[0], started[1]);
        registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = broker.RegistryUrl });

        await using var shop = new Shop(broker.BootstrapServers, registry, first.Signing.Signer);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var reserved = await shop.SendCommandAsync(AttachedInstance.DemoPool,
            Pools.Reserve(AttachedInstance.DemoPool, C.Channel.POS, AttachedInstance.DemoNominal, "order-ops-1"), Timeout, cancel.Token);
        Assert.That(reserved.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reserved.message);
        certificateId = reserved.certificateId;
        await shop.ProduceAsync(Topics.SalesOrders, "order-ops-1",
            Pools.PaidOrder("order-ops-1", certificateId, AttachedInstance.DemoPool, C.Channel.POS, AttachedInstance.DemoNominal), cancel.Token);
        await shop.WaitForEventAsync(certificateId, "certificate.issued", Timeout, cancel.Token);
        var capture = Pools.Payment(C.PaymentOperation.CAPTURE, certificateId, 30_000, null, C.Channel.POS);
        var redeemed = shop.WaitForOutcomeAsync(capture.eventId, Timeout, cancel.Token);
        await shop.ProduceAsync(Topics.Payments, capture.paymentId, capture, cancel.Token);
        Assert.That(((C.CertificateRedeemed)(await redeemed).payload).balanceAfterMinor, Is.EqualTo(70_000));
        // the State record of the redemption too (the ledger check compares with the latest)
        await WaitForStateAsync(s => s.balanceMinor == 70_000);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        registry?.Dispose();
        await second.DisposeAsync();
        await first.DisposeAsync();
        await broker.DisposeAsync();
    }

    [Test]
    public void Broker_CreatedEveryTopicTheServiceChecks_WithTheServicesDefaultPartitionCount()
    {
        var required = TopologyTopics.Of(first.Stream.Topology, broker.Settings.ApplicationId).Select(t => t.Name);
        Assert.That(broker.Topics.Select(t => t.Topic), Is.EquivalentTo(required));

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(Timeout);
        foreach (var (topic, _, _) in broker.Topics)
        {
            Assert.That(metadata.Topics.Single(t => t.Topic == topic).Partitions, Has.Count.EqualTo(new KafkaOptions().Partitions), topic);
        }

        Assert.That(broker.Topics.Single(t => t.Topic == Topics.Payments.Name).Role, Is.EqualTo("input"));
        Assert.That(broker.Topics.Single(t => t.Topic == Topics.State.Name).Role, Is.EqualTo("output"));
        Assert.That(broker.Topics.Single(t => t.Topic == "gcp-ops-it-certificates-changelog").Role, Is.EqualTo("changelog"));
        Assert.That(broker.Topics.Single(t => t.Topic == "gcp-ops-it-pool-input-repartition").Role, Is.EqualTo("internal"));
    }

    [Test]
    public async Task TwoInstancesAttachedAtOnce_LoadTheDemoPoolOnce()
    {
        var loads = new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.Stream.Name)
            .Select(r => new Codec(registry).Decode(Topics.Stream, r.Message.Value!, r.Message.Headers))
            .Count(e => e.eventType == "pool.loaded" && e.poolId == AttachedInstance.DemoPool);
        Assert.That(loads, Is.EqualTo(1), "one pool.loaded for the demo pool, whichever instance sent it");

        foreach (var instance in new[] { first, second })
        {
            using var api = new ApiClient(instance.Url);
            var token = await api.TokenAsync("admin");
            var (status, body, response) = await api.CallAsync(HttpMethod.Get, $"/pools/{AttachedInstance.DemoPool}", token);
            response.Dispose();
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body?.ToString());
            Assert.That(body!.Value.GetProperty("loaded").GetInt64(), Is.EqualTo(5), body.ToString());
        }
    }

    [Test]
    public async Task LedgerCheck_PassesOnTheServicesLedger_ThenFailsOnAStateRecordMadeInconsistent()
    {
        var (exit, output, error) = Ops("ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl);
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Contain("every certificate's State is the fold of its events"));
        Assert.That(output, Does.Match(@"ledger-check: \d+ events of 1 certificates on GiftCertificates.Stream folded, \d+ records of GiftCertificates.State compared"));

        // a State record the fold does not give: one minor unit more than the ledger says, and unlocked as it is
        var state = await WaitForStateAsync(s => s.balanceMinor == 70_000);
        state.balanceMinor += 1;
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, Partitioner = Partitioner.Murmur2Random }).Build())
        {
            await producer.ProduceAsync(Topics.State.Name, new Message<string, byte[]> { Key = certificateId, Value = new Codec(registry).Encode(Topics.State, state) });
        }

        (exit, output, error) = Ops("ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl);
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("1 difference(s)"));
        Assert.That(output, Does.Contain($"{certificateId}: balanceMinor: fold 70000, State 70001"));
        Assert.That(output, Does.Not.Contain("the records of"), "no --explain: the differences only");

        // --explain: the certificate's records on both topics in log order, so an operator sees where they parted
        (exit, output, error) = Ops("ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl, "--explain", "1");
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain($"ledger-check: the records of {certificateId}:"));
        Assert.That(output, Does.Match(@"  GiftCertificates.Stream\[\d\]@\d+ \d\d:\d\d:\d\d\.\d{3} certificate.issued sequence \d+ id \S+"));
        Assert.That(output, Does.Match($@"  GiftCertificates.State\[\d\]@\d+ \d\d:\d\d:\d\d\.\d{{3}} sequence {state.sequence} \w+ balance 70001 held \d+"), "the inconsistent State record");

        // copies of events, as a rebuild re-produces them or as the embedded broker shows a killed instance's unfinished transaction
        // before the next owner decides the same again: an alert whose copy differs (raised at another point of the ledger) is no
        // ledger difference; a ledger event whose copy differs is
        var codec = new Codec(registry);
        var issued = new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.Stream.Name)
            .Select(r => codec.Decode(Topics.Stream, r.Message.Value!, r.Message.Headers))
            .First(e => e.certificateId == certificateId && e.eventType == "certificate.issued");
        var alert = Copy(issued, e =>
        {
            e.eventId = Guid.NewGuid().ToString();
            e.eventType = "alert";
            e.payload = new C.Alert { kind = C.AlertKind.DUPLICATE_EVENT, severity = C.AlertSeverity.INFO, message = "capture ignored: input pay-1 was delivered again" };
        });
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            foreach (var e in new[] { alert, Copy(alert, a => a.sequence += 1), Copy(issued, i => i.sequence += 1) })
            {
                await producer.ProduceAsync(Topics.Stream.Name, new Message<string, byte[]> { Key = certificateId, Value = codec.Encode(Topics.Stream, e) });
            }
        }

        (exit, output, error) = Ops("ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl);
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("2 difference(s)"), "the State record above, and the issue's copy");
        Assert.That(output, Does.Match($@"event {issued.eventId} \(certificate.issued\) came again with other content than its first copy \(sequence {issued.sequence} then {issued.sequence + 1}\)"));
        Assert.That(output, Does.Contain("1 of them alert(s) whose copy differs from the first"));
    }

    private static C.GiftCertificateEvent Copy(C.GiftCertificateEvent e, Action<C.GiftCertificateEvent> change)
    {
        var copy = new C.GiftCertificateEvent();
        for (var field = 0; field < ((Avro.RecordSchema)C.GiftCertificateEvent._SCHEMA).Fields.Count; field++)
        {
            copy.Put(field, e.Get(field));
        }

        change(copy);
        return copy;
    }

    [Test]
    public async Task SecrecyScan_TheDisclosedCvcIsNowhere_ThenFoundWherePlanted_InATopicAndAFile()
    {
        // support discloses the CVC through the second instance (its development signer mints the ticket's grant)
        using var api = new ApiClient(second.Url);
        var token = await api.TokenAsync("support");
        var (status, minted, response) = await api.CallAsync(HttpMethod.Post, DevSupportTicketsPath, token,
            JsonSerializer.Serialize(new { certificateId, ticketId = "OPS-1", agentId = "agent.ops" }));
        response.Dispose();
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), minted?.ToString());
        using var disclosure = await api.SendAsync(HttpMethod.Post, $"/certificates/{certificateId}/cvc/support-disclosures", token,
            JsonSerializer.Serialize(new { grant = minted!.Value.GetProperty("grant").GetString(), reason = "buyer verified" }));
        Assert.That(disclosure.StatusCode, Is.EqualTo(HttpStatusCode.OK), await disclosure.Content.ReadAsStringAsync());
        var cvc = (await disclosure.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cvc").GetString()!;
        await WaitForEventAsync("cvc.disclosed");

        var logs = Directory.CreateTempSubdirectory("gcp-ops-logs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(logs, "clean.log"), "12:00:00.000 info: nothing secret here, amounts 70000 and 30000\n");
            string[] scan = ["secrecy-scan", "--bootstrap", broker.BootstrapServers, "--schema-registry", broker.RegistryUrl, "--cvc-key", "1=" + AttachedInstance.CvcKey,
                "--dir", first.Root, "--dir", second.Root, "--dir", logs];
            var (exit, output, error) = Ops(scan);
            Assert.That(exit, Is.EqualTo(0), output + error);
            Assert.That(output, Does.Contain("1 disclosed CVC(s) derived"));
            Assert.That(output, Does.Contain("no CVC found"));

            // planted: in a topic's record (a header) and in a log file
            using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
            {
                await producer.ProduceAsync(Topics.Audit.Name, new Message<string, string>
                {
                    Key = "planted", Value = "not an audit record", Headers = new Headers { { "note", Encoding.UTF8.GetBytes($"cvc {cvc} for the buyer") } },
                });
            }

            var leakyLog = Path.Combine(logs, "support.log");
            File.WriteAllText(leakyLog, $"12:00:01.000 info: told the buyer the code {cvc}\n");

            (exit, output, error) = Ops(scan);
            Assert.That(exit, Is.EqualTo(1), output + error);
            Assert.That(output, Does.Contain("2 hit(s)"));
            Assert.That(output, Does.Match($@"the CVC of {certificateId} \(disclosed, key v1\) \(\*\*\*\*\) in topic GiftCertificates.Audit partition \d+ offset \d+ header note"));
            Assert.That(output, Does.Contain($"(****) in file {leakyLog}"));
            Assert.That(output + error, Does.Not.Match($"(?<![0-9]){cvc}(?![0-9])"), "the scan never prints the CVC");

            // a CVC given as an argument, in a file of them: found in the file too, named by its place only
            var cvcFile = Path.Combine(Directory.CreateTempSubdirectory("gcp-ops-cvcs-").FullName, "cvcs.txt");
            File.WriteAllText(cvcFile, $"# CVCs to look for\n0000\n{cvc}\n");
            (exit, output, error) = Ops("secrecy-scan", "--cvc-file", cvcFile, "--file", leakyLog);
            Assert.That(exit, Is.EqualTo(1), output + error);
            Assert.That(output, Does.Contain($"CVC #2 given (****) in file {leakyLog}"));
            Assert.That(output, Does.Not.Contain("CVC #1"));
        }
        finally
        {
            Directory.Delete(logs, recursive: true);
        }
    }

    [Test]
    public void LedgerCheck_RegistryUnreachable_Exits2_RatherThanCallingEveryRecordADifference()
    {
        using var unused = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        var port = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop(); // nothing listens there now

        var (exit, output, error) = Ops("ledger-check", "--bootstrap", broker.BootstrapServers, "--schema-registry", $"http://127.0.0.1:{port}");
        Assert.That(exit, Is.EqualTo(2), output + error);
        Assert.That(error, Does.StartWith("gcp-ops ledger-check: "));
        Assert.That(output, Does.Not.Contain("difference"));
    }

    private const string DevSupportTicketsPath = "/dev/support-tickets";

    private static (int Exit, string Output, string Error) Ops(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = OpsCommands.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The latest State record of the certificate once it satisfies <paramref name="condition"/>.</summary>
    private async Task<C.CertificateState> WaitForStateAsync(Func<C.CertificateState, bool> condition)
    {
        var codec = new Codec(registry);
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var latest = new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.State.Name)
                .Where(r => Topics.State.Key(r.Message.Key) == certificateId && r.Message.Value is not null)
                .Select(r => codec.Decode(Topics.State, r.Message.Value!, r.Message.Headers))
                .LastOrDefault();
            if (latest is not null && condition(latest))
            {
                return latest;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the State record did not come");
            await Task.Yield();
        }
    }

    private async Task WaitForEventAsync(string eventType)
    {
        var codec = new Codec(registry);
        var deadline = DateTime.UtcNow + Timeout;
        while (!new TopicReader(broker.BootstrapServers, Timeout).Read(Topics.Stream.Name)
                   .Any(r => Topics.Stream.Key(r.Message.Key) == certificateId && codec.Decode(Topics.Stream, r.Message.Value!, r.Message.Headers).eventType == eventType))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"no {eventType} on the stream");
            await Task.Yield();
        }
    }
}
