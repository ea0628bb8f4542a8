using GcpStreams.Client;
using GcpStreams.Domain.Reporting;
using GcpStreams.Topology.Internal;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;

namespace GcpStreams.Topology.Reporting;

/// <summary>
/// R7.0, the BI daily marts, as their own sub-topology after everything else (flows only go forward):
/// <list type="number">
/// <item>facts: what each processor writes to <c>GiftCertificates.Stream</c> and <c>GiftCertificates.DeadLetter</c> (taken from its
///   output stream, <see cref="Observe"/>) and Orders' and Payments' records as the intake reads them (<see cref="Build"/>, for the
///   reconciliation) become typed facts keyed by channel, on the facts topic (<c>{app}-report-facts-repartition</c>);</item>
/// <item>marts: one owner per channel applies them to the daily marts in its RocksDB store (<see cref="DailyReportProcessor"/>),
///   publishes each changed mart on the compacted <c>GiftCertificates.DailyReport</c>, and reconciliation alerts on the stream.</item>
/// </list>
/// No topology topic is read back: the reconciliation alerts it writes to <c>GiftCertificates.Stream</c> are counted by the mart that
/// raised them.
/// </summary>
public static class ReportingTopology
{
    private static readonly ByteArraySerDes Bytes = new();

    /// <summary>
    /// The facts topic of one writer of the application <paramref name="applicationId"/> (<paramref name="writer"/>: a processor, or
    /// <c>reporting</c> for Orders' and Payments' records). One topic per writing sub-topology: the marts merge them.
    /// </summary>
    public static string FactsTopic(string applicationId, string writer) => $"{applicationId}-report-facts-{writer}-repartition";

    /// <summary>
    /// The writer of the facts the API instances write themselves, outside the topology: the <c>PRODUCE_FAILED</c> alerts, which an
    /// instance writes to GiftCertificates.Stream when its stream could not write a record (<see cref="ProductionFailureFact"/>).
    /// </summary>
    public const string ApiWriter = "api";

    /// <summary>The writers of facts, one facts topic each: the processors whose outputs are observed, the inputs, and the API instances.</summary>
    public static readonly IReadOnlyList<string> Writers =
        [ProcessorNames.Intake, ProcessorNames.OrderProcessor, ProcessorNames.PoolProcessor, ProcessorNames.CertificateProcessor, ProcessorNames.Reporting, ApiWriter];

    /// <summary>
    /// The fact of a <c>PRODUCE_FAILED</c> alert an API instance raised at <paramref name="at"/>, for the facts topic of the
    /// <see cref="ApiWriter"/>: counted among the alerts by kind of the day's control record (channel UNKNOWN). The alert itself
    /// goes to GiftCertificates.Stream, which the reporting does not read.
    /// </summary>
    public static Outgoing ProductionFailureFact(string applicationId, DateTimeOffset at)
    {
        var fact = new ReportFact
        {
            Channel = ReportFacts.NoChannel,
            OccurredAt = at,
            RecordedAt = at,
            Deltas = [new Delta(Measure.Alert, 1, 0, nameof(GcpStreams.Contracts.AlertKind.PRODUCE_FAILED))],
        };
        return new Outgoing(FactsTopic(applicationId, ApiWriter), Codec.Utf8(fact.Channel), ReportJson.Serialize(fact), new Confluent.Kafka.Headers());
    }

    /// <summary>
    /// Takes the facts of what one processor of the topology writes (its events and dead letters) to the facts topic: from its
    /// output stream, before the records reach their topics, so the reporting reads no topic the topology writes (flows only go
    /// forward; the reconciliation alerts it writes to GiftCertificates.Stream are not read back).
    /// </summary>
    public static void Observe(IKStream<byte[], Outgoing> outputs, string processor, TopologySettings settings)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(settings);
        FixedSink.To(outputs.FlatMap((_, o, ctx) => Safely(() => ReportFacts.FromOutput(o, ctx.Timestamp)), $"{processor}-report-facts"),
            FactsTopic(settings.ApplicationId, processor), new StringSerDes(), new ReportFactSerDes(), $"{processor}-to-report-facts");
    }

    /// <summary>
    /// Adds the reporting sub-topologies. <paramref name="inputs"/> is the intake's merged stream of the input topics as read
    /// (raw bytes): a topic has one source in a topology, so Orders' and Payments' records are taken from there, by topic.
    /// </summary>
    public static void Build(StreamBuilder builder, TopologySettings settings, Codec codec, IKStream<byte[], byte[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(inputs);
        var decoder = new ReportFacts(codec);
        var factSerDes = new ReportFactSerDes();

        // Orders' certificate lines, tenders and returns, and Payments' certificate captures: the other side of the reconciliation
        var inputFacts = inputs.FlatMap((_, v, ctx) => Safely(() => ctx.Topic == Topics.SalesOrders.Name ? decoder.FromOrder(v, ctx.Timestamp)
            : ctx.Topic == Topics.Payments.Name ? decoder.FromPayment(v, ctx.Timestamp)
            : []), $"{ProcessorNames.Reporting}-input-facts");
        FixedSink.To(inputFacts, FactsTopic(settings.ApplicationId, ProcessorNames.Reporting), new StringSerDes(), factSerDes, $"{ProcessorNames.Reporting}-to-report-facts");

        // the marts: every fact goes to the owner of its channel (the facts topic is keyed by channel: a channel's liability chains its days)
        IKStream<string, ReportFact>? all = null;
        foreach (var writer in Writers)
        {
            var facts = builder.Stream(FactsTopic(settings.ApplicationId, writer), new StringSerDes(), factSerDes, $"{ProcessorNames.DailyReports}-{writer}-source");
            all = all is null ? facts : all.Merge(facts, $"{ProcessorNames.DailyReports}-merge-{writer}");
        }

        var marts = all!
            .Transform(
                TransformerBuilder.New<string, ReportFact, byte[], Outgoing>()
                    .Transformer<DailyReportProcessor>(codec, settings)
                    .StateStore(LedgerStores.Buffered(StoreNames.DailyReports)) // a day's mart changes with every fact: written once per commit
                    .Build(),
                ProcessorNames.DailyReports);
        var routes = marts.Branch($"{ProcessorNames.DailyReports}-route",
            (_, o, _) => o.Topic == Topics.DailyReport.Name,
            (_, o, _) => o.Topic == Topics.Stream.Name);
        FixedSink.To(routes[0], settings.OutputTopic(Topics.DailyReport.Name), Bytes, new OutgoingSerDes(), $"{ProcessorNames.DailyReports}-to-{Topics.DailyReport.Name}");
        FixedSink.To(routes[1], settings.OutputTopic(Topics.Stream.Name), Bytes, new OutgoingSerDes(), $"{ProcessorNames.DailyReports}-to-{Topics.Stream.Name}");
    }

    /// <summary>The facts, or none if taking them fails: the report never stops the stream (the intake dead-letters bad input).</summary>
    private static List<KeyValuePair<string, ReportFact>> Safely(Func<IEnumerable<KeyValuePair<string, ReportFact>>> facts)
    {
        try
        {
            return [.. facts()];
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Streamiz.Kafka.Net.Crosscutting.Logger.GetLogger(typeof(ReportingTopology)).LogWarning(e, "A record gave no report facts");
            return [];
        }
    }
}
