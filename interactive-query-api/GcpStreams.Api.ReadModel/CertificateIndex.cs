using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// The latest <see cref="CertificateState"/> of every certificate, with secondary indexes for search.
/// Not thread-safe: <see cref="ReadModelStore"/> guards it with a reader-writer lock.
/// </summary>
/// <remarks>
/// <para>Layout: a dictionary id -> state (lookups), a sorted set of every id (paging without a filter), and one
/// sorted set of ids per attribute value for status, channel, pool, order and client (a certificate without an
/// order or client is in no order/client entry). Every set is ordered by id (ordinal), so a cursor (the last id
/// returned) resumes with <c>GetViewBetween</c> in O(log n).</para>
/// <para>Updates are incremental: applying a state removes the id from the entries of its previous state whose
/// value changed and adds it to the new ones (O(log n) each); a tombstone removes it from all; empty entries are
/// dropped so values that no longer occur (old orders) do not accumulate.</para>
/// <para>Search with criteria walks the smallest candidate set from the cursor, in id order, and checks the other
/// criteria on the state itself (a dictionary lookup, cheaper than a membership test in another sorted set); it
/// stops as soon as the page and one more match (to know whether there is a next page) are found. So a page
/// costs O(log n + scanned), where scanned is bounded by the smallest matching index, never a full scan, and by a
/// per-page scan budget (<see cref="DefaultMaxScan"/>) for criteria that intersect badly.</para>
/// </remarks>
public sealed class CertificateIndex
{
    private static readonly StringComparer Ids = StringComparer.Ordinal;

    private readonly Dictionary<string, CertificateState> byId = new(Ids);
    private readonly SortedSet<string> allIds = new(Ids);
    private readonly Dictionary<CertificateStatus, SortedSet<string>> byStatus = [];
    private readonly Dictionary<Channel, SortedSet<string>> byChannel = [];
    private readonly Dictionary<string, SortedSet<string>> byPool = new(Ids);
    private readonly Dictionary<string, SortedSet<string>> byOrder = new(Ids);
    private readonly Dictionary<string, SortedSet<string>> byClient = new(Ids);
    private readonly Dictionary<string, int[]> statusCountsByPool = new(Ids);
    private static readonly int StatusCount = Enum.GetValues<CertificateStatus>().Max(s => (int)s) + 1;

    /// <summary>How many certificates the index holds.</summary>
    public int Count => byId.Count;

    /// <summary>The latest state of a certificate, or null when unknown (never seen or tombstoned).</summary>
    public CertificateState? Get(string certificateId) =>
        byId.GetValueOrDefault(certificateId ?? throw new ArgumentNullException(nameof(certificateId)));

    /// <summary>Puts the latest state of a certificate (its <c>certificateId</c> is the key), replacing the previous one.</summary>
    /// <remarks>The index keeps the reference: do not change the record afterwards.</remarks>
    public void Apply(CertificateState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentException.ThrowIfNullOrEmpty(state.certificateId, nameof(state));
        var id = state.certificateId;
        if (byId.TryGetValue(id, out var previous))
        {
            Move(byStatus, previous.status, state.status, id);
            Move(byChannel, previous.channel, state.channel, id);
            Move(byPool, previous.poolId, state.poolId, id);
            Move(byOrder, previous.orderId, state.orderId, id);
            Move(byClient, previous.clientId, state.clientId, id);
            Tally(previous, -1);
        }
        else
        {
            allIds.Add(id);
            Add(byStatus, state.status, id);
            Add(byChannel, state.channel, id);
            Add(byPool, state.poolId, id);
            Add(byOrder, state.orderId, id);
            Add(byClient, state.clientId, id);
        }

        byId[id] = state;
        Tally(state, +1);
    }

    /// <summary>Forgets a certificate (a tombstone). Returns false when it was unknown.</summary>
    public bool Remove(string certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        if (!byId.Remove(certificateId, out var previous))
        {
            return false;
        }

        allIds.Remove(certificateId);
        Remove(byStatus, previous.status, certificateId);
        Remove(byChannel, previous.channel, certificateId);
        Remove(byPool, previous.poolId, certificateId);
        Remove(byOrder, previous.orderId, certificateId);
        Remove(byClient, previous.clientId, certificateId);
        Tally(previous, -1);
        return true;
    }

    /// <summary>How many certificates of a pool are in each status (every status present, zero when none).</summary>
    public IReadOnlyDictionary<CertificateStatus, int> StatusCounts(string poolId)
    {
        ArgumentNullException.ThrowIfNull(poolId);
        var counts = statusCountsByPool.GetValueOrDefault(poolId);
        return Enum.GetValues<CertificateStatus>().ToDictionary(s => s, s => counts?[(int)s] ?? 0);
    }

    /// <summary>The pools that have at least one certificate in the index.</summary>
    public IEnumerable<string> PoolIds => byPool.Keys;

    /// <summary>How many certificates an index entry holds: the size of the set a search by that value walks.</summary>
    public int CountOf(CertificateFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Candidates(filter)?.Count ?? 0;
    }

    /// <summary>How many candidates one page examines at most by default (see <see cref="Search"/>).</summary>
    public const int DefaultMaxScan = 20_000;

