using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// Event ids, notification ids and every output are derived from the inputs only: the same inputs through a fresh
/// topology give the same bytes, so a replay (or a restore from the changelog) never invents a different history.
/// </summary>
public class ReplayDeterminismTests
{
    private static readonly DateTime T0 = TopologyFixture.T0;

    [Test]
    public void Replay_TheSameInputsTwiceThroughFreshDrivers_GiveByteIdenticalOutputsAndStores()
    {
        using var first = new TopologyFixture();
        using var second = new TopologyFixture();

        RunMixedScenario(first);
        RunMixedScenario(second);

        // the scenario touched every kind of output, so the comparison below compares something
        var types = first.All(Topics.Stream).Select(e => e.Value.eventType).ToHashSet();
        Assert.That(types, Is.SupersetOf(new[]
        {
            "pool.loaded", "certificate.reserved", "certificate.issued", "notification.requested", "certificate.authorized", "certificate.redeemed",
            "certificate.hold_released", "certificate.refunded", "certificate.cancelled", "certificate.locked", "certificate.unlocked", "cvc.disclosed",
            "notification.sent", "issue.blocked", "alert", "operation.rejected",
        }));
        Assert.That(first.All(Topics.DeadLetter).Select(d => d.Value.reason), Is.SupersetOf(new[]
        {
            C.DeadLetterReason.UNDECODABLE, C.DeadLetterReason.INVALID_CONTENT, C.DeadLetterReason.CURRENCY_MISMATCH, C.DeadLetterReason.UNKNOWN_CERTIFICATE,
        }));

        foreach (var topic in Topics.Outputs)
        {
            var a = first.AllRaw(topic);
            var b = second.AllRaw(topic);
            Assert.That(b, Has.Count.EqualTo(a.Count), topic);
            for (var i = 0; i < a.Count; i++)
            {
                Assert.That(Hex(b[i].Key), Is.EqualTo(Hex(a[i].Key)), $"{topic} #{i} key");
                Assert.That(Hex(b[i].Value), Is.EqualTo(Hex(a[i].Value)), $"{topic} #{i} value");
                Assert.That(b[i].Headers, Is.EqualTo(a[i].Headers), $"{topic} #{i} headers");
            }
        }

        Assert.That(first.AllRaw(Topics.Stream.Name), Has.Count.GreaterThan(30));
        foreach (var store in new[] { StoreNames.Certificates, StoreNames.Pools })
        {
            var a = first.StoreEntries(store);
            var b = second.StoreEntries(store);
            Assert.That(a, Is.Not.Empty, store);
            Assert.That(b.Select(e => e.Key), Is.EqualTo(a.Select(e => e.Key)), store);
            Assert.That(b.Select(e => Hex(e.Value)), Is.EqualTo(a.Select(e => Hex(e.Value))), store);
        }
    }

    /// <summary>Pools, reservations, orders, payments, locks, refunds, CVC, notifications and bad records, at fixed times only.</summary>
    private static void RunMixedScenario(TopologyFixture f)
    {
        f.LoadPool(Inputs.Pool, C.Channel.POS, count: 4, lowWatermark: 2, series: 1);
        f.LoadPool(Inputs.WebPool, C.Channel.INTERNET_STORE, count: 2, series: 2);
        f.Client("client-1", C.ContactChannel.SMS);
        var a = f.Reserve(Inputs.Pool, C.Channel.POS, "order-1").certificateId;
        var b = f.Reserve(Inputs.Pool, C.Channel.POS, "order-2").certificateId;
        var late = f.Reserve(Inputs.Pool, C.Channel.POS, "order-3", holdSeconds: 60).certificateId;
        var w = f.Reserve(Inputs.WebPool, C.Channel.INTERNET_STORE, "order-w").certificateId;
        f.PayOrder(a, "order-1", clientId: "client-1");
        f.PayOrder(b, "order-2", clientId: "client-2");
        f.PayOrder(w, "order-w", Inputs.WebPool, C.Channel.INTERNET_STORE);
        f.PayOrder(late, "order-3", at: T0.AddHours(1)); // too late: reservation expired
        f.PayOrder(a, "order-1", clientId: "client-1"); // re-sent

        var auth = f.Pay(C.PaymentOperation.AUTHORIZE, a, 2_000_00);
        f.Pay(C.PaymentOperation.CAPTURE, a, 1_500_00, parent: auth.paymentId);
        f.Pay(C.PaymentOperation.VOID, a, 0, parent: auth.paymentId);
        var capture = f.Pay(C.PaymentOperation.CAPTURE, a, 1_000_00);
        f.Pipe(capture); // duplicate
        f.Pay(C.PaymentOperation.REFUND, a, 400_00, parent: capture.paymentId);
        f.Pay(C.PaymentOperation.REFUND, a, 900_00, parent: capture.paymentId); // more than is left
        f.Pay(C.PaymentOperation.CAPTURE, a, 1_00, currency: "EUR");
        f.Pay(C.PaymentOperation.CAPTURE, a, 1_00, channel: C.Channel.CALL_CENTER);
        f.Pay(C.PaymentOperation.CAPTURE, "7799999999999999", 1_00);
        f.Pay(C.PaymentOperation.CAPTURE, b, -1_00);
        f.PipeRaw(Topics.Payments.Name, [1, 2, 3], [0x00, 0x00, 0x00, 0x00, 0x09, 0x42]);

        f.Lock(b);
        f.Pay(C.PaymentOperation.CAPTURE, b, 10_00);
        f.Unlock(b);
        f.Pay(C.PaymentOperation.CAPTURE, b, 10_00);

        var notification = f.All(Topics.Stream).Single(e => e.Key == a && e.Value.eventType == "notification.requested").Payload<C.NotificationRequested>().notificationId;
        f.RevealCvc(a, notification);
        f.NotificationResult(a, notification, C.NotificationOutcome.SENT);
        f.RevealCvc(a, notification); // the result closed the grant
        f.RequestNotification(a);
        f.ReturnOrder(w, "order-w", Inputs.WebPool, C.Channel.INTERNET_STORE);

        f.Reserve(Inputs.Pool, C.Channel.POS, "order-4");
        f.Reserve(Inputs.Pool, C.Channel.POS, "order-5"); // the pool is empty
        f.Drain();
    }

    private static string Hex(byte[]? bytes) => bytes is null ? "(null)" : Convert.ToHexString(bytes);
}
