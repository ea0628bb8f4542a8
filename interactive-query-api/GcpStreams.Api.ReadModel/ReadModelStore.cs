using GcpStreams.Api.ReadModel.Storage;
using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// The read model's data, thread-safe: certificates with secondary indexes (<see cref="CertificateIndex"/>), each
/// certificate's history and the pools in a RocksDB database (<see cref="ReadModelStorage"/>, layout in <see cref="Keys"/>),
/// and in memory only the pools' projections, the recent event ids, the read-your-writes waits and the live tails. Fed by
/// <see cref="CertificateReadModel"/> (or directly, in tests); read by any number of threads.
/// </summary>
/// <remarks>
/// One <see cref="ReaderWriterLockSlim"/> guards the data: queries share the read lock; each batch of records is staged
/// and written (one RocksDB <c>WriteBatch</c>, with the consumer positions it reflects) under the write lock (one writer:
/// the consumer). Waiters live under a separate monitor taken after, never while holding, the write lock (lock order:
/// waiters, then data), so a waiter is either completed by the batch that satisfies it or sees that batch when it registers.
/// </remarks>
public sealed class ReadModelStore : IDisposable
{
    private static readonly byte[] FormatKey = Keys.MetaKey("format");
    private static readonly byte[] HistoriesKey = Keys.MetaKey("histories");
    private static readonly byte[] ClusterKey = Keys.MetaKey("cluster");
    private static readonly byte[] TopicsKey = Keys.MetaKey("topics");
    private static readonly byte[] PoolPrefix = [Keys.Pool];
    private static readonly byte[] PositionPrefix = [Keys.Position];

    private readonly ReaderWriterLockSlim gate = new(LockRecursionPolicy.NoRecursion);
    private readonly ReadModelDb db;
    private readonly CertificateIndex index;
    private readonly Dictionary<string, PoolProjection> pools = new(StringComparer.Ordinal);
    private readonly HashSet<string> dirtyPools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AppliedEvent> recentEvents = new(StringComparer.Ordinal);
    private readonly Queue<string> recentOrder = new();
    private readonly int recentCapacity;
    private readonly TimeProvider time;
    private int historyCount;
    private bool closed;

    private readonly Lock waitGate = new();
    private readonly Dictionary<string, List<Waiter>> stateWaiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Waiter>> eventWaiters = new(StringComparer.Ordinal);
    private readonly Lock liveGate = new();
    private LiveSubscription[] live = []; // copy-on-write: the consumer reads it without a lock
    private bool liveClosed;
    private bool disposed;