    /// <summary>
    /// A page of the certificates matching <paramref name="filter"/>, ordered by certificate id, starting strictly
    /// after the id in <paramref name="cursor"/> (null: from the first).
    /// </summary>
    /// <param name="filter">The criteria (all must hold).</param>
    /// <param name="pageSize">Most items in the page.</param>
    /// <param name="cursor">The <see cref="CertificatePage.NextCursor"/> of the previous page, or null.</param>
    /// <param name="maxScan">
    /// Most candidates (ids of the smallest matching index) examined for this page. When criteria intersect badly
    /// (e.g. a large pool and a channel it does not have), the page stops there and returns what it found — possibly
    /// fewer than <paramref name="pageSize"/> items, even none — with a cursor to continue: a page never costs more
    /// than this many checks. Only a null <see cref="CertificatePage.NextCursor"/> means the end.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> or <paramref name="maxScan"/> is below 1.</exception>
    /// <exception cref="FormatException"><paramref name="cursor"/> is not a cursor of <see cref="SearchCursor"/>.</exception>
    public CertificatePage Search(CertificateFilter filter, int pageSize, string? cursor = null, int maxScan = DefaultMaxScan)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxScan, 1);
        var after = cursor is null ? null : SearchCursor.Decode(cursor);
        var candidates = Candidates(filter);
        if (candidates is null || candidates.Count == 0)
        {
            return new CertificatePage([], null);
        }

        var items = new List<CertificateState>(Math.Min(pageSize, 1024));
        var scanned = 0;
        foreach (var id in From(candidates, after))
        {
            if (scanned++ == maxScan)
            {
                // budget spent: continue after the last id examined
                return new CertificatePage(items, SearchCursor.Encode(after!));
            }

            after = id;
            var state = byId[id];
            if (!filter.Matches(state))
            {
                continue;
            }

            if (items.Count == pageSize)
            {
                // one more match exists: there is a next page
                return new CertificatePage(items, SearchCursor.Encode(items[^1].certificateId));
            }

            items.Add(state);
        }

        return new CertificatePage(items, null);
    }

    /// <summary>The smallest index set covering the filter: every match is in it; null when a criterion matches nothing.</summary>
    private SortedSet<string>? Candidates(CertificateFilter filter)
    {
        if (filter.IsEmpty)
        {
            return allIds;
        }

        SortedSet<string>? smallest = null;
        var empty = false;

        void Consider(SortedSet<string>? set, bool criterionSet)
        {
            if (!criterionSet)
            {
                return;
            }

            if (set is null)
            {
                empty = true;
            }
            else if (smallest is null || set.Count < smallest.Count)
            {
                smallest = set;
            }
        }

        Consider(filter.Status is { } s ? byStatus.GetValueOrDefault(s) : null, filter.Status is not null);
        Consider(filter.Channel is { } c ? byChannel.GetValueOrDefault(c) : null, filter.Channel is not null);
        Consider(filter.PoolId is { } p ? byPool.GetValueOrDefault(p) : null, filter.PoolId is not null);
        Consider(filter.OrderId is { } o ? byOrder.GetValueOrDefault(o) : null, filter.OrderId is not null);
        Consider(filter.ClientId is { } k ? byClient.GetValueOrDefault(k) : null, filter.ClientId is not null);
        return empty ? null : smallest;
    }

    private static IEnumerable<string> From(SortedSet<string> set, string? after)
    {
        if (after is null)
        {
            return set;
        }

        var max = set.Max!;
        if (Ids.Compare(after, max) >= 0)
        {
            return [];
        }

        // inclusive bounds: skip the cursor id itself if it is still in the set
        var view = set.GetViewBetween(after, max);
        return view.SkipWhile(id => Ids.Equals(id, after));
    }

    private void Tally(CertificateState state, int delta)
    {
        if (state.poolId is null)
        {
            return;
        }

        if (!statusCountsByPool.TryGetValue(state.poolId, out var counts))
        {
            counts = new int[StatusCount];
            statusCountsByPool[state.poolId] = counts;
        }

        counts[(int)state.status] += delta;
        if (delta < 0 && counts.All(n => n == 0))
        {
            statusCountsByPool.Remove(state.poolId);
        }
    }

    private static void Move<TKey>(Dictionary<TKey, SortedSet<string>> index, TKey? from, TKey? to, string id)
        where TKey : notnull
    {
        if (EqualityComparer<TKey?>.Default.Equals(from, to))
        {
            return;
        }

        Remove(index, from, id);
        Add(index, to, id);
    }

    private static void Add<TKey>(Dictionary<TKey, SortedSet<string>> index, TKey? value, string id)
        where TKey : notnull
    {
        if (value is null)
        {
            return;
        }

        if (!index.TryGetValue(value, out var set))
        {
            set = new SortedSet<string>(Ids);
            index[value] = set;
        }

        set.Add(id);
    }

    private static void Remove<TKey>(Dictionary<TKey, SortedSet<string>> index, TKey? value, string id)
        where TKey : notnull
    {
        if (value is null || !index.TryGetValue(value, out var set))
        {
            return;
        }

        set.Remove(id);
        if (set.Count == 0)
        {
            index.Remove(value);
        }
    }
}
