using GcpStreams.Client;
using GcpStreams.Domain.Pools;
using GcpStreams.Topology.Internal;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// Remembers which certificates each unpaid order reserved (input keyed by order id), so that when a payment of the order
/// fails the order's reservations go back to their pools at once instead of waiting for their holds to end. Payments name
/// the order but not its certificates, and are keyed by payment id, hence this owner keyed by order id between the intake
/// and the pools. The lines are kept for <see cref="TopologySettings.OrderLinesRetention"/> (longer than any reservation).
/// </summary>
public sealed class OrderProcessor : RecordTransformer, IReads<OrderInput>
{
    private const string LinesPrefix = "o/";
    private const string RetentionPrefix = "x/";

    private readonly TopologySettings settings;
    private IKeyValueStore<string, byte[]> store = null!;

    /// <summary>For Streamiz's prototype instance (see <see cref="PoolProcessor()"/>); never processes a record.</summary>
    public OrderProcessor()
        : base(null!, null!)
    {
        settings = null!;
    }

    public OrderProcessor(Codec codec, TopologySettings settings)
        : base(codec, settings)
    {
        this.settings = settings;
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Orders);
        context.Schedule(settings.ReservationSweepInterval, PunctuationType.PROCESSING_TIME, now => TimeIndex.ForgetDue(store, RetentionPrefix, now));
    }

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source)
    {
        var input = Internals.OrderInput.Read(record.Value);
        var key = LinesPrefix + input.OrderId;
        if (input.PlacedLines is { Count: > 0 } placed)
        {
            var known = Lines(key);
            store.Put(key, InternalJson.Serialize(known.Concat(placed.Where(p => !known.Any(k => k.CertificateId == p.CertificateId))).ToList()));
            store.Put(TimeIndex.Key(RetentionPrefix, input.At + settings.OrderLinesRetention, key), []);
            return [];
        }

        if (input.FailedPaymentId is not { } paymentId)
        {
            return [];
        }

        return
        [
            .. Lines(key).Select(line => PoolProcessor.Input(Internals,
                new ReleaseReservation(line.PoolId, $"{input.CausationId}/{line.LineId}", input.At, line.CertificateId, input.OrderId, $"payment {paymentId} failed"),
                input.CorrelationId, input.Source)),
        ];
    }

    private List<ReservedLine> Lines(string key) => store.Get(key) is { } bytes ? InternalJson.Deserialize<List<ReservedLine>>(bytes) : [];
}
