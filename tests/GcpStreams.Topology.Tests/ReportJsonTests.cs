using System.Text;
using System.Text.Json;
using GcpStreams.Domain.Reporting;
using GcpStreams.Topology.Reporting;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// The marts are stored (and their changelog records produced) in a compact JSON: figures as pairs, zeros and empty breakdowns
/// left out. It reads back to the same values, and marts stored in the older verbose form still read.
/// </summary>
public sealed class ReportJsonTests
{
    /// <summary>A day's mart as the verbose form stored it during a soak (1 December 2026), ~2 KB.</summary>
    private const string VerboseMart = """
        {"day":"2026-12-01","channel":"INTERNET_STORE","finalAt":"2026-12-01T23:00:00+00:00","revision":6197,"final":false,"issued":{"count":762,"amountMinor":496000000},"redeemed":{"count":1519,"amountMinor":233631007},"refunded":{"count":134,"amountMinor":20384004},"voided":{"count":476,"amountMinor":43057522},"cancelled":{"count":0,"amountMinor":0},"locked":104,"unlocked":104,"cvcDisclosures":0,"notificationsSent":0,"notificationsFailed":0,"notificationsOverdue":608,"issueBlocked":0,"reservationsExpired":0,"balanceChangeMinor":282752997,"liabilityMinor":282752997,"orderCertificates":{"count":762,"amountMinor":496000000},"orderTenders":{"count":0,"amountMinor":0},"orderReturns":{"count":0,"amountMinor":0},"paymentCaptures":{"count":1623,"amountMinor":233631111},"duplicateOrderRecords":0,"duplicatePaymentRecords":0,"mismatches":["capture"],"mismatchSince":"2026-12-01T06:54:27.177+00:00","alertedMismatch":"issue.RUB:443/285500000=442/284500000;capture.RUB:0/0=955/135676997;return.RUB:0/0=0/0","mismatchAlerts":1,"corrections":0,"currencies":{"RUB":{"issued":{"count":762,"amountMinor":496000000},"redeemed":{"count":1519,"amountMinor":233631007},"refunded":{"count":134,"amountMinor":20384004},"voided":{"count":476,"amountMinor":43057522},"cancelled":{"count":0,"amountMinor":0},"balanceChangeMinor":282752997,"liabilityMinor":282752997,"orderCertificates":{"count":762,"amountMinor":496000000},"orderTenders":{"count":0,"amountMinor":0},"orderReturns":{"count":0,"amountMinor":0},"paymentCaptures":{"count":1623,"amountMinor":233631111}}},"pools":{"rel-web-10000":{"issued":{"count":382,"amountMinor":382000000},"redeemed":{"count":758,"amountMinor":179371868},"issueBlocked":0,"reservationsExpired":0},"rel-web-3000":{"issued":{"count":380,"amountMinor":114000000},"redeemed":{"count":761,"amountMinor":54259139},"issueBlocked":0,"reservationsExpired":0}},"stores":{},"deadLetters":{},"alerts":{"LOCKED_CERTIFICATE_USE":104,"RECONCILIATION_MISMATCH":1}}
        """;

    /// <summary>Every value of a mart, written in a form that leaves nothing out, to compare two marts by.</summary>
    private static readonly JsonSerializerOptions Everything = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    [Test]
    public void AMartStoredVerbosely_ReadsToTheSameMart_AndIsWrittenBackInAboutHalfTheBytes()
    {
        var mart = ReportJson.Deserialize<DailyMart>(Encoding.UTF8.GetBytes(VerboseMart));
        var compact = ReportJson.Serialize(mart);
        var again = ReportJson.Deserialize<DailyMart>(compact);

        Assert.That(mart.Redeemed, Is.EqualTo(new Figure(1519, 233631007)));
        Assert.That(mart.Currencies["RUB"].PaymentCaptures, Is.EqualTo(new Figure(1623, 233631111)));
        Assert.That(mart.Alerts["LOCKED_CERTIFICATE_USE"], Is.EqualTo(104));
        Assert.That(JsonSerializer.Serialize(again, Everything), Is.EqualTo(JsonSerializer.Serialize(mart, Everything)), "the compact form keeps every value");
        Assert.That(compact.Length, Is.LessThan(Encoding.UTF8.GetByteCount(VerboseMart) * 0.6), Encoding.UTF8.GetString(compact)); // 1 963 -> 1 058 bytes
        Assert.That(Encoding.UTF8.GetString(compact), Does.Contain("\"redeemed\":[1519,233631007]").And.Not.Contain("\"cancelled\"").And.Not.Contain("\"stores\""));
    }

    [Test]
    public void AnEmptyMart_AndFactsWithZerosAndTheFirstMeasure_RoundTrip()
    {
        var empty = new DailyMart { Day = new DateOnly(2026, 12, 1), Channel = "POS", FinalAt = new DateTimeOffset(2026, 12, 1, 23, 0, 0, TimeSpan.Zero) };
        var fact = new ReportFact
        {
            Channel = "POS",
            OccurredAt = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero),
            RecordedAt = new DateTimeOffset(2026, 12, 1, 10, 0, 1, TimeSpan.Zero),
            Deltas = [new Delta(Measure.Issued, 0), new Delta(Measure.Alert, 1, 0, "PRODUCE_FAILED")],
        };
        var noDeltas = fact with { Deltas = [] };

        Assert.That(JsonSerializer.Serialize(ReportJson.Deserialize<DailyMart>(ReportJson.Serialize(empty)), Everything), Is.EqualTo(JsonSerializer.Serialize(empty, Everything)));
        Assert.That(ReportJson.Deserialize<ReportFact>(ReportJson.Serialize(fact)).Deltas, Is.EqualTo(fact.Deltas));
        Assert.That(ReportJson.Deserialize<ReportFact>(ReportJson.Serialize(noDeltas)).Deltas, Is.Empty, "a required list is written even when empty");
    }
}