    /// <summary>Opens the store: its database as <paramref name="storage"/> says (default: a new temporary one, deleted at dispose).</summary>
    /// <param name="recentEventCapacity">
    /// How many of the latest event ids are remembered for <see cref="WaitForEventAsync"/> without a certificate hint
    /// (older ones are still found through the certificate's history when the hint is given).
    /// </param>
    /// <param name="time">Clock for the wait timeouts (tests may pass a fake one).</param>
    /// <param name="storage">Where the database is and its memory budget; null: <see cref="ReadModelStorage.Temporary"/>.</param>
    /// <exception cref="InvalidOperationException">The directory is in use by another store (its RocksDB LOCK is held).</exception>
    public ReadModelStore(int recentEventCapacity = 100_000, TimeProvider? time = null, ReadModelStorage? storage = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recentEventCapacity, 1);
        recentCapacity = recentEventCapacity;
        this.time = time ?? TimeProvider.System;
        db = ReadModelDb.Open(storage ?? ReadModelStorage.Temporary);
        try
        {
            if (db.Get(FormatKey) is not { } format || !System.Text.Encoding.UTF8.GetString(format).Equals(Values.Format, StringComparison.Ordinal))
            {
                WipedBecause = db.Get(FormatKey) is null ? null : "its format is not this version's";
                db.Wipe();
                db.Write(FormatBatch());
            }

            index = new CertificateIndex(db, ownsDb: false);
            LoadMemory();
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>The database directory.</summary>
    public string Directory => db.Path;

    /// <summary>Why the database was emptied when the store was opened (another format), or null.</summary>
    public string? WipedBecause { get; }

    /// <summary>How many certificates are known.</summary>
    public int Count => index.Count; // a counter in memory (an int: read without the lock), also after dispose

    /// <summary>How many certificates have at least one event in their history.</summary>
    public int HistoryCount => Volatile.Read(ref historyCount);

    /// <summary>RocksDB's memory (memtables, block cache, table readers) and live SST size, for measurements.</summary>
    public string StorageUsage => Read(db.Usage);

    /// <summary>Applies a GiftCertificates.State record: the latest state, or a tombstone (null) that forgets the certificate.</summary>
    /// <exception cref="ArgumentException">The state's certificateId is not the record key.</exception>
    public void ApplyState(string certificateId, CertificateState? state) => Apply([Change.Of(certificateId, state)], null);

    /// <summary>Applies a GiftCertificates.Stream event. Returns false for a duplicate (an event id already applied).</summary>
    public bool ApplyEvent(GiftCertificateEvent e) => Apply([Change.Of(e)], null)[0];

    /// <summary>
    /// Applies records in order and writes them in one batch, with <paramref name="positions"/> (topic, partition → next offset
    /// to read) so the database and its positions never disagree; then completes the waits they satisfy and feeds the live
    /// tails. Returns, per change, whether it was applied (false for a duplicate event).
    /// </summary>
    internal bool[] Apply(IReadOnlyList<Change> changes, IEnumerable<KeyValuePair<(string Topic, int Partition), long>>? positions)
    {
        var results = new bool[changes.Count];
        gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(closed, this);
            using var batch = db.NewBatch();
            for (var i = 0; i < changes.Count; i++)
            {
                var change = changes[i];
                results[i] = change.Event is { } e ? Stage(batch, e) : Stage(batch, change.CertificateId, change.State);
            }

            foreach (var ((topic, partition), next) in positions ?? [])
            {
                batch.Put(Keys.PositionKey(topic, partition), Keys.Int64(next));
            }

            index.Stage(batch);
            foreach (var poolId in dirtyPools)
            {
                batch.Put(Keys.Of(Keys.Pool, poolId), pools[poolId].Serialize());
            }

            dirtyPools.Clear();
            batch.Put(HistoriesKey, Keys.Int32(historyCount));
            db.Write(batch);
        }
        finally
        {
            gate.ExitWriteLock();
        }

        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            if (change.Event is { } e)
            {
                if (results[i])
                {
                    NotifyEvent(e.eventId, new AppliedEvent(e.certificateId, Requirement(e.certificateId, e.eventType, e.sequence)));
                    Publish(e);
                }
            }
            else if (change.State is not null)
            {
                NotifyState(change.CertificateId);
            }
        }

