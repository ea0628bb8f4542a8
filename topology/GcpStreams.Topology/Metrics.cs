using System.Diagnostics.Metrics;
using GcpStreams.Client;
using GcpStreams.Topology.Processing;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology;

/// <summary>
/// The topology's business and stream counters, on the <see cref="System.Diagnostics.Metrics"/> meter <see cref="MeterName"/>
/// (the host exports it at <c>/metrics</c>). Counted in the topology layer, never in the domain: every processor hands what it
/// emits to <see cref="Emitted"/> and, once per input record, to <see cref="Processed"/>. The outputs are classified by the
/// contract record they were encoded from (<see cref="Outgoing.Contract"/>), so nothing is decoded again.
/// </summary>
/// <remarks>
/// Names as Prometheus shows them (OpenTelemetry adds <c>_total</c> to counters and <c>_seconds</c> for unit <c>s</c>):
/// <list type="bullet">
/// <item><c>gcp_stream_records_processed_total{subtopology}</c>: input records handled per sub-topology (processor name);</item>
/// <item><c>gcp_decisions_total{subtopology, outcome, reason}</c>: what became of each input record (<see cref="Outcomes"/>);
///   <c>reason</c> is the rejection or dead-letter reason, <c>none</c> otherwise;</item>
/// <item><c>gcp_events_total{event_type}</c>: events published on GiftCertificates.Stream;</item>
/// <item><c>gcp_alerts_total{kind, severity}</c>: <c>alert</c> events by kind;</item>
/// <item><c>gcp_dead_letters_total{source_topic, reason}</c>: records written to GiftCertificates.DeadLetter;</item>
/// <item><c>gcp_stream_event_latency_seconds{subtopology}</c>: from an input record's timestamp to the moment the processor
///   emitted the events it caused (end to end for the input topics: internal topics keep the original timestamp).</item>
/// </list>
/// Under exactly-once a transaction that aborts is processed again, and its outputs counted again: these count decisions made.
/// </remarks>
public static class TopologyMetrics
{
    public const string MeterName = "GcpStreams.Topology";

    /// <summary>The outcome label of <c>gcp_decisions_total</c>.</summary>
    public static class Outcomes
    {
        /// <summary>The owner decided and published at least one event that is not a refusal.</summary>
        public const string Accepted = "accepted";

        /// <summary>Refused (<c>operation.rejected</c>, <c>issue.blocked</c>, or a REJECTED reply from the intake), with the reason.</summary>
        public const string Rejected = "rejected";

        /// <summary>A delivery seen before: only a <c>DUPLICATE_EVENT</c> alert (or a replayed reply).</summary>
        public const string Duplicate = "duplicate";

        /// <summary>Invalid or undecodable: dead-lettered, with the reason.</summary>
        public const string DeadLettered = "dead_lettered";

        /// <summary>Passed on to an owner through an internal topic (the intake, the order processor).</summary>
        public const string Routed = "routed";

        /// <summary>Only alerts were published.</summary>
        public const string Alerted = "alerted";

        /// <summary>Not the service's business: nothing written.</summary>
        public const string Ignored = "ignored";
    }

    public const string NoReason = "none";

