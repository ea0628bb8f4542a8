using System.Globalization;
using Microsoft.Extensions.Logging;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Mapping;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// The single owner of each pool (input keyed by pool id). It decides with <see cref="PoolDecider"/> only, keeps the pool's
/// counters, slots, reservations and reservation deadlines in the <see cref="StoreNames.Pools"/> store (one small entry each),
/// publishes pool and reservation events, replies to the API, and hands confirmed reservations to the certificate ledgers.
/// Reservation expiry is a wall-clock punctuation: liveness needs the clock (stream time stands still when no input arrives),
/// while the decision itself uses the reservation's deadline, so the events it produces are the same on a replay.
/// </summary>
public sealed class PoolProcessor : RecordTransformer, IPoolStore
{
    private const int MaxExpiriesPerSweep = 1_000;
    private static readonly ILogger Log = Streamiz.Kafka.Net.Crosscutting.Logger.GetLogger(typeof(PoolProcessor));

    private readonly TopologySettings settings;
    private readonly PoolSettings poolSettings;
    private IKeyValueStore<string, byte[]> store = null!;

    /// <summary>
    /// For Streamiz's <c>TransformerBuilder.Transformer&lt;T&gt;(params)</c>, which creates a prototype with <c>new T()</c> and then one
    /// instance per task through the constructor that takes the parameters. The prototype never processes a record.
    /// </summary>
    public PoolProcessor()
        : base(null!)
    {
        settings = null!;
        poolSettings = null!;
    }

