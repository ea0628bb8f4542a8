using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// The read model's data, thread-safe: certificates with secondary indexes (<see cref="CertificateIndex"/>), each
/// certificate's history, the pools, and the read-your-writes waits. Fed by <see cref="CertificateReadModel"/> (or
/// directly, in tests); read by any number of threads.
/// </summary>
/// <remarks>
/// One <see cref="ReaderWriterLockSlim"/> guards the data: queries share the read lock, each applied record takes the
/// write lock briefly (one writer: the consumer). Waiters live under a separate monitor taken after, never while
/// holding, the write lock (lock order: waiters, then data), so a waiter is either completed by the apply that
/// satisfies it or sees that apply when it registers.
/// </remarks>
public sealed class ReadModelStore : IDisposable
{
    private readonly ReaderWriterLockSlim gate = new(LockRecursionPolicy.NoRecursion);
    private readonly CertificateIndex index = new();
    private readonly Dictionary<string, List<HistoryEntry>> histories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PoolProjection> pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AppliedEvent> recentEvents = new(StringComparer.Ordinal);
    private readonly Queue<string> recentOrder = new();
    private readonly int recentCapacity;
    private readonly TimeProvider time;

    private readonly Lock waitGate = new();
    private readonly Dictionary<string, List<Waiter>> stateWaiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Waiter>> eventWaiters = new(StringComparer.Ordinal);
    private readonly Lock liveGate = new();
    private LiveSubscription[] live = []; // copy-on-write: the consumer reads it without a lock
    private bool liveClosed;
    private bool disposed;

    /// <summary>Creates an empty store.</summary>
    /// <param name="recentEventCapacity">
    /// How many of the latest event ids are remembered for <see cref="WaitForEventAsync"/> without a certificate hint
    /// (older ones are still found through the certificate's history when the hint is given).
    /// </param>
    /// <param name="time">Clock for the wait timeouts (tests may pass a fake one).</param>
    public ReadModelStore(int recentEventCapacity = 100_000, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recentEventCapacity, 1);
        recentCapacity = recentEventCapacity;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>How many certificates are known.</summary>
    public int Count => Read(() => index.Count);

    /// <summary>How many certificates have at least one event in their history.</summary>
    public int HistoryCount => Read(() => histories.Count);

    /// <summary>Applies a GiftCertificates.State record: the latest state, or a tombstone (null) that forgets the certificate.</summary>
    /// <exception cref="ArgumentException">The state's certificateId is not the record key.</exception>
    public void ApplyState(string certificateId, CertificateState? state)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificateId);
        if (state is not null && !string.Equals(state.certificateId, certificateId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"State of '{state.certificateId}' under key '{certificateId}'.", nameof(state));
        }

        gate.EnterWriteLock();
        try
        {
            if (state is null)
            {
                index.Remove(certificateId);
            }
            else
            {
                index.Apply(state);
                if (!pools.TryGetValue(state.poolId, out var pool))
                {
                    pool = new PoolProjection(state.poolId);
                    pools[state.poolId] = pool;
                }

                pool.Learn(state);
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }

        if (state is not null)
        {
            NotifyState(certificateId);
        }
    }

    /// <summary>Applies a GiftCertificates.Stream event. Returns false for a duplicate (an event id already applied).</summary>
    public bool ApplyEvent(GiftCertificateEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentException.ThrowIfNullOrEmpty(e.eventId, nameof(e));
        ArgumentException.ThrowIfNullOrEmpty(e.eventType, nameof(e));
        var applied = false;
        gate.EnterWriteLock();
        try
        {
            if (e.certificateId is { } certificateId)
            {
                if (!histories.TryGetValue(certificateId, out var history))
                {
                    history = [];
                    histories[certificateId] = history;
                }

                if (!history.Exists(h => string.Equals(h.EventId, e.eventId, StringComparison.Ordinal)))
                {
                    history.Add(HistoryEntry.From(e));
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
                }

                applied = (pool?.Apply(e) ?? false) || applied;
            }

            if (applied)
            {
                Remember(e.eventId, new AppliedEvent(e.certificateId, Requirement(e.certificateId, e.eventType, e.sequence)));
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }

        if (applied)
        {
            NotifyEvent(e.eventId, new AppliedEvent(e.certificateId, Requirement(e.certificateId, e.eventType, e.sequence)));
            Publish(e);
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

    /// <summary>The latest state of a certificate, or null when unknown. Treat it as read-only.</summary>
    public CertificateState? Get(string certificateId) => Read(() => index.Get(certificateId));

    /// <summary>A page of certificates matching <paramref name="filter"/>; see <see cref="CertificateIndex.Search"/>.</summary>
    public CertificatePage Search(CertificateFilter filter, int pageSize, string? cursor = null, int maxScan = CertificateIndex.DefaultMaxScan) =>
        Read(() => index.Search(filter, pageSize, cursor, maxScan));

    /// <summary>The certificate's events in stream order (a copy); empty when none was read.</summary>
    public IReadOnlyList<HistoryEntry> GetHistory(string certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        return Read<IReadOnlyList<HistoryEntry>>(() => histories.TryGetValue(certificateId, out var h) ? h.ToArray() : []);
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

        if (certificateId is not null && histories.TryGetValue(certificateId, out var history)
            && history.Find(h => string.Equals(h.EventId, eventId, StringComparison.Ordinal)) is { } entry)
        {
            return new AppliedEvent(certificateId, Requirement(certificateId, entry.EventType, entry.Sequence));
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
            return query();
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    private readonly record struct AppliedEvent(string? CertificateId, long? Requires);

    private sealed class Waiter(string key, long? required)
    {
        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The certificate id (state waiter) or the event id (event waiter, <see cref="Required"/> null).</summary>
        public string Key { get; set; } = key;

        public long? Required { get; set; } = required;
    }
}
