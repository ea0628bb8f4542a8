using System.Text;
using Confluent.Kafka;
using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// Invalid events: each goes to GiftCertificates.DeadLetter with its reason, source topic, partition, offset and original
/// bytes, an INVALID_EVENT alert on the stream says so, and the very next valid event is still processed.
/// </summary>
public class DeadLetterTopologyTests
{
    private const long Nominal = Inputs.Nominal;

    private static IEnumerable<string> InputTopics => [Topics.Payments.Name, Topics.SalesOrders.Name, Topics.Commands.Name, Topics.NotificationResults.Name];

    [Test]
    public void InvalidEvent_RandomBytes_IsDeadLetteredAndTheNextPaymentIsProcessed()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var garbage = new byte[64];
        new Random(7).NextBytes(garbage);
        garbage[0] = 0x00; // even with the right magic byte, the schema id and body are garbage

        var letter = PipeBad(f, Topics.Payments.Name, "pay-garbage", garbage, out var others);

        Assert.That(letter.reason, Is.EqualTo(C.DeadLetterReason.UNDECODABLE));
        Assert.That(others, Is.Empty);
        AssertNextPaymentIsProcessed(f, id, Nominal - 100_00);
    }

    [Test]
    public void InvalidEvent_WrongMagicByte_IsDeadLetteredAndTheNextPaymentIsProcessed()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var valid = f.Codec.Encode(Topics.Payments, Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 1_00));
        var wrongMagic = (byte[])valid.Clone();
        wrongMagic[0] = 0x07;

        var letter = PipeBad(f, Topics.Payments.Name, "pay-magic", wrongMagic, out var others, new Headers { { "traceparent", Encoding.UTF8.GetBytes("00-abc-def-01") } });

        Assert.That(letter.reason, Is.EqualTo(C.DeadLetterReason.UNDECODABLE));
        Assert.That(letter.message, Does.Contain("magic byte"));
        Assert.That(letter.headers, Does.ContainKey("traceparent").WithValue("00-abc-def-01"), "the original headers are kept");
        Assert.That(others, Is.Empty, "nothing was debited");
        AssertNextPaymentIsProcessed(f, id, Nominal - 100_00);
    }

    [TestCaseSource(nameof(InputTopics))]
    public void InvalidEvent_UndecodableOnAnyInputTopic_IsDeadLetteredWithItsSourceTopic(string topic)
    {
        using var f = new TopologyFixture();
        // commands are signed (else they are dead-lettered UNAUTHENTICATED before anything else): sign them as the API would
        void Pipe(string key, byte[]? value) =>
            f.PipeRaw(topic, Encoding.UTF8.GetBytes(key), value, headers: topic == Topics.Commands.Name ? TopologyFixture.Signer.Signed(topic, Encoding.UTF8.GetBytes(key), value) : null);
        Pipe("k0", Encoding.UTF8.GetBytes("{\"not\":\"avro\"}"));
        Pipe("k1", [0x00, 0x00, 0x00, 0x7F, 0xFF, 0x01, 0x02]); // an unknown schema id
        Pipe("k2", null); // a tombstone is not an event

        var letters = f.DeadLetters();

        Assert.That(letters.Select(l => (l.Key, l.Value.sourceTopic, l.Value.partition, l.Value.offset, l.Value.reason)), Is.EqualTo(new[]
        {
            ("k0", topic, 0, 0L, C.DeadLetterReason.UNDECODABLE),
            ("k1", topic, 0, 1L, C.DeadLetterReason.UNDECODABLE),
            ("k2", topic, 0, 2L, C.DeadLetterReason.INVALID_CONTENT),
        }));
        Assert.That(letters.Select(l => l.Headers["dead-letter-reason"]), Is.EqualTo(new[] { "UNDECODABLE", "UNDECODABLE", "INVALID_CONTENT" }));
        var alerts = f.Events();
        Assert.That(alerts.Select(a => (a.Key, a.Value.eventType, a.Payload<C.Alert>().kind, a.Payload<C.Alert>().details["offset"])), Is.EqualTo(new[]
        {
            ("k0", "alert", C.AlertKind.INVALID_EVENT, "0"),
            ("k1", "alert", C.AlertKind.INVALID_EVENT, "1"),
            ("k2", "alert", C.AlertKind.INVALID_EVENT, "2"),
        }), "one INVALID_EVENT alert per dead letter, keyed by the record's own key");

        // the stream keeps running
        f.LoadPool();
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "pool.loaded" }));
    }

    [Test]
    public void InvalidEvent_NegativeAmount_IsDeadLetteredAndTheNextPaymentIsProcessed()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var negative = Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, -500_00);

        var letter = PipeBad(f, Topics.Payments.Name, negative.paymentId, f.Codec.Encode(Topics.Payments, negative), out var others);

        Assert.That(letter.reason, Is.EqualTo(C.DeadLetterReason.INVALID_CONTENT));
        Assert.That(letter.message, Does.Contain("amountMinor"));
        Assert.That(f.Codec.Decode(Topics.Payments, letter.value).eventId, Is.EqualTo(negative.eventId), "the original record can be inspected and replayed");
        Assert.That(others, Is.Empty);
        AssertNextPaymentIsProcessed(f, id, Nominal - 100_00);
    }

    [Test]
    public void InvalidEvent_GiftCertificatePaymentWithoutCertificateId_IsDeadLetteredAndTheNextPaymentIsProcessed()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var anonymous = Inputs.Payment(f, C.PaymentOperation.CAPTURE, null, 500_00);

        var letter = PipeBad(f, Topics.Payments.Name, anonymous.paymentId, f.Codec.Encode(Topics.Payments, anonymous), out var others);

        Assert.That(letter.reason, Is.EqualTo(C.DeadLetterReason.INVALID_CONTENT));
        Assert.That(letter.message, Does.Contain("certificateId"));
        Assert.That(others, Is.Empty);
        AssertNextPaymentIsProcessed(f, id, Nominal - 100_00);
    }

    [Test]
    public void InvalidEvent_WrongCurrencyOnAnExistingCertificate_IsDeadLetteredAndRejectedOnTheStream()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var euros = Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 10_00, currency: "EUR");

        var letter = PipeBad(f, Topics.Payments.Name, euros.paymentId, f.Codec.Encode(Topics.Payments, euros), out var events);

        Assert.That(letter.reason, Is.EqualTo(C.DeadLetterReason.CURRENCY_MISMATCH));
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected", "alert" }));
        Assert.That(events.Rejection().reason, Is.EqualTo(C.RejectionReason.CURRENCY_MISMATCH));
        Assert.That(events.Alert().kind, Is.EqualTo(C.AlertKind.CURRENCY_MISMATCH));
        Assert.That(events[0].Value.causationId, Is.EqualTo(euros.eventId));
        Assert.That(f.States(), Is.Empty, "nothing was debited");
        AssertNextPaymentIsProcessed(f, id, Nominal - 100_00);
    }

    [Test]
    public void InvalidEvent_UnknownCertificate_IsDeadLetteredAndRejectedOnTheStream()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var stranger = Inputs.Payment(f, C.PaymentOperation.CAPTURE, "7700000000000000", 10_00);

        var letter = PipeBad(f, Topics.Payments.Name, stranger.paymentId, f.Codec.Encode(Topics.Payments, stranger), out var events);

        Assert.That(letter.reason, Is.EqualTo(C.DeadLetterReason.UNKNOWN_CERTIFICATE));
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected" }));
        Assert.That(events[0].Key, Is.EqualTo("7700000000000000"));
        Assert.That(events.Rejection().reason, Is.EqualTo(C.RejectionReason.NOT_FOUND));
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.StoreEntries(StoreNames.Certificates).Select(e => e.Key).Where(Processing.CertificateProcessor.Keys.IsCertificate), Is.EqualTo(new[] { id }), "no ledger is opened for a stranger");
        AssertNextPaymentIsProcessed(f, id, Nominal - 100_00);
    }

    [Test]
    public void InvalidEvent_NotificationResultForAnUnknownCertificate_IsDeadLettered()
    {
        using var f = new TopologyFixture();
        var offset = f.NextOffset(Topics.NotificationResults.Name);

        f.NotificationResult("7700000000000001", "notification-x", C.NotificationOutcome.SENT);

        var letter = f.DeadLetters().Single().Value;
        Assert.That((letter.reason, letter.sourceTopic, letter.offset), Is.EqualTo((C.DeadLetterReason.UNKNOWN_CERTIFICATE, Topics.NotificationResults.Name, offset)));
    }

    [Test]
    public void InvalidEvent_InvalidCommand_IsDeadLetteredAndTheNextCommandIsProcessed()
    {
        using var f = new TopologyFixture();
        var offset = f.NextOffset(Topics.Commands.Name);
        f.Command("bad pool id!", new C.LoadPool { poolId = "bad pool id!", channel = C.Channel.POS, nominalMinor = Nominal, currency = Inputs.Rub, count = 1, series = 1, importedNumbers = [] });

        var letter = f.DeadLetters().Single().Value;
        Assert.That((letter.reason, letter.sourceTopic, letter.offset), Is.EqualTo((C.DeadLetterReason.INVALID_CONTENT, Topics.Commands.Name, offset)));
        Assert.That(letter.message, Does.Contain("pool id"));
        var reply = f.Replies().Single().Value;
        Assert.That((reply.outcome, reply.replyTo), Is.EqualTo((C.ReplyOutcome.REJECTED, Inputs.ApiInstance)), "the caller is answered at once, not left to time out");
        Assert.That(reply.message, Does.Contain("pool id"));

        Assert.That(f.Events().Alert().kind, Is.EqualTo(C.AlertKind.INVALID_EVENT));

        f.LoadPool();
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "pool.loaded" }));
    }

    [Test]
    public void InvalidEvent_PaymentWithAnUnknownStatus_IsDeadLetteredAndPendingPaymentsMoveNoMoney()
    {
        using var f = new TopologyFixture();
        var id = IssuedWithOnePayment(f);
        var pending = Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 500_00, paymentId: "pay-pending");
        pending.status = C.PaymentStatus.PENDING;
        f.Pipe(Topics.Payments, pending.paymentId, pending);
        Assert.That(f.Events(), Is.Empty, "a PENDING capture debits nothing");

        var unknown = Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 500_00, paymentId: "pay-unknown");
        unknown.status = C.PaymentStatus.UNKNOWN;
        f.Pipe(Topics.Payments, unknown.paymentId, unknown);
        Assert.That(f.DeadLetters().Single().Value.message, Does.Contain("status UNKNOWN"));
        Assert.That(f.Events().Alert().kind, Is.EqualTo(C.AlertKind.INVALID_EVENT));

        var succeeded = Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 500_00, paymentId: "pay-pending");
        f.Pipe(Topics.Payments, succeeded.paymentId, succeeded);
        Assert.That(f.Events().Single().Payload<C.CertificateRedeemed>().balanceAfterMinor, Is.EqualTo(Nominal - 100_00 - 500_00), "its SUCCEEDED event debits once");
    }

    /// <summary>An issued certificate that already paid 100.00, outputs drained.</summary>
    private static string IssuedWithOnePayment(TopologyFixture f)
    {
        f.LoadPool();
        var id = f.IssuedCertificate();
        f.Pay(C.PaymentOperation.CAPTURE, id, 100_00);
        f.Drain();
        return id;
    }

    /// <summary>
    /// Pipes one bad record and returns its dead letter, checked against the record's coordinates and bytes, and the stream
    /// events besides the one INVALID_EVENT alert that must announce the dead letter (also checked).
    /// </summary>
    private static C.DeadLetter PipeBad(TopologyFixture f, string topic, string key, byte[] value, out List<Output<C.GiftCertificateEvent>> others, Headers? headers = null)
    {
        var offset = f.NextOffset(topic);
        f.PipeRaw(topic, Encoding.UTF8.GetBytes(key), value, TopologyFixture.T0.AddMinutes(30), headers);
        var letter = f.DeadLetters().Single();
        Assert.Multiple(() =>
        {
            Assert.That(letter.Key, Is.EqualTo(key));
            Assert.That(letter.Value.sourceTopic, Is.EqualTo(topic));
            Assert.That(letter.Value.partition, Is.Zero);
            Assert.That(letter.Value.offset, Is.EqualTo(offset));
            Assert.That(letter.Value.key, Is.EqualTo(Encoding.UTF8.GetBytes(key)));
            Assert.That(letter.Value.value, Is.EqualTo(value));
            Assert.That(letter.Value.recordTimestamp, Is.EqualTo(TopologyFixture.T0.AddMinutes(30)));
            Assert.That(letter.Value.message, Is.Not.Empty);
            Assert.That(letter.Headers["dead-letter-reason"], Is.EqualTo(letter.Value.reason.ToString()));
        });
        var events = f.Events();
        var alert = events.Single(e => e.Value.payload is C.Alert { kind: C.AlertKind.INVALID_EVENT });
        Assert.Multiple(() =>
        {
            Assert.That(alert.Key, Is.EqualTo(key), "keyed by the invalid record's own key");
            Assert.That((alert.Value.certificateId, alert.Value.poolId, alert.Value.channel), Is.EqualTo(((string?)null, (string?)null, C.Channel.UNKNOWN)));
            Assert.That(alert.Headers["event-type"], Is.EqualTo("alert"));
            var details = alert.Payload<C.Alert>().details;
            Assert.That((details["sourceTopic"], details["partition"], details["offset"], details["reason"]),
                Is.EqualTo((topic, "0", offset.ToString(System.Globalization.CultureInfo.InvariantCulture), letter.Value.reason.ToString())));
        });
        others = [.. events.Where(e => e != alert)];
        return letter.Value;
    }

    private static void AssertNextPaymentIsProcessed(TopologyFixture f, string id, long balanceBefore)
    {
        var next = f.Pay(C.PaymentOperation.CAPTURE, id, 1_00);
        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "certificate.redeemed" }), "the stream keeps running after a bad record");
        Assert.That(events[0].Payload<C.CertificateRedeemed>().paymentId, Is.EqualTo(next.paymentId));
        Assert.That(events[0].Payload<C.CertificateRedeemed>().balanceAfterMinor, Is.EqualTo(balanceBefore - 1_00));
        Assert.That(f.DeadLetters(), Is.Empty);
    }
}
