using System.Diagnostics.Metrics;
using System.Text;
using GcpStreams.Client;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// The topology's counters (meter <see cref="TopologyMetrics.MeterName"/>) as a listener sees them: an undecodable record is
/// one dead letter of its source topic with its reason, one INVALID_EVENT alert and one dead-lettered decision of the intake.
/// </summary>
public class MetricsTopologyTests
{
    [Test]
    public void AnUndecodableRecord_CountsOneDeadLetter_OneAlert_AndOneDeadLetteredDecision()
    {
        var seen = new List<(string Instrument, long Value, Dictionary<string, string?> Tags)>();
        var testThread = Environment.CurrentManagedThreadId; // the test driver processes on the test's thread; other tests' records are not ours
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TopologyMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (Environment.CurrentManagedThreadId != testThread)
            {
                return;
            }

            lock (seen)
            {
                seen.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString())));
            }
        });
        listener.Start();

        using (var f = new TopologyFixture())
        {
            f.PipeRaw(Topics.Payments.Name, Encoding.UTF8.GetBytes("k0"), Encoding.UTF8.GetBytes("not avro"));
        }

        List<(string Instrument, long Value, Dictionary<string, string?> Tags)> measured;
        lock (seen)
        {
            measured = [.. seen];
        }

        Assert.Multiple(() =>
        {
            Assert.That(measured.Where(m => m.Instrument == "gcp.dead_letters").Select(m => (m.Value, m.Tags["source_topic"], m.Tags["reason"])),
                Is.EqualTo(new[] { (1L, (string?)Topics.Payments.Name, (string?)"UNDECODABLE") }));
            Assert.That(measured.Where(m => m.Instrument == "gcp.alerts").Select(m => (m.Tags["kind"], m.Tags["severity"])),
                Is.EqualTo(new[] { ((string?)"INVALID_EVENT", (string?)"WARNING") }));
            Assert.That(measured.Where(m => m.Instrument == "gcp.decisions").Select(m => (m.Tags["subtopology"], m.Tags["outcome"], m.Tags["reason"])),
                Is.EqualTo(new[] { ((string?)ProcessorNames.Intake, (string?)TopologyMetrics.Outcomes.DeadLettered, (string?)"UNDECODABLE") }));
            Assert.That(measured.Count(m => m.Instrument == "gcp.stream.records_processed"), Is.EqualTo(1));
        });
    }

    [Test]
    public void Classify_NamesTheOutcomeOfWhatAnInputCaused()
    {
        var headers = new Confluent.Kafka.Headers();
        Outgoing Of(object? contract) => new("t", null, null, headers) { Contract = contract };
        Assert.Multiple(() =>
        {
            Assert.That(TopologyMetrics.Classify([]), Is.EqualTo((TopologyMetrics.Outcomes.Ignored, TopologyMetrics.NoReason)));
            Assert.That(TopologyMetrics.Classify([Of(null)]), Is.EqualTo((TopologyMetrics.Outcomes.Routed, TopologyMetrics.NoReason)));
            Assert.That(TopologyMetrics.Classify([Of(new Contracts.GiftCertificateEvent { eventType = "certificate.issued", payload = new Contracts.CertificateIssued() })]),
                Is.EqualTo((TopologyMetrics.Outcomes.Accepted, TopologyMetrics.NoReason)));
            Assert.That(TopologyMetrics.Classify([Of(new Contracts.GiftCertificateEvent { payload = new Contracts.OperationRejected { reason = Contracts.RejectionReason.INSUFFICIENT_FUNDS } })]),
                Is.EqualTo((TopologyMetrics.Outcomes.Rejected, "INSUFFICIENT_FUNDS")));
            Assert.That(TopologyMetrics.Classify([Of(new Contracts.GiftCertificateEvent { payload = new Contracts.IssueBlocked() })]),
                Is.EqualTo((TopologyMetrics.Outcomes.Rejected, "POOL_EMPTY")));
            Assert.That(TopologyMetrics.Classify([Of(new Contracts.CommandReply { outcome = Contracts.ReplyOutcome.REJECTED, reason = "IDEMPOTENCY_CONFLICT" })]),
                Is.EqualTo((TopologyMetrics.Outcomes.Rejected, "IDEMPOTENCY_CONFLICT")));
            Assert.That(TopologyMetrics.Classify([Of(new Contracts.GiftCertificateEvent { payload = new Contracts.Alert { kind = Contracts.AlertKind.DUPLICATE_EVENT } })]),
                Is.EqualTo((TopologyMetrics.Outcomes.Duplicate, TopologyMetrics.NoReason)));
            Assert.That(TopologyMetrics.Classify([Of(new Contracts.GiftCertificateEvent { payload = new Contracts.Alert { kind = Contracts.AlertKind.CHANNEL_MISMATCH } })]),
                Is.EqualTo((TopologyMetrics.Outcomes.Alerted, TopologyMetrics.NoReason)));
        });
    }
}
