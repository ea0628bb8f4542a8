using GcpStreams.Domain;
using GcpStreams.Domain.Pools;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Mapping;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// The single owner of each Idempotency-Key (input keyed by the caller's key, <c>{client}:{key}</c>), in front of the pools.
/// A key is one request across every pool and both write kinds (reservation, load): the first use claims it with the
/// request's fingerprint; a retry with the same request passes on to its pool (which replays the first outcome); the same
/// key with another request (another pool, body or kind) is refused here with IDEMPOTENCY_CONFLICT and reaches no pool.
/// Claims are kept for <see cref="TopologySettings.IdempotencyKeyRetention"/>, as the pools keep their outcomes.
/// </summary>
public sealed class IdempotencyGate : RecordTransformer
{
    private const string ClaimPrefix = "k/";
    private const string RetentionPrefix = "x/";

    private readonly TopologySettings settings;
    private IKeyValueStore<string, byte[]> store = null!;

    /// <summary>For Streamiz's prototype instance (see <see cref="PoolProcessor()"/>); never processes a record.</summary>
    public IdempotencyGate()
        : base(null!)
    {
        settings = null!;
    }

    public IdempotencyGate(Codec codec, TopologySettings settings)
        : base(codec)
    {
        this.settings = settings;
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.IdempotencyKeys);
        // claims past their retention are forgotten: a retry after that is a new request
        context.Schedule(settings.ReservationSweepInterval, PunctuationType.PROCESSING_TIME, now => TimeIndex.ForgetDue(store, RetentionPrefix, now));
    }

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source)
    {
        var input = InternalJson.Deserialize<PoolInput>(record.Value);
        var (key, fingerprint) = input.Command switch
        {
            ReserveNext { IdempotencyKey: { } k } r => (k, r.RequestFingerprint),
            LoadPool { IdempotencyKey: { } k } l => (k, l.RequestFingerprint),
            _ => throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"{input.Command.GetType().Name} without an idempotency key reached the idempotency gate"),
        };
        var claimKey = ClaimPrefix + key;
        if (store.Get(claimKey) is { } bytes)
        {
            var first = InternalJson.Deserialize<IdempotencyClaim>(bytes);
            if (first.RequestFingerprint != fingerprint)
            {
                return input.ReplyTo is null ? [] : [Codec.Reply(Conflict(input, key, first))];
            }
        }
        else
        {
            store.Put(claimKey, InternalJson.Serialize(new IdempotencyClaim(fingerprint, input.Command.PoolId, input.Command.CausationId)));
            store.Put(TimeIndex.Key(RetentionPrefix, input.Command.At + settings.IdempotencyKeyRetention, claimKey), []);
        }

        return [PoolProcessor.Input(settings, input.Command.PoolId, input.Command, input.CorrelationId, input.Source, input.ReplyTo, input.Caller)];
    }

    private static C.CommandReply Conflict(PoolInput input, string key, IdempotencyClaim first) => new()
    {
        requestId = input.Command.CausationId,
        replyTo = input.ReplyTo,
        outcome = C.ReplyOutcome.REJECTED,
        reason = EnumMap.Convert<RejectionReason, C.RejectionReason>(RejectionReason.IdempotencyConflict).ToString(),
        message = $"idempotency key '{key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..]}' was used for another request (pool {first.PoolId}, request {first.RequestId})",
        poolId = input.Command.PoolId,
        occurredAt = input.Command.At.UtcDateTime,
    };

    /// <summary>What an Idempotency-Key was first used for: the request's fingerprint, its pool and its request id.</summary>
    private sealed record IdempotencyClaim(string RequestFingerprint, string PoolId, string RequestId);
}
