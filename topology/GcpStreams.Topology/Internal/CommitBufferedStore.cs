using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;
using Streamiz.Kafka.Net.Table;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// A task's store that keeps what was written since the last commit in memory, the latest value per key, and writes it to the
/// store below (RocksDB and its changelog) when Streamiz flushes the task's stores, which it does at every commit before the
/// transaction commits. A key written by many records between two commits (a pool's counters at every reservation, a day's mart
/// at every payment) then costs one store write and one changelog record per commit instead of one per record; what a commit
/// makes durable is the same.
/// <para>
/// Reads see the pending writes: <see cref="Get"/> looks here first; a range or a full scan that could include a pending key
/// writes everything pending through first (scans are rare: timers and re-chaining). A punctuation is not followed by a commit
/// unless records were processed too (Streamiz flushes only tasks that processed records), so whoever writes from a punctuation
/// calls <see cref="WriteThrough"/> at its end (<see cref="LedgerStores.WritingThrough"/>). Pending writes are dropped at
/// <see cref="Close"/>: a clean close commits (and so flushes) first, and a dirty one aborts the transaction they belonged to.
/// </para>
/// <para>
/// Streamiz's own write cache (<c>WithCachingEnabled</c>) does the same, but with it a clean stop hung and a restarted instance
/// answered nothing (docs/benchmarks.md, 2026-12-01; not analysed further). This one writes nothing at close.
/// </para>
/// </summary>
internal sealed class CommitBufferedStore(IKeyValueStore<string, byte[]> inner) : IKeyValueStore<string, byte[]>
{
    /// <summary>The writes since the last commit in first-write order (null: deleted).</summary>
    private readonly Dictionary<string, byte[]?> pending = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    public bool Persistent => inner.Persistent;

    public bool IsLocally => inner.IsLocally;

    public bool IsOpen => inner.IsOpen;

    /// <summary>How many keys have writes waiting for the next commit.</summary>
    public int Pending => pending.Count;

    /// <summary>
    /// The store below registers <paramref name="root"/> with the task (this store, as Streamiz passes the store it built): the task
    /// flushes, closes and hands out this one.
    /// </summary>
    public void Init(ProcessorContext context, IStateStore root) => inner.Init(context, root);

    /// <summary>At every commit: writes what is pending to the store below, then flushes it.</summary>
    public void Flush()
    {
        WriteThrough();
        inner.Flush();
    }

    /// <summary>Writes what is pending to the store below now, in first-write order.</summary>
    public void WriteThrough()
    {
        if (pending.Count == 0)
        {
            return;
        }

        foreach (var (key, value) in pending)
        {
            if (value is null)
            {
                inner.Delete(key);
            }
            else
            {
                inner.Put(key, value);
            }
        }

        pending.Clear();
    }

    /// <summary>Drops what is pending: after a commit nothing is; after a crash or a lost task the transaction they belonged to is aborted.</summary>
    public void Close()
    {
        pending.Clear();
        inner.Close();
    }

    /// <summary>The latest value of <paramref name="key"/>, pending or stored; null when absent or deleted.</summary>
    public byte[] Get(string key) => (pending.TryGetValue(key, out var value) ? value : inner.Get(key))!;

    public void Put(string key, byte[] value) => pending[key] = value;

    public byte[] PutIfAbsent(string key, byte[] value)
    {
        if (Get(key) is { } existing)
        {
            return existing;
        }

        Put(key, value);
        return null!;
    }

    public void PutAll(IEnumerable<KeyValuePair<string, byte[]>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var (key, value) in entries)
        {
            Put(key, value);
        }
    }

    public byte[] Delete(string key)
    {
        var before = Get(key);
        pending[key] = null;
        return before;
    }

    public IKeyValueEnumerator<string, byte[]> Range(string from, string to)
    {
        WriteThroughIfAnyBetween(from, to);
        return inner.Range(from, to);
    }

    public IKeyValueEnumerator<string, byte[]> ReverseRange(string from, string to)
    {
        WriteThroughIfAnyBetween(from, to);
        return inner.ReverseRange(from, to);
    }

    public IEnumerable<KeyValuePair<string, byte[]>> All()
    {
        WriteThrough();
        return inner.All();
    }

    public IEnumerable<KeyValuePair<string, byte[]>> ReverseAll()
    {
        WriteThrough();
        return inner.ReverseAll();
    }

    public long ApproximateNumEntries() => inner.ApproximateNumEntries() + pending.Count;

    private void WriteThroughIfAnyBetween(string from, string to)
    {
        foreach (var key in pending.Keys)
        {
            if (StoreKeyOrder.Compare(key, from) >= 0 && StoreKeyOrder.Compare(key, to) <= 0)
            {
                WriteThrough();
                return;
            }
        }
    }
}

/// <summary>
/// The order of string keys in the RocksDB stores: their UTF-8 bytes', which is Unicode code point order. Ordinal UTF-16
/// comparison agrees except between a surrogate (U+D800–DFFF, a code point above U+FFFF) and U+E000–FFFF, so those are swapped.
/// </summary>
internal static class StoreKeyOrder
{
    public static int Compare(string a, string b)
    {
        var length = Math.Min(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            if (a[i] != b[i])
            {
                return CodePointRank(a[i]) - CodePointRank(b[i]);
            }
        }

        return a.Length - b.Length;
    }

    private static int CodePointRank(char c) => c switch
    {
        >= '\uD800' and <= '\uDFFF' => c + 0x2000,
        >= '\uE000' => c - 0x800,
        _ => c,
    };
}

/// <summary>Builds a <see cref="CommitBufferedStore"/> in front of the store another builder builds (the same name, changelog and options).</summary>
internal sealed class CommitBufferedStoreBuilder(IStoreBuilder<IKeyValueStore<string, byte[]>> inner) : IStoreBuilder<IKeyValueStore<string, byte[]>>
{
    public bool IsWindowStore => inner.IsWindowStore;

    public long RetentionMs => inner.RetentionMs;

    public IDictionary<string, string> LogConfig => inner.LogConfig;

    public bool LoggingEnabled => inner.LoggingEnabled;

    public string Name => inner.Name;

    public CacheSize CacheSize => inner.CacheSize;

    public IStoreBuilder<IKeyValueStore<string, byte[]>> WithCachingEnabled(CacheSize? cacheSize = null) =>
        throw new NotSupportedException("a commit-buffered store is its own write cache");

    public IStoreBuilder<IKeyValueStore<string, byte[]>> WithCachingDisabled() => this;

    public IStoreBuilder<IKeyValueStore<string, byte[]>> WithLoggingEnabled(IDictionary<string, string> config)
    {
        inner.WithLoggingEnabled(config);
        return this;
    }

    public IStoreBuilder<IKeyValueStore<string, byte[]>> WithLoggingDisabled()
    {
        inner.WithLoggingDisabled();
        return this;
    }

    public IKeyValueStore<string, byte[]> Build(IStreamConfig config) => new CommitBufferedStore(inner.Build(config));

    IStateStore IStoreBuilder.Build(IStreamConfig config) => Build(config);

    public void CacheExplicitlySet() => inner.CacheExplicitlySet();
}
