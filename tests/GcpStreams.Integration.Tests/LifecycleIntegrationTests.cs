using System.Diagnostics;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>The whole service on the embedded broker (real Kafka protocol, exactly-once), driven like the other teams drive it.</summary>
[NonParallelizable]
public class LifecycleIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task FullLifecycle_IssuePartialRedemptionRefundLock_EachEventOnceAndInOrder()
    {
        await using var service = await ServiceInstance.StartEmbeddedAsync();
        // the traffic generator's client, through the schema registry the service serves over HTTP
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = service.Url + "/schema-registry" });
        await using var shop = new Shop(service.Kafka.BootstrapServers, registry, service.Signer);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var load = await shop.SendCommandAsync("it-pos-1000", Pools.Load("it-pos-1000", C.Channel.POS, 100_000, count: 10, series: 7), Timeout, cancel.Token);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        var reserved = await shop.SendCommandAsync("it-pos-1000", Pools.Reserve("it-pos-1000", C.Channel.POS, 100_000, "order-it-1"), Timeout, cancel.Token);
        Assert.That(reserved.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reserved.message);
        var id = reserved.certificateId;

        await shop.ProduceAsync(Topics.SalesOrders, "order-it-1", Pools.PaidOrder("order-it-1", id, "it-pos-1000", C.Channel.POS, 100_000), cancel.Token);
        await shop.WaitForEventAsync(id, "certificate.issued", Timeout, cancel.Token);
        var capture = Pools.Payment(C.PaymentOperation.CAPTURE, id, 30_000, null, C.Channel.POS);
        var redeemed = shop.WaitForOutcomeAsync(capture.eventId, Timeout, cancel.Token);
        await shop.ProduceAsync(Topics.Payments, capture.paymentId, capture, cancel.Token);
        Assert.That((await redeemed).payload, Is.TypeOf<C.CertificateRedeemed>());
        var refund = Pools.Payment(C.PaymentOperation.REFUND, id, 10_000, capture.paymentId, C.Channel.POS);
        var refunded = shop.WaitForOutcomeAsync(refund.eventId, Timeout, cancel.Token);
        await shop.ProduceAsync(Topics.Payments, refund.paymentId, refund, cancel.Token);
        Assert.That(((C.CertificateRefunded)(await refunded).payload).balanceAfterMinor, Is.EqualTo(80_000));
        var locked = await shop.SendCommandAsync(id, new C.LockCertificate { certificateId = id, reason = "integration test" }, Timeout, cancel.Token);
        Assert.That(locked.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), locked.message);

        var events = Kafka.ReadStream(service.Kafka.BootstrapServers, registry).Where(r => r.Key == id).Select(r => r.Event).ToList();
        Assert.That(events.Select(e => e.eventType), Is.EqualTo(new[]
        {
            "certificate.reserved", "certificate.issued", "notification.requested", "certificate.redeemed", "certificate.refunded", "certificate.locked",
        }));
        Assert.That(events.Select(e => e.eventId), Is.Unique);
    }

    [Test]
    public async Task Kcat_ReadsTheEventStreamOfTheEmbeddedBroker()
    {
        if (!File.Exists("/usr/bin/kcat"))
        {
            Assert.Fail("kcat is not installed: `make setup` installs it (Debian package kcat)");
        }

        await using var service = await ServiceInstance.StartEmbeddedAsync();
        await using var shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var load = await shop.SendCommandAsync("it-web-500", Pools.Load("it-web-500", C.Channel.INTERNET_STORE, 50_000, count: 3, series: 9), Timeout, cancel.Token);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);

        var kcat = Process.Start(new ProcessStartInfo("kcat", ["-b", service.Kafka.BootstrapServers, "-C", "-t", Topics.Stream.Name, "-e", "-q", "-f", "%k %h\\n"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await kcat.StandardOutput.ReadToEndAsync(cancel.Token);
        await kcat.WaitForExitAsync(cancel.Token);

        Assert.That(kcat.ExitCode, Is.Zero, await kcat.StandardError.ReadToEndAsync(cancel.Token));
        Assert.That(output, Does.Contain("it-web-500 event-type=pool.loaded,channel=INTERNET_STORE"));
    }
}
