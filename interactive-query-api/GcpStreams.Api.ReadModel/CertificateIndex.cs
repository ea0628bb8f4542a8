using GcpStreams.Api.ReadModel.Storage;
using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// The latest <see cref="CertificateState"/> of every certificate, with secondary indexes for search, in the read model's
/// RocksDB (<see cref="Keys"/>). Not thread-safe: <see cref="ReadModelStore"/> guards it with a reader-writer lock.
/// </summary>
/// <remarks>
/// <para>Layout: <c>S id</c> → the state (lookups, and paging without a filter: those keys are in id order); one index key
/// <c>I attribute value id</c> per attribute value for status, channel, pool, order and client (a certificate without an
/// order or client is in no order/client entry). Keys of one index entry are in id order (UTF-8 bytes: ordinal for ASCII
/// ids), so a cursor (the last id returned) resumes with one seek.</para>
/// <para>Updates are incremental: applying a state deletes the index keys of its previous state whose value changed and
/// puts the new ones; a tombstone deletes all. The size of every index entry is known without a scan: status and channel
/// counts and each pool's counts per status are in memory (small, and written to the database with each batch); order and
/// client counts are keys <c>C attribute value</c>.</para>
/// <para>Search with criteria walks the smallest candidate entry from the cursor, in id order, reads each candidate's
/// state and checks the other criteria on it; it stops as soon as the page and one more match (to know whether there is a
/// next page) are found. So a page costs a seek plus the candidates scanned, bounded by the smallest matching entry, never
/// a full scan, and by a per-page scan budget (<see cref="DefaultMaxScan"/>) for criteria that intersect badly.</para>
/// </remarks>
public sealed class CertificateIndex : IDisposable
{
    private static readonly int StatusCount = Enum.GetValues<CertificateStatus>().Max(s => (int)s) + 1;
    private static readonly int ChannelCount = Enum.GetValues<Channel>().Max(c => (int)c) + 1;
    private static readonly byte[] StatePrefix = [Keys.State];
    private static readonly byte[] CountMeta = Keys.MetaKey("certificates");
    private static readonly byte[] StatusMeta = Keys.MetaKey("statuses");
    private static readonly byte[] ChannelMeta = Keys.MetaKey("channels");
    private static readonly byte[] PoolCountPrefix = [Keys.Count, (byte)Keys.Attribute.Pool];

    private readonly ReadModelDb db;
    private readonly bool ownsDb;
    private readonly Dictionary<string, int[]> statusCountsByPool = new(StringComparer.Ordinal);
    private readonly HashSet<string> dirtyPools = new(StringComparer.Ordinal);
    private int[] statusCounts = new int[StatusCount];
    private int[] channelCounts = new int[ChannelCount];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CertificateState> decoded = new(StringComparer.Ordinal);
    private int count;

    /// <summary>
    /// How many decoded states <see cref="Get"/> keeps (a lookup of a hot certificate then skips RocksDB and the Avro decode):
    /// at ~2.5 KB each, ~25 MB. When full it starts again empty, which keeps the bound without bookkeeping per read.
    /// </summary>
    public const int DecodedCacheEntries = 10_000;

    /// <summary>Creates an empty index in a temporary database, deleted when the index is disposed.</summary>
    public CertificateIndex()
        : this(ReadModelDb.Open(ReadModelStorage.Temporary), ownsDb: true)
    {
    }

    internal CertificateIndex(ReadModelDb db, bool ownsDb)
    {
        this.db = db;
        this.ownsDb = ownsDb;
        Load();
    }

    /// <summary>How many certificates the index holds.</summary>
    public int Count => count;

    /// <summary>
    /// The latest state of a certificate, or null when unknown (never seen or tombstoned). Shared with other readers: treat it
    /// as read-only. Callers hold the store's read lock, so no write runs meanwhile: a write drops the certificate's decoded
    /// state before its batch is written (under the write lock), and the next read decodes what the batch wrote.
    /// </summary>
    public CertificateState? Get(string certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        if (decoded.TryGetValue(certificateId, out var cached))
        {
            return cached;
        }

        if (db.Get(Keys.Of(Keys.State, certificateId)) is not { } bytes)
        {
            return null;
        }

        var state = Values.State(bytes);
        if (decoded.Count >= DecodedCacheEntries)
        {
            decoded.Clear();
        }

        decoded[certificateId] = state;
        return state;
    }

    /// <summary>Puts the latest state of a certificate (its <c>certificateId</c> is the key), replacing the previous one.</summary>
    public void Apply(CertificateState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentException.ThrowIfNullOrEmpty(state.certificateId, nameof(state));
        using var batch = db.NewBatch();
        Apply(batch, state);
        Stage(batch);
        db.Write(batch);
    }

