using GcpStreams.Topology.Internal;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// A certificate with a long history: what the ledger's owner stores and reads per payment does not grow with it
/// (the payment history has keys of its own), and nothing of the history is forgotten.
/// </summary>
public class LedgerHistoryTopologyTests
{
    private const int Captures = 300;

    [Test]
    public void HundredsOfCaptures_KeepTheLedgerRecordTheSameSize_AndTheFirstPaymentIsStillKnown()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        var payments = new List<C.Payment>();
        var sizes = new List<int>();
        var redeemed = 0;
        for (var i = 0; i < Captures; i++)
        {
            payments.Add(f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, paymentId: $"cap-{i:D4}", eventId: $"evt-{i:D4}"));
            redeemed += f.Events().Count(e => e.Value.eventType == "certificate.redeemed");
            sizes.Add(LedgerRecord(f, id).Length);
        }

        Assert.That(redeemed, Is.EqualTo(Captures));
        Assert.That(sizes[^1], Is.EqualTo(sizes[Captures / 2]), "once its window of recent input ids is full, the ledger record stops growing");

        // the first capture, re-sent under a new event id long after, is still recognised; and it can still be refunded
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, paymentId: payments[0].paymentId, eventId: "evt-again");
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "alert" }), "a duplicate: nothing moves");
        f.Pay(C.PaymentOperation.REFUND, id, 1_00, parent: payments[0].paymentId, paymentId: "ref-0");
        var refunded = f.Events().Single().Payload<C.CertificateRefunded>();
        Assert.That(refunded.balanceAfterMinor, Is.EqualTo(Inputs.Nominal - ((Captures - 1) * 1_00)));
        f.Pay(C.PaymentOperation.REFUND, id, 1_00, parent: payments[0].paymentId, paymentId: "ref-1");
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.EXCEEDS_CAPTURED), "what was refunded of it is known too");

        var keys = f.StoreEntries(StoreNames.Certificates).Select(e => e.Key).ToList();
        Assert.That(keys.Count(k => k.StartsWith($"p/{id}/", StringComparison.Ordinal)), Is.EqualTo(Captures + 1), "one entry per applied payment (the refused refund has none)");
    }

    [Test]
    public void APaymentNamingAnotherCertificatesHistoryKey_FindsNoCertificate()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, paymentId: "cap-1");
        f.Events();

        f.Pay(C.PaymentOperation.CAPTURE, $"p/{id}/cap-1", 1_00);

        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.NOT_FOUND));
        Assert.That(f.StoreEntries(StoreNames.Certificates).Count(e => e.Key.StartsWith("p/", StringComparison.Ordinal)), Is.EqualTo(1), "nothing was written under it");
    }

    [Test]
    public void ALedgerStoredWithItsHistoryInline_IsMovedToKeysOfItsOwn_AndLosesNothing()
    {
        using var f = new TopologyFixture(TopologyFixture.Settings with { DecodedStateCacheEntries = 0 }); // every read from the store
        f.LoadPool();
        var id = f.IssuedCertificate();
        var first = f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, paymentId: "cap-1");
        f.Pay(C.PaymentOperation.CAPTURE, id, 2_00, paymentId: "cap-2");
        f.Events();

        // the record as it was stored before the history had keys of its own: captures and applied operations inline, no totals
        var store = (Streamiz.Kafka.Net.State.IKeyValueStore<string, byte[]>)f.Driver.GetKeyValueStore<string, byte[]>(StoreNames.Certificates);
        var snapshot = InternalJson.Deserialize<CertificateSnapshot>(store.Get(id)!);
        store.Put(id, InternalJson.Serialize(snapshot with
        {
            CapturedMinor = null,
            RefundedMinor = null,
            Captures = new Dictionary<string, CaptureSnapshot>(StringComparer.Ordinal) { ["cap-1"] = new(1_00, 0), ["cap-2"] = new(2_00, 0) },
            AppliedPayments = ["capture:cap-1", "capture:cap-2"],
        }));
        foreach (var key in store.All().Select(e => e.Key).Where(k => k.StartsWith("p/", StringComparison.Ordinal)).ToList())
        {
            store.Delete(key);
        }

        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, paymentId: first.paymentId, eventId: "evt-again");
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "alert" }), "a duplicate of an inline applied payment");
        f.Pay(C.PaymentOperation.REFUND, id, 2_00, parent: "cap-2", paymentId: "ref-2");
        Assert.That(f.Events().Single().Payload<C.CertificateRefunded>().balanceAfterMinor, Is.EqualTo(Inputs.Nominal - 1_00));

        var moved = InternalJson.Deserialize<CertificateSnapshot>(store.Get(id)!);
        Assert.That((moved.Captures, moved.AppliedPayments, moved.CapturedMinor, moved.RefundedMinor), Is.EqualTo(((IReadOnlyDictionary<string, CaptureSnapshot>?)null, (IReadOnlyList<string>?)null, (long?)3_00, (long?)2_00)));
        Assert.That(store.All().Select(e => e.Key).Where(k => !Processing.CertificateProcessor.Keys.IsCertificate(k) && !k.StartsWith("n/", StringComparison.Ordinal)),
            Is.EquivalentTo(new[] { $"p/{id}/cap-1", $"p/{id}/cap-2", $"p/{id}/ref-2" }));
        Assert.That(InternalJson.Deserialize<PaymentSnapshot>(store.Get($"p/{id}/cap-2")!), Is.EqualTo(new PaymentSnapshot(["capture"], new CaptureSnapshot(2_00, 2_00))).Using<PaymentSnapshot>((a, b) =>
            a.Operations.SequenceEqual(b.Operations) && a.Capture == b.Capture), "the capture's entry: applied, and refunded in full");
    }

    private static byte[] LedgerRecord(TopologyFixture f, string id) => f.StoreEntries(StoreNames.Certificates).Single(e => e.Key == id).Value;
}
