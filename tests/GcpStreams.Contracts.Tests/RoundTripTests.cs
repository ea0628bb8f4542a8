using Avro;
using Avro.Generic;
using Avro.IO;
using Avro.Specific;

namespace GcpStreams.Contracts.Tests;

/// <summary>Every generated type survives Avro binary encoding with SpecificDatumWriter / SpecificDatumReader.</summary>
public class RoundTripTests
{
    private static IEnumerable<TestCaseData> EventCases() =>
        Samples.EventPayloads().Select(p => new TestCaseData(p.EventType, p.Payload).SetArgDisplayNames(p.EventType));

    private static IEnumerable<TestCaseData> CommandCases() =>
        Samples.CommandPayloads().Select(p => new TestCaseData(p).SetArgDisplayNames(p.GetType().Name));

    private static IEnumerable<TestCaseData> OtherCases() =>
        Samples.OtherContracts().Select(r => new TestCaseData(r).SetArgDisplayNames(r.GetType().Name));

    [TestCaseSource(nameof(EventCases))]
    public void EventWithEachPayloadTypeRoundTrips(string eventType, object payload)
    {
        var sent = Samples.Event(eventType, payload);
        Assert.That(AvroAssert.Unpopulated(sent), Is.Empty, "the sample sets every field");

        var received = AvroAssert.RoundTrip(sent);

        Assert.That(received.payload, Is.InstanceOf(payload.GetType()));
        Assert.That(AvroAssert.Differences(sent, received), Is.Empty);
    }

    [TestCaseSource(nameof(CommandCases))]
    public void CommandWithEachPayloadTypeRoundTrips(object payload)
    {
        var sent = Samples.Command(payload);
        Assert.That(AvroAssert.Unpopulated(sent), Is.Empty, "the sample sets every field");

        var received = AvroAssert.RoundTrip(sent);

        Assert.That(received.payload, Is.InstanceOf(payload.GetType()));
        Assert.That(AvroAssert.Differences(sent, received), Is.Empty);
    }

    [TestCaseSource(nameof(OtherCases))]
    public void EveryOtherContractRoundTrips(ISpecificRecord sent)
    {
        Assert.That(AvroAssert.Unpopulated(sent), Is.Empty, "the sample sets every field");

        var received = AvroAssert.RoundTrip(sent);

        Assert.That(AvroAssert.Differences(sent, received), Is.Empty);
    }

    [Test]
    public void EveryEventPayloadBranchHasACase()
    {
        var branches = PayloadBranches(GiftCertificateEvent._SCHEMA);

        Assert.That(Samples.EventPayloads().Select(p => p.Payload.GetType().Name), Is.EquivalentTo(branches));
    }

    [Test]
    public void EveryCommandPayloadBranchHasACase()
    {
        var branches = PayloadBranches(GiftCertificateCommand._SCHEMA);

        Assert.That(Samples.CommandPayloads().Select(p => p.GetType().Name), Is.EquivalentTo(branches));
    }

    [Test]
    public void RecordWithOnlyRequiredFieldsSetRoundTripsWithNullsAndEmptyCollections()
    {
        // Collections with an empty schema default start empty, so leaving them untouched is valid.
        var sent = new SalesOrder
        {
            eventId = "so-evt-2",
            orderId = "order-2",
            transactionId = "tx-2",
            channel = Channel.POS,
            status = OrderStatus.PAID,
            currency = "EUR",
            totalMinor = 100,
            occurredAt = Samples.At,
        };

        var received = AvroAssert.RoundTrip(sent);

        Assert.That(received.storeId, Is.Null);
        Assert.That(received.correlationId, Is.Null);
        Assert.That(received.certificateLines, Is.Empty);
        Assert.That(received.returnedLineIds, Is.Empty);
        Assert.That(AvroAssert.Differences(sent, received), Is.Empty);
    }

    [Test]
    public void NewEnumSymbolFromAWriterIsReadAsTheDefault()
    {
        // A producer on a newer contract sends a Channel symbol this reader does not know.
        var newerJson = Payment._SCHEMA.ToString().Replace("\"PARTNER\"]", "\"PARTNER\",\"KIOSK\"]", StringComparison.Ordinal);
        Assert.That(newerJson, Does.Contain("KIOSK"));
        var newer = (RecordSchema)Schema.Parse(newerJson);
        var channel = (EnumSchema)newer["channel"].Schema;
        var sent = new GenericRecord(newer);
        foreach (var field in newer.Fields)
        {
            sent.Add(field.Name, null);
        }

        sent.Add("eventId", "pay-evt-9");
        sent.Add("paymentId", "pay-9");
        sent.Add("correlationId", "corr-9");
        sent.Add("operation", new GenericEnum((EnumSchema)newer["operation"].Schema, "CAPTURE"));
        sent.Add("method", new GenericEnum((EnumSchema)newer["method"].Schema, "CARD"));
        sent.Add("amountMinor", 100L);
        sent.Add("currency", "EUR");
        sent.Add("status", new GenericEnum((EnumSchema)newer["status"].Schema, "SUCCEEDED"));
        sent.Add("channel", new GenericEnum(channel, "KIOSK"));
        sent.Add("occurredAt", Samples.At);

        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(newer).Write(sent, new BinaryEncoder(stream));
        stream.Position = 0;
        var received = new SpecificDatumReader<Payment>(newer, Payment._SCHEMA).Read(default!, new BinaryDecoder(stream));

        Assert.That(received.channel, Is.EqualTo(Channel.UNKNOWN));
        Assert.That(received.paymentId, Is.EqualTo("pay-9"));
    }

    [Test]
    public void ComparisonSeesAChangeDeepInAPayload()
    {
        // Guards the assertions above: a difference in a nested map entry is reported with its path.
        var sent = Samples.Event("alert", Samples.EventPayloads().Single(p => p.EventType == "alert").Payload);
        var received = AvroAssert.RoundTrip(sent);
        ((Alert)received.payload).details["available"] = "8";

        Assert.That(AvroAssert.Differences(sent, received), Is.EqualTo(new[] { "$.payload.details[available]: expected 9, got 8" }));
    }

    private static List<string> PayloadBranches(Schema schema) =>
        ((UnionSchema)((RecordSchema)schema)["payload"].Schema).Schemas.Select(s => s.Name).ToList();
}
