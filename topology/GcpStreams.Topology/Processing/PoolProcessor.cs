using System.Globalization;
using GcpStreams.Client;
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
public sealed class PoolProcessor : DeciderHost<PoolCommand, Pool, PoolEvent>, IReads<PoolInput>, IPoolStore
{
    private readonly TopologySettings settings;
    private readonly PoolSettings poolSettings;
    private IKeyValueStore<string, byte[]> store = null!;

    /// <summary>
    /// For Streamiz's <c>TransformerBuilder.Transformer&lt;T&gt;(params)</c>, which creates a prototype with <c>new T()</c> and then one
    /// instance per task through the constructor that takes the parameters. The prototype never processes a record.
    /// </summary>
    public PoolProcessor()
        : base(null!, null!)
    {
        settings = null!;
        poolSettings = null!;
    }

    public PoolProcessor(Codec codec, TopologySettings settings)
        : base(codec, settings)
    {
        this.settings = settings;
        poolSettings = new PoolSettings(settings.NumberingKey, settings.MaxLoadBatch, settings.MaxOpenReservationsPerClient, settings.MaxReservationHold, settings.IdempotencyKeyRetention);
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Pools);
        context.Schedule(settings.ReservationSweepInterval, PunctuationType.PROCESSING_TIME, LedgerStores.WritingThrough(store, Sweep));
    }

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source)
    {
        var input = Internals.PoolInput.Read(record.Value);
        return Run(input.Command, new Origin(input.ReplyTo, input.CorrelationId, input.Source));
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
        FireDueTimers(store, Keys.DeadlinePrefix, wallClockMs, (deadline, poolId, certificateId) =>
        {
            var causation = DeterministicId.Derive("expire", poolId, certificateId, deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            return Run(new ExpireReservation(poolId, causation, deadline, certificateId), Origin.Timer);
        });
    }

    /// <summary>
    /// Deletes the idempotency-key entries (reservations and loads) whose retention has passed, with their index entries
    /// (bounded per sweep). A store-only effect: no event, and a retry after it is a new request.
    /// </summary>
    private void ForgetExpiredIdempotencyKeys(long wallClockMs)
    {
        TimeIndex.ForgetDue(store, Keys.RetentionPrefix, wallClockMs);
    }

    protected override Pool? Load(PoolCommand command) => Load(command.PoolId);

    protected override IReadOnlyList<PoolEvent> Decide(PoolCommand command, Pool? before) => PoolDecider.Decide(command, before, this, poolSettings);

    protected override Pool? Evolve(Pool? state, PoolEvent e) => PoolDecider.Evolve(state, e);

    /// <summary>
    /// An event's store entry changes (<see cref="PoolDecider.EntryChanges"/>, written after every event of the decision is
    /// published, so each reads the store as the decision found it), its stream event, and the state record or ledger command
    /// a reservation's fate implies.
    /// </summary>
    protected override void Publish(Decision decision, Pool? pool, int index, List<Outgoing> outputs)
    {
        var e = decision.Events[index];
        var (_, correlationId, source, _) = decision.Origin;
        var salt = PoolDecider.IsDuplicate(e) ? StreamEvents.DuplicateSalt(source) : null;
        var eventId = StreamEvents.EventId(StreamEvents.CertificateOf(e) ?? e.PoolId, e.CausationId, index, salt);
        decision.EventIds.Add(eventId);
        foreach (var change in PoolDecider.EntryChanges(e, this, poolSettings))
        {
            var write = Write(e.PoolId, change);
            decision.Writes.Add(write);
            if (change is KeyRemembered { Until: var until })
            {
                decision.Writes.Add((Keys.Retention(until, write.Key), [])); // its retention index entry, swept after it
            }
        }

        var certificateId = StreamEvents.CertificateOf(e);

        // an event keyed by a pool that does not exist is not published: refusing an unknown pool creates nothing anywhere
        if (StreamEvents.Payload(e, pool) is { } payload && (pool is not null || certificateId is not null))
        {
            var key = certificateId ?? e.PoolId;
            var sequence = StreamEvents.SequenceOf(e, pool, id => ReservationOf(e.PoolId, id)?.Sequence ?? 0);
            var subject = new EventSubject(key, certificateId, e.PoolId, pool?.Channel ?? ChannelOf(decision.Command), pool?.Currency, sequence);
            var envelope = StreamEvents.Envelope(subject, e.EventType, e.CausationId, e.At, correlationId, index, payload, salt);
            outputs.Add(Codec.Event(envelope, key));
        }

        switch (e)
        {
            case PoolCertificateReserved reserved:
                outputs.Add(Codec.State(StateRecords.Reserved(pool!, reserved, eventId)));
                break;
            case ReservationExpired expired:
                outputs.Add(Codec.State(StateRecords.Available(pool!, expired.CertificateId, expired.CertificateSequence, expired.At, eventId)));
                break;
            case ReservationReleased released:
                outputs.Add(Codec.State(StateRecords.Available(pool!, released.CertificateId, released.CertificateSequence, released.At, eventId)));
                break;
            case ReservationIssued issued:
                var identity = new CertificateIdentity(issued.CertificateId, issued.PoolId, issued.Channel, issued.NominalMinor, issued.Currency);
                var issue = new IssueCertificate(issued.CertificateId, issued.CausationId, issued.At, identity, issued.OrderId, issued.ClientId, issued.Contact,
                    settings.CvcKeyVersion, issued.CertificateSequence);
                outputs.Add(CertificateProcessor.Input(Internals, issue, correlationId, source));
                break;
        }
    }

    protected override void Conclude(Decision decision, Pool? pool, List<Outgoing> outputs)
    {
        if (decision.Origin.ReplyTo is { } replyTo)
        {
            outputs.Add(Codec.Reply(Replies.ForPool(decision.Command, decision.Events, decision.EventIds, replyTo)));
        }
    }

    /// <summary>The entry changes of the decision's events, then the pool's counters (one small entry each).</summary>
    protected override void Store(Decision decision, Pool? pool)
    {
        if (pool is not null)
        {
            decision.Writes.Add((Keys.Pool(pool.PoolId), InternalJson.Serialize(PoolSnapshot.From(pool))));
        }

        foreach (var (key, value) in decision.Writes)
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
    }

    /// <summary>The store write of each entry change the domain decided (<see cref="PoolDecider.EntryChanges"/>): null deletes.</summary>
    private static (string Key, byte[]? Value) Write(string poolId, PoolEntryChange change) => change switch
    {
        SlotFilled c => (Keys.Slot(poolId, c.Slot), SlotValue(c.Value)),
        SlotEmptied c => (Keys.Slot(poolId, c.Slot), null),
        ReservationStored c => (Keys.Reservation(poolId, c.Reservation.CertificateId), InternalJson.Serialize(c.Reservation)),
        ReservationRemoved c => (Keys.Reservation(poolId, c.CertificateId), null),
        DeadlineSet c => (Keys.Deadline(c.At, poolId, c.CertificateId), []),
        DeadlineCleared c => (Keys.Deadline(c.At, poolId, c.CertificateId), null),
        OpenReservationsCounted c => (Keys.OpenReservations(poolId, c.Caller), c.Count == 0 ? null : Codec.Utf8(c.Count.ToString(CultureInfo.InvariantCulture))),
        ReservationKeyRemembered c => (Keys.IdempotencyKey(poolId, c.Keyed.IdempotencyKey), InternalJson.Serialize(c.Keyed)),
        LoadKeyRemembered c => (Keys.LoadKey(poolId, c.Keyed.IdempotencyKey), InternalJson.Serialize(c.Keyed)),
        _ => throw new ArgumentOutOfRangeException(nameof(change), change.GetType().Name, "Unknown pool entry change."),
    };

    private static Channel ChannelOf(PoolCommand command) => command switch
    {
        LoadPool l => l.Channel,
        ReserveNext r => r.Channel,
        IssueReserved i => i.Channel,
        _ => Channel.Unknown,
    };

    /// <summary>A command on its way to the owner of its pool (the internal topic keyed by pool id).</summary>
    public static Outgoing Input(InternalTopics topics, PoolCommand command, string? correlationId, SourceRecord? source, string? replyTo = null, string? caller = null) =>
        topics.PoolInput.Record(command.PoolId, new PoolInput(command, replyTo, correlationId, caller, source));

    private Pool? Load(string poolId) =>
        store.Get(Keys.Pool(poolId)) is { } bytes ? InternalJson.Deserialize<PoolSnapshot>(bytes).ToDomain() : null;

    public PoolSlot CertificateAt(string poolId, long slot) =>
        store.Get(Keys.Slot(poolId, slot)) is { } bytes
            ? ParseSlot(System.Text.Encoding.UTF8.GetString(bytes))
            : throw new InvalidOperationException($"pool {poolId} has no certificate in slot {slot}");

    /// <summary>A slot's stored value: the certificate id, then <c>:sequence</c> once the certificate has had events (it came back from a reservation).</summary>
    private static byte[] SlotValue(PoolSlot slot) =>
        Codec.Utf8(slot.Sequence == 0 ? slot.CertificateId : string.Create(CultureInfo.InvariantCulture, $"{slot.CertificateId}:{slot.Sequence}"));

    private static PoolSlot ParseSlot(string value) =>
        value.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
            ? new PoolSlot(value[..colon], long.Parse(value.AsSpan(colon + 1), CultureInfo.InvariantCulture))
            : new PoolSlot(value, 0);

    public Reservation? ReservationOf(string poolId, string certificateId) =>
        store.Get(Keys.Reservation(poolId, certificateId)) is { } bytes ? InternalJson.Deserialize<Reservation>(bytes) : null;

    public KeyedReservation? ReservationByKey(string poolId, string idempotencyKey) =>
        store.Get(Keys.IdempotencyKey(poolId, idempotencyKey)) is { } bytes ? InternalJson.Deserialize<KeyedReservation>(bytes) : null;

    public int OpenReservationsOf(string poolId, string caller) =>
        store.Get(Keys.OpenReservations(poolId, caller)) is { } bytes ? int.Parse(System.Text.Encoding.UTF8.GetString(bytes), CultureInfo.InvariantCulture) : 0;

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

        /// <summary>How many reservations a client holds open in the pool (absent: none).</summary>
        public static string OpenReservations(string poolId, string caller) => $"o/{poolId}/{caller}";

        public const string RetentionPrefix = "x/";

        /// <summary>The retention index of an idempotency-key entry: <c>x/{untilMs:D15}/{entry key}</c>.</summary>
        public static string Retention(DateTimeOffset until, string entryKey) => TimeIndex.Key(RetentionPrefix, until, entryKey);

        public static string Deadline(DateTimeOffset at, string poolId, string certificateId) => TimeIndex.Key(DeadlinePrefix, at, $"{poolId}/{certificateId}");
    }
}
