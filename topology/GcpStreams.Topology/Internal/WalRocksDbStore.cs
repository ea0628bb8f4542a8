using System.Reflection;
using RocksDbSharp;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;
using Streamiz.Kafka.Net.State.Supplier;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// Streamiz's RocksDB key-value store (its options, metrics, iterators and restore, all unchanged) with RocksDB's write-ahead
/// log on, so that a commit no longer has to force the memtable into a new level-0 file.
/// </summary>
/// <remarks>
/// <para>
/// Streamiz writes its stores without the WAL and makes every commit call <c>Flush</c>, which then flushes the memtable: a new
/// SST file with fsync every commit interval (20 ms here), and the compactions that follow (a fifth of the stream thread in the
/// profile recorded in docs/benchmarks.md). Here every write goes to the WAL (appended to the file at once, so a process that
/// dies loses nothing it wrote), and <see cref="Flush"/> syncs the WAL to disk when anything was written since the last one:
/// what Streamiz checkpoints after a flush is on disk, as before. The memtable goes to SST files when it fills up, as RocksDB
/// decides, and on close.
/// </para>
/// <para>
/// Streamiz does not expose the write options, so the WAL is turned on through its private field (Streamiz is pinned; the
/// topology tests and the embedded-broker tests run every store through here, and a missing member fails at type load).
/// </para>
/// </remarks>
internal sealed class WalRocksDbStore : IKeyValueStore<Bytes, byte[]>
{
    private static readonly FieldInfo WriteOptionsField = typeof(RocksDbKeyValueStore).GetField("writeOptions", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException(nameof(RocksDbKeyValueStore), "writeOptions");

    private static readonly PropertyInfo DbProperty = typeof(RocksDbKeyValueStore).GetProperty("Db", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingMemberException(nameof(RocksDbKeyValueStore), "Db");

    private readonly RocksDbKeyValueStore inner;
    private bool written;

    public WalRocksDbStore(string name, string metricsScope) => inner = new RocksDbKeyValueStore(name, metricsScope);

    public string Name => inner.Name;

    public bool Persistent => inner.Persistent;

    public bool IsLocally => inner.IsLocally;

    public bool IsOpen => inner.IsOpen;

    public void Init(ProcessorContext context, IStateStore root)
    {
        inner.Init(context, root);
        ((WriteOptions)WriteOptionsField.GetValue(inner)!).DisableWal(0); // before any write: restoration happens after Init
    }

    /// <summary>Syncs the write-ahead log, if anything was written since the last flush.</summary>
    public void Flush()
    {
        if (!written || !inner.IsOpen || DbProperty.GetValue(inner) is not RocksDb db)
        {
            return;
        }

        Native.Instance.rocksdb_flush_wal(db.Handle, 1); // sync: fdatasync the WAL
        written = false;
    }

    public void Close()
    {
        Flush();
        inner.Close();
    }

    public byte[] Get(Bytes key) => inner.Get(key);

    public IKeyValueEnumerator<Bytes, byte[]> Range(Bytes from, Bytes to) => inner.Range(from, to);

    public IKeyValueEnumerator<Bytes, byte[]> ReverseRange(Bytes from, Bytes to) => inner.ReverseRange(from, to);

    public IEnumerable<KeyValuePair<Bytes, byte[]>> All() => inner.All();

    public IEnumerable<KeyValuePair<Bytes, byte[]>> ReverseAll() => inner.ReverseAll();

    public long ApproximateNumEntries() => inner.ApproximateNumEntries();

    public void Put(Bytes key, byte[] value)
    {
        inner.Put(key, value);
        written = true;
    }

    public byte[] PutIfAbsent(Bytes key, byte[] value)
    {
        var existing = inner.PutIfAbsent(key, value);
        written = true;
        return existing;
    }

    public void PutAll(IEnumerable<KeyValuePair<Bytes, byte[]>> entries)
    {
        inner.PutAll(entries);
        written = true;
    }

    public byte[] Delete(Bytes key)
    {
        var old = inner.Delete(key);
        written = true;
        return old;
    }

    /// <summary>Supplies <see cref="WalRocksDbStore"/>s to <c>Stores.KeyValueStoreBuilder</c>.</summary>
    public sealed class Supplier(string name) : IKeyValueBytesStoreSupplier
    {
        public string Name { get; set; } = name;

        public string MetricsScope => "rocksdb";

        public IKeyValueStore<Bytes, byte[]> Get() => new WalRocksDbStore(Name, MetricsScope);
    }
}
