using GcpStreams.Client;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Processing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace GcpStreams.Topology;

/// <summary>
/// The gift-certificate topology. Four sub-topologies, each a single writer for what it owns:
/// <list type="number">
/// <item>intake: every input topic is read as raw bytes (one merged sub-topology), decoded and validated, then routed to the owner of the decision
///   through an internal topic (orders by order id, pool commands by pool id, ledger commands by certificate id), bad input to the dead letters;
///   it also owns the Idempotency-Keys (commands that carry one are keyed by it): one request per key across every pool;</item>
/// <item>orders (keyed by order id): the certificates an unpaid order reserved, released when its payment fails;</item>
/// <item>pools (keyed by pool id): reserve-next, loads, expiry and release of reservations, confirmation of paid reservations;</item>
/// <item>certificate ledgers (keyed by certificate id): issue, authorize, capture, void, hold expiry, refund, cancel, lock, CVC, notifications.</item>
/// </list>
/// Flows only go forward (intake -> orders -> pools -> ledgers), so there is no topic cycle. The hosted service and the tests call the
/// same <see cref="Build"/>.
/// </summary>
public static class GcpTopology
{
    private static readonly ByteArraySerDes Bytes = new();

    public static void Build(StreamBuilder builder, TopologySettings settings, Codec codec)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var internals = new InternalTopics(settings.ApplicationId);

        // the notification contact channel of a buyer (Client records by client id): any instance may need any client, so a global store
        builder.GlobalTable(Topics.Clients.Name, new StringSerDes(), Bytes, RocksDb.As<string, byte[]>(StoreNames.Clients), $"{StoreNames.Clients}-global-table");

        // the intake reads SalesOrder, Payment, GiftCertificateCommand and NotificationResult records, decodes and validates them and routes
        // each to the owner of its decision; it also owns the Idempotency-Keys: commands that carry one are keyed by it, so each key meets in one partition
        var intake = Intake(builder, codec, settings, Topics.SalesOrders, Topics.Payments, Topics.Commands, Topics.NotificationResults);
        Route(intake, ProcessorNames.Intake, settings, internals.OrderInput, internals.PoolInput, internals.CertificateInput, Topics.Stream, Topics.Replies, Topics.DeadLetter);

        // the certificates each unpaid order reserved, released to their pools when a payment of the order fails
        Owner<OrderProcessor, OrderInput>(builder, internals.OrderInput, ProcessorNames.OrderProcessor, LedgerStores.Builder(StoreNames.Orders), codec, settings,
            internals.PoolInput, Topics.Stream, Topics.DeadLetter);

        // only the pool processor decides a pool: it hands out, takes back and confirms reservations (a pool's counters change with
        // every decision: written once per commit)
        Owner<PoolProcessor, PoolInput>(builder, internals.PoolInput, ProcessorNames.PoolProcessor, LedgerStores.Buffered(StoreNames.Pools), codec, settings,
            Topics.Stream, Topics.State, Topics.Replies, internals.CertificateInput, Topics.DeadLetter);

        // only the certificate processor decides a ledger: every debit of one certificate happens here, one at a time
        Owner<CertificateProcessor, CertificateInput>(builder, internals.CertificateInput, ProcessorNames.CertificateProcessor, LedgerStores.Builder(StoreNames.Certificates), codec, settings,
            Topics.Stream, Topics.State, Topics.Replies, Topics.DeadLetter);
    }

    /// <summary>
    /// The intake: every input topic read as raw bytes and merged (one sub-topology, so one task per partition, not one per topic
    /// and partition), into its processor with the Idempotency-Key store.
    /// </summary>
    private static IKStream<byte[], Outgoing> Intake(StreamBuilder builder, Codec codec, TopologySettings settings, params ITopic[] inputs)
    {
        var merged = builder.Stream(inputs[0].Name, Bytes, Bytes, $"{ProcessorNames.Intake}-{inputs[0].Name}-source");
        foreach (var topic in inputs.Skip(1))
        {
            merged = merged.Merge(builder.Stream(topic.Name, Bytes, Bytes, $"{ProcessorNames.Intake}-{topic.Name}-source"), $"{ProcessorNames.Intake}-merge-{topic.Name}");
        }

        var intake = merged.Transform(
            TransformerBuilder.New<byte[], byte[], byte[], Outgoing>()
                .Transformer<IntakeTransformer>(codec, settings)
                .StateStore(LedgerStores.Builder(StoreNames.IdempotencyKeys))
                .Build(),
            ProcessorNames.Intake);

        // BI: the daily marts from the topology's outputs and Orders' and Payments' records (taken here: a topic has one source),
        // published on GiftCertificates.DailyReport (Reporting/)
        Reporting.ReportingTopology.Build(builder, settings, codec, merged);
        return intake;
    }

    /// <summary>
    /// A single owner of what its key names: the internal topic of its input type, keyed by that key, its processor with its
    /// RocksDB store, and the topics it writes.
    /// </summary>
    private static void Owner<TProcessor, TInput>(StreamBuilder builder, InternalTopic<TInput> input, string name, IStoreBuilder<IKeyValueStore<string, byte[]>> store,
        Codec codec, TopologySettings settings,
        params ITopic[] outputs)
        where TProcessor : ITransformer<byte[], byte[], byte[], Outgoing>, IReads<TInput>, new()
        where TInput : class
    {
        var owner = builder.Stream(input.Name, Bytes, Bytes, $"{name}-source")
            .Transform(
                TransformerBuilder.New<byte[], byte[], byte[], Outgoing>()
                    .Transformer<TProcessor>(codec, settings)
                    .StateStore(store)
                    .Build(),
                name);
        Route(owner, name, settings, outputs);
    }

    /// <summary>
    /// One static sink per destination topic (static, so the topology description and test driver know every link), writing to
    /// <see cref="TopologySettings.OutputTopic"/> of it; the BI reporting observes what the processor writes.
    /// </summary>
    private static void Route(IKStream<byte[], Outgoing> stream, string name, TopologySettings settings, params ITopic[] destinations)
    {
        Reporting.ReportingTopology.Observe(stream, name, settings); // BI: the facts of the events and dead letters it writes (Reporting/)
        string[] topics = [.. destinations.Select(d => d.Name)];
        var branches = stream.Branch($"{name}-route", [.. topics.Select(t => (Func<byte[], Outgoing, Streamiz.Kafka.Net.Processors.IRecordContext, bool>)((_, o, _) => o.Topic == t))]);
        for (var i = 0; i < topics.Length; i++)
        {
            FixedSink.To(branches[i], settings.OutputTopic(topics[i]), Bytes, new OutgoingSerDes(), $"{name}-to-{topics[i]}");
        }
    }
}