    /// <summary>Histogram buckets for latencies in seconds: 5 ms to 10 s, dense around the 200-300 ms objectives (before the instruments that use them).</summary>
    public static IReadOnlyList<double> LatencyBuckets { get; } = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10];

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> RecordsProcessed = Meter.CreateCounter<long>(
        "gcp.stream.records_processed", description: "Input records handled, per sub-topology (its processor's name).");

    private static readonly Counter<long> Decisions = Meter.CreateCounter<long>(
        "gcp.decisions", description: "What became of each input record: outcome (accepted, rejected, duplicate, dead_lettered, routed, alerted, ignored) and reason.");

    private static readonly Counter<long> Events = Meter.CreateCounter<long>(
        "gcp.events", description: "Events published on GiftCertificates.Stream, by event type.");

    private static readonly Counter<long> Alerts = Meter.CreateCounter<long>(
        "gcp.alerts", description: "alert events published on GiftCertificates.Stream, by kind and severity.");

    private static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>(
        "gcp.dead_letters", description: "Records written to GiftCertificates.DeadLetter, by source topic and reason.");

    private static readonly Histogram<double> EventLatency = Meter.CreateHistogram(
        "gcp.stream.event_latency", unit: "s", description: "From the input record's timestamp to the emission of the events it caused, per sub-topology.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary>The sub-topology label of a processor: its name (<see cref="ProcessorNames"/>).</summary>
    public static string SubTopologyOf(RecordTransformer transformer) => transformer switch
    {
        IntakeTransformer => ProcessorNames.Intake,
        OrderProcessor => ProcessorNames.OrderProcessor,
        PoolProcessor => ProcessorNames.PoolProcessor,
        CertificateProcessor => ProcessorNames.CertificateProcessor,
        _ => transformer?.GetType().Name ?? "unknown",
    };

    /// <summary>Counts what one output is (an event, an alert, a dead letter). Called for every output, timers' included.</summary>
    public static void Emitted(Outgoing output)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (output.Contract)
        {
            case C.GiftCertificateEvent e:
                Events.Add(1, new KeyValuePair<string, object?>("event_type", e.eventType));
                if (e.payload is C.Alert alert)
                {
                    Alerts.Add(1, new KeyValuePair<string, object?>("kind", alert.kind.ToString()), new KeyValuePair<string, object?>("severity", alert.severity.ToString()));
                }

                break;
            case C.DeadLetter letter:
                DeadLetters.Add(1, new KeyValuePair<string, object?>("source_topic", letter.sourceTopic), new KeyValuePair<string, object?>("reason", letter.reason.ToString()));
                break;
        }
    }

    /// <summary>Counts one input record handled by <paramref name="transformer"/>, its outcome, and its latency if it caused events.</summary>
    public static void Processed(RecordTransformer transformer, long inputTimestampMs, IReadOnlyList<Outgoing> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var subTopology = new KeyValuePair<string, object?>("subtopology", SubTopologyOf(transformer));
        RecordsProcessed.Add(1, subTopology);
        var (outcome, reason) = Classify(outputs);
        Decisions.Add(1, subTopology, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));
        if (inputTimestampMs > 0 && outputs.Any(o => o.Contract is C.GiftCertificateEvent))
        {
            var seconds = Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - inputTimestampMs) / 1000.0;
            EventLatency.Record(seconds, subTopology);
        }
    }

    /// <summary>The outcome and reason of one input record, from what it caused (see <see cref="Outcomes"/>).</summary>
    public static (string Outcome, string Reason) Classify(IReadOnlyList<Outgoing> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count == 0)
        {
            return (Outcomes.Ignored, NoReason);
        }

        string? deadLetter = null;
        bool accepted = false, alerted = false, duplicate = false, replayed = false, routed = false;
        foreach (var output in outputs)
        {
            switch (output.Contract)
            {
                case C.GiftCertificateEvent { payload: C.OperationRejected rejected }:
                    return (Outcomes.Rejected, rejected.reason.ToString());
                case C.GiftCertificateEvent { payload: C.IssueBlocked }:
                    return (Outcomes.Rejected, nameof(C.RejectionReason.POOL_EMPTY));
                case C.GiftCertificateEvent { payload: C.Alert { kind: C.AlertKind.DUPLICATE_EVENT } }:
                    duplicate = true;
                    break;
                case C.GiftCertificateEvent { payload: C.Alert }:
                    alerted = true;
                    break;
                case C.GiftCertificateEvent:
                    accepted = true;
                    break;
                case C.CommandReply { outcome: C.ReplyOutcome.REJECTED } reply:
                    return (Outcomes.Rejected, reply.reason is { Length: > 0 } r ? r : nameof(C.RejectionReason.UNKNOWN));
                case C.CommandReply { replayed: true }:
                    replayed = true;
                    break;
                case C.DeadLetter letter:
                    deadLetter ??= letter.reason.ToString();
                    break;
                case null:
                    routed = true; // an internal command to an owner
                    break;
            }
        }

        return deadLetter is not null ? (Outcomes.DeadLettered, deadLetter)
            : accepted ? (Outcomes.Accepted, NoReason)
            : duplicate || replayed ? (Outcomes.Duplicate, NoReason)
            : routed ? (Outcomes.Routed, NoReason)
            : alerted ? (Outcomes.Alerted, NoReason)
            : (Outcomes.Accepted, NoReason);
    }
}