        return results;
    }

    /// <summary>What the database was built from: the cluster, each topic's partition count, and the next offset of every partition read.</summary>
    internal StoredOrigin ReadOrigin() => Read(() =>
    {
        var positions = new Dictionary<(string Topic, int Partition), long>();
        using (var it = db.Scan(PositionPrefix))
        {
            for (; it.Valid(); it.Next())
            {
                var key = it.Key();
                if (!Keys.HasPrefix(key, PositionPrefix))
                {
                    break;
                }

                positions[Keys.ParsePosition(key)] = Keys.Int64(it.Value());
            }
        }

        var topics = new Dictionary<string, int>(StringComparer.Ordinal);
        if (db.Get(TopicsKey) is { } bytes)
        {
            foreach (var entry in System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var at = entry.LastIndexOf('=');
                topics[entry[..at]] = int.Parse(entry[(at + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var cluster = db.Get(ClusterKey) is { } c ? System.Text.Encoding.UTF8.GetString(c) : null;
        return new StoredOrigin(cluster, topics, positions, index.Count > 0 || historyCount > 0 || pools.Count > 0 || positions.Count > 0);
    });

    /// <summary>Records the cluster and the topics' partition counts the database is built from.</summary>
    internal void WriteOrigin(string? clusterId, IReadOnlyDictionary<string, int> partitions)
    {
        gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(closed, this);
            using var batch = db.NewBatch();
            batch.Put(ClusterKey, Keys.Utf8(clusterId ?? string.Empty));
            batch.Put(TopicsKey, Keys.Utf8(string.Concat(partitions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}\n"))));
            db.Write(batch);
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Forgets everything the database holds (to rebuild it from the beginning of the topics).</summary>
    internal void Reset()
    {
        gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(closed, this);
            db.Wipe();
            db.Write(FormatBatch());
            index.Load();
            recentEvents.Clear();
            recentOrder.Clear();
            LoadMemory();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    private ReadModelDb.Batch FormatBatch()
    {
        var batch = db.NewBatch();
        batch.Put(FormatKey, Keys.Utf8(Values.Format));
        return batch;
    }

    private void LoadMemory()
    {
        pools.Clear();
        dirtyPools.Clear();
        historyCount = db.Get(HistoriesKey) is { } h ? Keys.Int32(h) : 0;
        using var it = db.Scan(PoolPrefix);
        for (; it.Valid(); it.Next())
        {
            var key = it.Key();
            if (!Keys.HasPrefix(key, PoolPrefix))
            {
                break;
            }

            var poolId = System.Text.Encoding.UTF8.GetString(key, 1, key.Length - 1);
            pools[poolId] = PoolProjection.Deserialize(poolId, it.Value());
        }
    }

    private bool Stage(ReadModelDb.Batch batch, string certificateId, CertificateState? state)
    {
        if (state is null)
        {
            index.Remove(batch, certificateId);
            return true;
        }

        index.Apply(batch, state);
        if (!pools.TryGetValue(state.poolId, out var pool))
        {
            pool = new PoolProjection(state.poolId);
            pools[state.poolId] = pool;
        }

        pool.Learn(state);
        dirtyPools.Add(state.poolId);
        return true;
    }

    private bool Stage(ReadModelDb.Batch batch, GiftCertificateEvent e)
    {
        var applied = false;
        var requires = Requirement(e.certificateId, e.eventType, e.sequence);
        if (e.certificateId is { } certificateId)
        {
            var eventKey = Keys.EventKey(certificateId, e.eventId);
            if (batch.Get(eventKey) is null)
            {
                var lengthKey = Keys.Of(Keys.HistoryLength, certificateId);
                var n = batch.Get(lengthKey) is { } bytes ? Keys.Int32(bytes) : 0;
                batch.Put(Keys.HistoryKey(certificateId, n), Values.History(HistoryEntry.From(e)));
                batch.Put(lengthKey, Keys.Int32(n + 1));
                batch.Put(eventKey, requires is { } r ? Keys.Int64(r) : []);
                historyCount += n == 0 ? 1 : 0;
                applied = true;
            }
        }

        // only a real pool has loads and reservations: a refusal or an alert naming an unknown pool creates none
        var reservation = e.payload is CertificateReserved or CertificateReservationExpired or CertificateReservationReleased;
        if (e.poolId is { } poolId && (e.certificateId is null || reservation))
        {
            if (!pools.TryGetValue(poolId, out var pool) && (reservation || e.payload is PoolLoaded))
            {
                pool = new PoolProjection(poolId);
                pools[poolId] = pool;
                dirtyPools.Add(poolId);
            }

            if (pool?.Apply(e) ?? false)
            {
                dirtyPools.Add(poolId);
                applied = true;
            }
        }

        if (applied)
        {
            Remember(e.eventId, new AppliedEvent(e.certificateId, requires));
        }

        return applied;
    }

    /// <summary>How many live tails are open.</summary>
    public int LiveSubscriptions => Volatile.Read(ref live).Length;

    /// <summary>
    /// Opens a live tail: every event applied from now on that <paramref name="filter"/> matches, through a buffer of
    /// <paramref name="capacity"/> events (<see cref="LiveSubscription"/>: a reader that falls that far behind is dropped, never
    /// waited for). Dispose the subscription to close it; disposing the store ends every subscription.
    /// </summary>
    public LiveSubscription Subscribe(LiveFilter filter, int capacity)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (filter.CertificateId is null && filter.PoolId is null)
        {
            throw new ArgumentException("A live tail follows a certificate or a pool.", nameof(filter));
        }

        var subscription = new LiveSubscription(filter, capacity, Unsubscribe);
        lock (liveGate)
        {
            ObjectDisposedException.ThrowIf(liveClosed, this);
            live = [.. live, subscription];
        }

        return subscription;
    }

    private void Unsubscribe(LiveSubscription subscription)
    {
        lock (liveGate)
        {
            live = Array.FindAll(live, s => !ReferenceEquals(s, subscription));
        }
    }

    /// <summary>Hands an applied event to the live tails that follow it; one that cannot take it is ended (overflow) and removed.</summary>
    private void Publish(GiftCertificateEvent e)
    {
        var subscriptions = Volatile.Read(ref live);
        if (subscriptions.Length == 0)
        {
            return;
        }

        LiveEvent? projected = null;
        foreach (var subscription in subscriptions)
        {
            if (subscription.Filter.Matches(e.certificateId, e.poolId)
                && !subscription.Offer(projected ??= new LiveEvent(e.certificateId, HistoryEntry.From(e))))
            {
                Unsubscribe(subscription);
            }
        }
    }

    /// <summary>The latest state of a certificate, or null when unknown; shared with other readers (<see cref="CertificateIndex.Get"/>): treat it as read-only.</summary>
    public CertificateState? Get(string certificateId) => Read(() => index.Get(certificateId));

    /// <summary>A page of certificates matching <paramref name="filter"/>; see <see cref="CertificateIndex.Search"/>.</summary>
    public CertificatePage Search(CertificateFilter filter, int pageSize, string? cursor = null, int maxScan = CertificateIndex.DefaultMaxScan) =>
        Read(() => index.Search(filter, pageSize, cursor, maxScan));

    /// <summary>The certificate's events in stream order (one prefix scan of the database); empty when none was read.</summary>
    public IReadOnlyList<HistoryEntry> GetHistory(string certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        return Read<IReadOnlyList<HistoryEntry>>(() =>
        {
            var prefix = Keys.HistoryPrefix(certificateId);
            var entries = new List<HistoryEntry>();
            using var it = db.Scan(prefix);
            for (; it.Valid(); it.Next())
            {
                if (!Keys.HasPrefix(it.Key(), prefix))
                {
                    break;
                }

                entries.Add(Values.History(it.Value()));
            }

            return entries;
        });
    }

    /// <summary>Every pool known from pool events or certificate states, ordered by pool id.</summary>
    public IReadOnlyList<PoolView> GetPools() =>
        Read<IReadOnlyList<PoolView>>(() => pools.Values.OrderBy(p => p.PoolId, StringComparer.Ordinal).Select(View).ToArray());

    /// <summary>One pool, or null when unknown.</summary>
    public PoolView? GetPool(string poolId)
    {
        ArgumentNullException.ThrowIfNull(poolId);
        return Read(() => pools.TryGetValue(poolId, out var p) ? View(p) : null);
    }

    /// <summary>
    /// Completes with true once the model holds a state of <paramref name="certificateId"/> at least as new as
    /// <paramref name="minSequence"/> (the certificate's own sequence, which runs from its first reservation on) — at once if it
    /// already does — or with false after <paramref name="timeout"/>.
    /// </summary>
    public Task<bool> WaitForAsync(string certificateId, long minSequence, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificateId);
        var required = minSequence;
        Waiter waiter;
        lock (waitGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (Covers(certificateId, required))
            {
                return Task.FromResult(true);
            }

            waiter = new Waiter(certificateId, required);
            Add(stateWaiters, certificateId, waiter);
        }

        return AwaitAsync(waiter, timeout, cancellationToken);
    }

    /// <summary>
    /// Completes with true once the model has applied the event <paramref name="eventId"/> to the history or pools
    /// AND, when the event changed a certificate's state, holds that certificate's state from that decision or a later
    /// one — so a lookup right after sees the write. False after <paramref name="timeout"/>.
    /// </summary>
    /// <param name="eventId">The event id, e.g. a command reply's <c>eventId</c>.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="certificateId">
    /// Optional: the certificate the event is about. With it, an event older than the recent-event window is still
    /// found in the certificate's history.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait (throws <see cref="OperationCanceledException"/>).</param>
    public Task<bool> WaitForEventAsync(string eventId, TimeSpan timeout, string? certificateId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        Waiter waiter;
        lock (waitGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var known = Find(eventId, certificateId);
            if (known is { } e)
            {
                if (e.Requires is not { } required || Covers(e.CertificateId!, required))
                {
                    return Task.FromResult(true);
                }

                waiter = new Waiter(e.CertificateId!, required);
                Add(stateWaiters, e.CertificateId!, waiter);
            }
            else
            {
                waiter = new Waiter(eventId, null);
                Add(eventWaiters, eventId, waiter);
            }
        }

        return AwaitAsync(waiter, timeout, cancellationToken);
    }

    /// <summary>How many waits are pending (for tests and metrics).</summary>
    public int PendingWaits
    {
        get
        {
            lock (waitGate)
            {
                return stateWaiters.Values.Sum(l => l.Count) + eventWaiters.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>Completes every pending wait with false, ends every live tail, and refuses new ones.</summary>
    public void Dispose()
    {
        LiveSubscription[] tails;
        lock (liveGate)
        {
            tails = live;
            live = [];
            liveClosed = true;
        }

        foreach (var tail in tails)
        {
            tail.End();
        }

        List<Waiter> pending;
        lock (waitGate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            pending = [.. stateWaiters.Values.SelectMany(l => l), .. eventWaiters.Values.SelectMany(l => l)];
            stateWaiters.Clear();
            eventWaiters.Clear();
        }

        foreach (var waiter in pending)
        {
            waiter.Completion.TrySetResult(false);
        }

        gate.EnterWriteLock();
        try
        {
            closed = true;
            index.Dispose();
            db.Dispose();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>The state sequence an event's decision leaves behind, or null when the event changes no certificate state.</summary>
    internal static long? Requirement(string? certificateId, string eventType, long sequence) =>
        certificateId is null || eventType is "operation.rejected" or "alert" ? null : sequence;

    private bool Covers(string certificateId, long required) =>
        Read(() => index.Get(certificateId) is { } state && state.sequence >= required);

    private AppliedEvent? Find(string eventId, string? certificateId) => Read<AppliedEvent?>(() =>
    {
        if (recentEvents.TryGetValue(eventId, out var recent))
        {
            return recent;
        }

        if (certificateId is not null && db.Get(Keys.EventKey(certificateId, eventId)) is { } requires)
        {
            return new AppliedEvent(certificateId, requires.Length == 8 ? Keys.Int64(requires) : null);
        }

        return null;
    });

    private void Remember(string eventId, AppliedEvent applied)
    {
        if (recentEvents.TryAdd(eventId, applied))
        {
            recentOrder.Enqueue(eventId);
            if (recentOrder.Count > recentCapacity)
            {
                recentEvents.Remove(recentOrder.Dequeue());
            }
        }
    }

    private void NotifyState(string certificateId)
    {
        List<Waiter>? done = null;
        lock (waitGate)
        {
            if (!stateWaiters.TryGetValue(certificateId, out var waiters))
            {
                return;
            }

            var state = Get(certificateId);
            var version = state?.sequence;
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (version is { } v && v >= waiters[i].Required!.Value)
                {
                    (done ??= []).Add(waiters[i]);
                    waiters.RemoveAt(i);
                }
            }

            if (waiters.Count == 0)
            {
                stateWaiters.Remove(certificateId);
            }
        }

        Complete(done);
    }

    private void NotifyEvent(string eventId, AppliedEvent applied)
    {
        List<Waiter>? done = null;
        lock (waitGate)
        {
            if (!eventWaiters.Remove(eventId, out var waiters))
            {
                return;
            }

            foreach (var waiter in waiters)
            {
                if (applied.Requires is not { } required || Covers(applied.CertificateId!, required))
                {
                    (done ??= []).Add(waiter);
                }
                else
                {
                    waiter.Key = applied.CertificateId!;
                    waiter.Required = required;
                    Add(stateWaiters, waiter.Key, waiter);
                }
            }
        }

        Complete(done);
    }

    private static void Complete(List<Waiter>? done)
    {
        foreach (var waiter in done ?? [])
        {
            waiter.Completion.TrySetResult(true);
        }
    }

    private async Task<bool> AwaitAsync(Waiter waiter, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.Completion.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Forget(waiter);
            return waiter.Completion.Task.IsCompletedSuccessfully && waiter.Completion.Task.Result;
        }
        catch (OperationCanceledException)
        {
            Forget(waiter);
            throw;
        }
    }

    private void Forget(Waiter waiter)
    {
        lock (waitGate)
        {
            var waiters = waiter.Required is null ? eventWaiters : stateWaiters;
            if (waiters.TryGetValue(waiter.Key, out var list) && list.Remove(waiter) && list.Count == 0)
            {
                waiters.Remove(waiter.Key);
            }
        }
    }

    private static void Add(Dictionary<string, List<Waiter>> waiters, string key, Waiter waiter)
    {
        if (!waiters.TryGetValue(key, out var list))
        {
            list = [];
            waiters[key] = list;
        }

        list.Add(waiter);
    }

    private PoolView View(PoolProjection p)
    {
        var counts = index.StatusCounts(p.PoolId);
        var issued = counts[CertificateStatus.ACTIVE] + counts[CertificateStatus.PARTIALLY_REDEEMED]
            + counts[CertificateStatus.EXHAUSTED] + counts[CertificateStatus.CANCELLED];
        return new PoolView(p.PoolId, p.Channel, p.NominalMinor, p.Currency, p.LowWatermark, p.Available, p.Loaded,
            counts[CertificateStatus.RESERVED], issued, p.IssueBlocked, p.Sequence, p.UpdatedAt, p.Series);
    }

    private T Read<T>(Func<T> query)
    {
        gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(closed, this);
            return query();
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    private readonly record struct AppliedEvent(string? CertificateId, long? Requires);

    /// <summary>One record to apply: a state (or tombstone) of a certificate, or an event.</summary>
    internal readonly record struct Change(string CertificateId, CertificateState? State, GiftCertificateEvent? Event)
    {
        /// <exception cref="ArgumentException">No key, or the state's certificateId is not the key.</exception>
        public static Change Of(string certificateId, CertificateState? state)
        {
            ArgumentException.ThrowIfNullOrEmpty(certificateId);
            if (state is not null && !string.Equals(state.certificateId, certificateId, StringComparison.Ordinal))
            {
                throw new ArgumentException($"State of '{state.certificateId}' under key '{certificateId}'.", nameof(state));
            }

            return new Change(certificateId, state, null);
        }

        /// <exception cref="ArgumentException">The event has no id or type.</exception>
        public static Change Of(GiftCertificateEvent e)
        {
            ArgumentNullException.ThrowIfNull(e);
            ArgumentException.ThrowIfNullOrEmpty(e.eventId, nameof(e));
            ArgumentException.ThrowIfNullOrEmpty(e.eventType, nameof(e));
            return new Change(e.certificateId ?? string.Empty, null, e);
        }
    }

    private sealed class Waiter(string key, long? required)
    {
        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The certificate id (state waiter) or the event id (event waiter, <see cref="Required"/> null).</summary>
        public string Key { get; set; } = key;

        public long? Required { get; set; } = required;
    }
}

/// <summary>What a read model database was built from (<see cref="ReadModelStore.ReadOrigin"/>).</summary>
/// <param name="ClusterId">The Kafka cluster id; null when never recorded (empty when the cluster did not say).</param>
/// <param name="Partitions">Partition count per topic.</param>
/// <param name="Positions">Next offset to read per (topic, partition).</param>
/// <param name="HoldsData">Whether the database holds anything at all.</param>
internal sealed record StoredOrigin(
    string? ClusterId,
    IReadOnlyDictionary<string, int> Partitions,
    IReadOnlyDictionary<(string Topic, int Partition), long> Positions,
    bool HoldsData);