    public PoolProcessor(Codec codec, TopologySettings settings)
        : base(codec)
    {
        this.settings = settings;
        poolSettings = new PoolSettings(settings.NumberingKey, settings.MaxLoadBatch);
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Pools);
        context.Schedule(settings.ReservationSweepInterval, PunctuationType.PROCESSING_TIME, Sweep);
    }

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source)
    {
        var input = InternalJson.Deserialize<PoolInput>(record.Value);
        return Decide(input.Command, input.ReplyTo, input.CorrelationId, input.Source);
    }

    /// <summary>The wall-clock sweep: expires due reservations, then forgets idempotency keys past their retention.</summary>
    internal void Sweep(long wallClockMs)
    {
        ExpireDueReservations(wallClockMs);
        ForgetExpiredIdempotencyKeys(wallClockMs);
    }

    /// <summary>Expires every reservation whose deadline has passed (bounded per sweep; the rest wait for the next one).</summary>
    private void ExpireDueReservations(long wallClockMs)
    {
        foreach (var (key, poolId, certificateId, deadline) in DueKeys(Keys.DeadlinePrefix, wallClockMs).Select(Keys.ParseDeadline))
        {
            var causation = DeterministicId.Derive("expire", poolId, certificateId, deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            try
            {
                Emit(Decide(new ExpireReservation(poolId, causation, deadline, certificateId), null, null, null));
                store.Delete(key); // issued in time or expired now: the deadline is done either way
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // the deadline stays, so the next sweep retries; the other reservations still expire
                Log.LogError(e, "Could not expire the reservation of {Certificate} in pool {Pool}", certificateId, poolId);
            }
        }
    }

    /// <summary>
    /// Deletes the idempotency-key entries (reservations and loads) whose retention has passed, with their index entries
    /// (bounded per sweep). A store-only effect: no event, and a retry after it is a new request.
    /// </summary>
    private void ForgetExpiredIdempotencyKeys(long wallClockMs)
    {
        foreach (var index in DueKeys(Keys.RetentionPrefix, wallClockMs))
        {
            store.Delete(Keys.RetainedKey(index));
            store.Delete(index);
        }
    }

    /// <summary>The keys of a time index due at the wall clock, oldest first, at most <see cref="MaxExpiriesPerSweep"/> (the rest wait for the next sweep).</summary>
    private List<string> DueKeys(string prefix, long wallClockMs)
    {
        var due = new List<string>();
        using var range = store.Range(prefix, Keys.DueUpTo(prefix, DateTimeOffset.FromUnixTimeMilliseconds(wallClockMs)));
        while (range.MoveNext() && due.Count < MaxExpiriesPerSweep)
        {
            due.Add(range.Current!.Value.Key);
        }

        return due;
    }

    private IReadOnlyList<Outgoing> Decide(PoolCommand command, string? replyTo, string? correlationId, SourceRecord? source)
    {
        var before = Load(command.PoolId);
        var events = PoolDecider.Decide(command, before, this, poolSettings);
        var writes = new List<(string Key, byte[]? Value)>();
        var outputs = new List<Outgoing>();
        var eventIds = new List<string>();
        var pool = before;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            pool = PoolDecider.Evolve(pool, e);
            var eventId = StreamEvents.EventId(StreamEvents.CertificateOf(e) ?? e.PoolId, e.CausationId, i);
            eventIds.Add(eventId);
            StoreEffects(e, writes);
            if (StreamEvents.Payload(e) is { } payload)
            {
                var key = StreamEvents.CertificateOf(e) ?? e.PoolId;
                var subject = new EventSubject(key, StreamEvents.CertificateOf(e), e.PoolId, pool?.Channel ?? ChannelOf(command), pool?.Currency, pool?.Sequence ?? 0);
                var envelope = StreamEvents.Envelope(subject, e.EventType, e.CausationId, e.At, correlationId, i, payload);
                outputs.Add(Codec.Event(envelope, key));
            }

            switch (e)
            {
                case PoolCertificateReserved reserved:
                    outputs.Add(Codec.State(StateRecords.Reserved(pool!, reserved, eventId)));
                    break;
                case ReservationExpired expired:
                    outputs.Add(Codec.State(StateRecords.Available(pool!, expired, eventId)));
                    break;
                case ReservationIssued issued:
                    var identity = new CertificateIdentity(issued.CertificateId, issued.PoolId, issued.Channel, issued.NominalMinor, issued.Currency);
                    var issue = new IssueCertificate(issued.CertificateId, issued.CausationId, issued.At, identity, issued.OrderId, issued.ClientId, issued.Contact, settings.CvcKeyVersion);
                    outputs.Add(new Outgoing(Topics.CertificateInput(settings.ApplicationId), Codec.Utf8(issued.CertificateId),
                        InternalJson.Serialize(new CertificateInput(issue, null, correlationId, null, source)), []));
                    break;
            }
        }

        if (replyTo is not null && events.Count > 0)
        {
            outputs.Add(Codec.Reply(Replies.ForPool(command, events, eventIds, replyTo)));
        }

        if (pool is not null && events.Count > 0)
        {
            writes.Add((Keys.Pool(pool.PoolId), InternalJson.Serialize(PoolSnapshot.From(pool))));
        }

        foreach (var (key, value) in writes)
        {
            if (value is null)
            {
                store.Delete(key);
            }
            else
            {
                store.Put(key, value);
            }
        }

        return outputs;
    }

    private void StoreEffects(PoolEvent e, List<(string Key, byte[]? Value)> writes)
    {
        switch (e)
        {
            case PoolLoaded loaded:
                for (var i = 0; i < loaded.Numbers.Count; i++)
                {
                    writes.Add((Keys.Slot(loaded.PoolId, loaded.FirstSlot + i), Codec.Utf8(loaded.Numbers[i])));
                }

                if (loaded.IdempotencyKey is { } loadKey)
                {
                    var keyed = Keys.LoadKey(loaded.PoolId, loadKey);
                    writes.Add((keyed, InternalJson.Serialize(new KeyedLoad(loadKey, loaded.RequestFingerprint, loaded.CausationId, loaded.FirstSlot, loaded.Numbers.Count))));
                    writes.Add((Keys.Retention(loaded.At + settings.IdempotencyKeyRetention, keyed), []));
                }

                break;
            case PoolCertificateReserved r:
                writes.Add((Keys.Slot(r.PoolId, r.Slot), null));
                writes.Add((Keys.Reservation(r.PoolId, r.CertificateId), InternalJson.Serialize(new Reservation(r.CertificateId, r.PoolId, r.Slot, r.RequestId, r.OrderId, r.ReservedUntil))));
                writes.Add((Keys.Deadline(r.ReservedUntil, r.PoolId, r.CertificateId), []));
                if (r.IdempotencyKey is { } key)
                {
                    var keyed = Keys.IdempotencyKey(r.PoolId, key);
                    writes.Add((keyed, InternalJson.Serialize(new KeyedReservation(key, r.RequestFingerprint, r.CertificateId, r.RequestId, r.ReservedUntil))));
                    writes.Add((Keys.Retention(r.At + settings.IdempotencyKeyRetention, keyed), []));
                }

                break;
            case ReservationExpired x:
                writes.Add((Keys.Reservation(x.PoolId, x.CertificateId), null));
                writes.Add((Keys.Slot(x.PoolId, x.Slot), Codec.Utf8(x.CertificateId)));
                break;
            case ReservationIssued x:
                var reservation = ReservationOf(x.PoolId, x.CertificateId)!;
                writes.Add((Keys.Reservation(x.PoolId, x.CertificateId), InternalJson.Serialize(reservation with { IssuedToOrder = x.OrderId })));
                writes.Add((Keys.Deadline(reservation.ReservedUntil, x.PoolId, x.CertificateId), null));
                break;
        }
    }

    private static Channel ChannelOf(PoolCommand command) => command switch
    {
        LoadPool l => l.Channel,
        ReserveNext r => r.Channel,
        IssueReserved i => i.Channel,
        _ => Channel.Unknown,
    };

    private Pool? Load(string poolId) =>
        store.Get(Keys.Pool(poolId)) is { } bytes ? InternalJson.Deserialize<PoolSnapshot>(bytes).ToDomain() : null;

    public string CertificateAt(string poolId, long slot) =>
        store.Get(Keys.Slot(poolId, slot)) is { } bytes
            ? System.Text.Encoding.UTF8.GetString(bytes)
            : throw new InvalidOperationException($"pool {poolId} has no certificate in slot {slot}");

    public Reservation? ReservationOf(string poolId, string certificateId) =>
        store.Get(Keys.Reservation(poolId, certificateId)) is { } bytes ? InternalJson.Deserialize<Reservation>(bytes) : null;

    public KeyedReservation? ReservationByKey(string poolId, string idempotencyKey) =>
        store.Get(Keys.IdempotencyKey(poolId, idempotencyKey)) is { } bytes ? InternalJson.Deserialize<KeyedReservation>(bytes) : null;

    public KeyedLoad? LoadByKey(string poolId, string idempotencyKey) =>
        store.Get(Keys.LoadKey(poolId, idempotencyKey)) is { } bytes ? InternalJson.Deserialize<KeyedLoad>(bytes) : null;

    /// <summary>The key layout of the pools store: ASCII, so RocksDB's byte order is the order ranges need.</summary>
    internal static class Keys
    {
        public const string DeadlinePrefix = "d/";

        public static string Pool(string poolId) => $"p/{poolId}";

        public static string Slot(string poolId, long slot) => string.Create(CultureInfo.InvariantCulture, $"s/{poolId}/{slot:D12}");

        public static string Reservation(string poolId, string certificateId) => $"r/{poolId}/{certificateId}";

        public static string IdempotencyKey(string poolId, string key) => $"k/{poolId}/{key}";

        public static string LoadKey(string poolId, string key) => $"l/{poolId}/{key}";

        public const string RetentionPrefix = "x/";

        /// <summary>The retention index of an idempotency-key entry: <c>x/{untilMs:D15}/{entry key}</c>.</summary>
        public static string Retention(DateTimeOffset until, string entryKey) => TimeIndex(RetentionPrefix, until, entryKey);

        /// <summary>The entry key a retention index entry points at.</summary>
        public static string RetainedKey(string retentionKey) => retentionKey[(RetentionPrefix.Length + 16)..];

        public static string Deadline(DateTimeOffset at, string poolId, string certificateId) => TimeIndex(DeadlinePrefix, at, $"{poolId}/{certificateId}");

        /// <summary>A time-ordered index key, <c>{prefix}{ms:D15}/{rest}</c>: byte order is time order.</summary>
        private static string TimeIndex(string prefix, DateTimeOffset at, string rest) =>
            string.Create(CultureInfo.InvariantCulture, $"{prefix}{at.ToUnixTimeMilliseconds():D15}/{rest}");

        /// <summary>The upper bound of a time index's entries due at <paramref name="now"/> ('0' sorts after '/').</summary>
        public static string DueUpTo(string prefix, DateTimeOffset now) =>
            string.Create(CultureInfo.InvariantCulture, $"{prefix}{now.ToUnixTimeMilliseconds():D15}0");

        public static (string Key, string PoolId, string CertificateId, DateTimeOffset Deadline) ParseDeadline(string key)
        {
            var parts = key.Split('/', 4);
            return (key, parts[2], parts[3], DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[1], CultureInfo.InvariantCulture)));
        }
    }
}