    /// <summary>Forgets a certificate (a tombstone). Returns false when it was unknown.</summary>
    public bool Remove(string certificateId)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        using var batch = db.NewBatch();
        var removed = Remove(batch, certificateId);
        Stage(batch);
        db.Write(batch);
        return removed;
    }

    /// <summary>Disposes the temporary database of an index made with <see cref="CertificateIndex()"/>.</summary>
    public void Dispose()
    {
        if (ownsDb)
        {
            db.Dispose();
        }
    }

    /// <summary>A state for a search: the decoded one if a lookup cached it, else decoded without caching (a search reads many once).</summary>
    private CertificateState? Peek(string certificateId) =>
        decoded.TryGetValue(certificateId, out var cached) ? cached
            : db.Get(Keys.Of(Keys.State, certificateId)) is { } bytes ? Values.State(bytes) : null;

    /// <summary>Puts a state in <paramref name="batch"/>: the state, and the index keys and counts that change.</summary>
    internal void Apply(ReadModelDb.Batch batch, CertificateState state)
    {
        ArgumentException.ThrowIfNullOrEmpty(state.certificateId, nameof(state));
        var id = state.certificateId;
        var key = Keys.Of(Keys.State, id);
        decoded.TryRemove(id, out _);
        var previous = batch.Get(key) is { } bytes ? Values.State(bytes) : null;
        if (previous is not null)
        {
            Move(batch, Keys.Attribute.Status, previous.status.ToString(), state.status.ToString(), id);
            Move(batch, Keys.Attribute.Channel, previous.channel.ToString(), state.channel.ToString(), id);
            Move(batch, Keys.Attribute.Pool, previous.poolId, state.poolId, id);
            Move(batch, Keys.Attribute.Order, previous.orderId, state.orderId, id);
            Move(batch, Keys.Attribute.Client, previous.clientId, state.clientId, id);
            Tally(previous, -1);
        }
        else
        {
            count++;
            Add(batch, Keys.Attribute.Status, state.status.ToString(), id);
            Add(batch, Keys.Attribute.Channel, state.channel.ToString(), id);
            Add(batch, Keys.Attribute.Pool, state.poolId, id);
            Add(batch, Keys.Attribute.Order, state.orderId, id);
            Add(batch, Keys.Attribute.Client, state.clientId, id);
        }

        batch.Put(key, Values.State(state));
        Tally(state, +1);
    }

    /// <summary>Deletes a certificate in <paramref name="batch"/>; false when it was unknown.</summary>
    internal bool Remove(ReadModelDb.Batch batch, string certificateId)
    {
        var key = Keys.Of(Keys.State, certificateId);
        decoded.TryRemove(certificateId, out _);
        if (batch.Get(key) is not { } bytes)
        {
            return false;
        }

        var previous = Values.State(bytes);
        batch.Delete(key);
        count--;
        Remove(batch, Keys.Attribute.Status, previous.status.ToString(), certificateId);
        Remove(batch, Keys.Attribute.Channel, previous.channel.ToString(), certificateId);
        Remove(batch, Keys.Attribute.Pool, previous.poolId, certificateId);
        Remove(batch, Keys.Attribute.Order, previous.orderId, certificateId);
        Remove(batch, Keys.Attribute.Client, previous.clientId, certificateId);
        Tally(previous, -1);
        return true;
    }

    /// <summary>Writes the in-memory counts that changed into <paramref name="batch"/> (before it is written).</summary>
    internal void Stage(ReadModelDb.Batch batch)
    {
        batch.Put(CountMeta, Keys.Int32(count));
        batch.Put(StatusMeta, Ints(statusCounts));
        batch.Put(ChannelMeta, Ints(channelCounts));
        foreach (var pool in dirtyPools)
        {
            var key = Keys.Concat(PoolCountPrefix, Keys.Utf8(pool));
            if (statusCountsByPool.TryGetValue(pool, out var counts))
            {
                batch.Put(key, Ints(counts));
            }
            else
            {
                batch.Delete(key);
            }
        }

        dirtyPools.Clear();
    }

    /// <summary>Reads the in-memory counts from the database (at open, and after it was wiped).</summary>
    internal void Load()
    {
        decoded.Clear();
        count = db.Get(CountMeta) is { } c ? Keys.Int32(c) : 0;
        statusCounts = db.Get(StatusMeta) is { } s ? FromInts(s, StatusCount) : new int[StatusCount];
        channelCounts = db.Get(ChannelMeta) is { } ch ? FromInts(ch, ChannelCount) : new int[ChannelCount];
        statusCountsByPool.Clear();
        dirtyPools.Clear();
        using var it = db.Scan(PoolCountPrefix);
        for (; it.Valid(); it.Next())
        {
            var key = it.Key();
            if (!Keys.HasPrefix(key, PoolCountPrefix))
            {
                break;
            }

            statusCountsByPool[System.Text.Encoding.UTF8.GetString(key, PoolCountPrefix.Length, key.Length - PoolCountPrefix.Length)] = FromInts(it.Value(), StatusCount);
        }
    }

    /// <summary>How many certificates of a pool are in each status (every status present, zero when none).</summary>
    public IReadOnlyDictionary<CertificateStatus, int> StatusCounts(string poolId)
    {
        ArgumentNullException.ThrowIfNull(poolId);
        var counts = statusCountsByPool.GetValueOrDefault(poolId);
        return Enum.GetValues<CertificateStatus>().ToDictionary(s => s, s => counts?[(int)s] ?? 0);
    }

    /// <summary>The pools that have at least one certificate in the index.</summary>
    public IEnumerable<string> PoolIds => statusCountsByPool.Keys;

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
        if (candidates is not { Count: > 0 } entry)
        {
            return new CertificatePage([], null);
        }

        var prefix = entry.Prefix;
        var states = prefix.Length == 1; // the S keys themselves: the value is the state
        var items = new List<CertificateState>(Math.Min(pageSize, 1024));
        var scanned = 0;
        var cursorId = after;
        using var it = db.Scan(prefix, after is null ? null : Keys.Concat(prefix, Keys.Utf8(after)));
        for (; it.Valid(); it.Next())
        {
            var key = it.Key();
            if (!Keys.HasPrefix(key, prefix))
            {
                break;
            }

            var id = System.Text.Encoding.UTF8.GetString(key, prefix.Length, key.Length - prefix.Length);
            if (cursorId is not null && string.Equals(id, cursorId, StringComparison.Ordinal))
            {
                cursorId = null; // the cursor id itself, still in the entry: skipped, not counted
                continue;
            }

            cursorId = null;
            if (scanned++ == maxScan)
            {
                // budget spent: continue after the last id examined
                return new CertificatePage(items, SearchCursor.Encode(after!));
            }

            after = id;
            var state = states ? Values.State(it.Value()) : Peek(id);
            if (state is null || !filter.Matches(state))
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

    /// <summary>The smallest index entry covering the filter (its key prefix and size): every match is in it; null when a criterion matches nothing.</summary>
    private (byte[] Prefix, int Count)? Candidates(CertificateFilter filter)
    {
        if (filter.IsEmpty)
        {
            return (StatePrefix, count);
        }

        (byte[] Prefix, int Count)? smallest = null;
        var empty = false;

        void Consider(Keys.Attribute attribute, string? value, Func<int> size)
        {
            if (value is null)
            {
                return;
            }

            var n = size();
            if (n == 0)
            {
                empty = true;
            }
            else if (smallest is null || n < smallest.Value.Count)
            {
                smallest = (Keys.IndexEntry(attribute, value), n);
            }
        }

        Consider(Keys.Attribute.Status, filter.Status?.ToString(), () => statusCounts[(int)filter.Status!.Value]);
        Consider(Keys.Attribute.Channel, filter.Channel?.ToString(), () => channelCounts[(int)filter.Channel!.Value]);
        Consider(Keys.Attribute.Pool, filter.PoolId, () => statusCountsByPool.TryGetValue(filter.PoolId!, out var c) ? c.Sum() : 0);
        Consider(Keys.Attribute.Order, filter.OrderId, () => StoredCount(null, Keys.Attribute.Order, filter.OrderId!));
        Consider(Keys.Attribute.Client, filter.ClientId, () => StoredCount(null, Keys.Attribute.Client, filter.ClientId!));
        return empty ? null : smallest;
    }

    private int StoredCount(ReadModelDb.Batch? batch, Keys.Attribute attribute, string value)
    {
        var key = Keys.CountKey(attribute, value);
        return (batch is null ? db.Get(key) : batch.Get(key)) is { } bytes ? Keys.Int32(bytes) : 0;
    }

    private void Tally(CertificateState state, int delta)
    {
        statusCounts[(int)state.status] += delta;
        channelCounts[(int)state.channel] += delta;
        if (state.poolId is null)
        {
            return;
        }

        dirtyPools.Add(state.poolId);
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

    private void Move(ReadModelDb.Batch batch, Keys.Attribute attribute, string? from, string? to, string id)
    {
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            return;
        }

        Remove(batch, attribute, from, id);
        Add(batch, attribute, to, id);
    }

    private void Add(ReadModelDb.Batch batch, Keys.Attribute attribute, string? value, string id)
    {
        if (value is null)
        {
            return;
        }

        batch.Put(Keys.IndexKey(attribute, value, id), []);
        Recount(batch, attribute, value, +1);
    }

    private void Remove(ReadModelDb.Batch batch, Keys.Attribute attribute, string? value, string id)
    {
        if (value is null)
        {
            return;
        }

        batch.Delete(Keys.IndexKey(attribute, value, id));
        Recount(batch, attribute, value, -1);
    }

    /// <summary>Order and client entries count their ids in the database (too many values to keep in memory).</summary>
    private void Recount(ReadModelDb.Batch batch, Keys.Attribute attribute, string value, int delta)
    {
        if (attribute is not (Keys.Attribute.Order or Keys.Attribute.Client))
        {
            return;
        }

        var n = StoredCount(batch, attribute, value) + delta;
        if (n > 0)
        {
            batch.Put(Keys.CountKey(attribute, value), Keys.Int32(n));
        }
        else
        {
            batch.Delete(Keys.CountKey(attribute, value));
        }
    }

    private static byte[] Ints(int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static int[] FromInts(byte[] bytes, int length)
    {
        var values = new int[Math.Max(length, bytes.Length / 4)];
        for (var i = 0; i < bytes.Length / 4; i++)
        {
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(i * 4));
        }

        return values;
    }
}
