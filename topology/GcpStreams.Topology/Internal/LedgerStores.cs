using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;
using Streamiz.Kafka.Net.State.Supplier;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// The topology's persistent key-value stores: Streamiz's own RocksDB store (its options, directory layout, restore and
/// metrics unchanged) whose <see cref="IStateStore.Flush"/> at every commit does not force the memtable into a new
/// level-0 file. Streamiz writes without a write-ahead log and calls <c>Flush</c> on every commit (every 20 ms here): a new
/// SST file, an fsync and compactions each time (28 % of the stream thread's wall time in the profile of docs/benchmarks.md;
/// removing it moved that wait to the producer's flush at commit rather than raising throughput, see there). Under
/// exactly-once nothing depends on that flush: the changelog is the store's
/// durable copy, the memtables reach disk when they fill and when the store closes (RocksDB flushes unpersisted memtables
/// at close), and a state directory not closed cleanly is wiped before the next start so it is restored from the
/// changelogs (<c>StateDirectory</c> in the API's hosting) — a store flushed at commit would not be consistent after a crash
/// either, since the flush comes before the transaction commits.
/// </summary>
public static class LedgerStores
{
    /// <summary>A persistent store named <paramref name="name"/> without the per-commit flush.</summary>
    public static IKeyValueBytesStoreSupplier Persistent(string name) => new Supplier(name);

    /// <summary>
    /// A store of the topology (string keys, byte values) on <see cref="Persistent"/>. Not behind Streamiz's write cache
    /// (<c>WithCachingEnabled</c>): with it on the pools' and marts' stores a clean stop of the stream never finished and a restarted
    /// instance answered no reservation (the restart tests of ScaleOutIntegrationTests; docs/benchmarks.md, 2026-12-01);
    /// <see cref="Buffered"/> is the project's own.
    /// </summary>
    public static IStoreBuilder<IKeyValueStore<string, byte[]>> Builder(string name) =>
        Stores.KeyValueStoreBuilder(Persistent(name), new Streamiz.Kafka.Net.SerDes.StringSerDes(), new Streamiz.Kafka.Net.SerDes.ByteArraySerDes());

    /// <summary>
    /// A store of the topology (<see cref="Builder"/>) behind a <see cref="CommitBufferedStore"/>: for stores whose keys many records
    /// write between two commits (the pools' counters, the daily marts). Its owner's punctuations go through <see cref="WritingThrough"/>.
    /// </summary>
    public static IStoreBuilder<IKeyValueStore<string, byte[]>> Buffered(string name) => new CommitBufferedStoreBuilder(Builder(name));

    /// <summary>
    /// <paramref name="punctuate"/>, then what it wrote to <paramref name="store"/> written through when the store is commit-buffered:
    /// Streamiz commits after a punctuation without flushing the stores when no record was processed.
    /// </summary>
    public static Action<long> WritingThrough(IKeyValueStore<string, byte[]> store, Action<long> punctuate) => now =>
    {
        punctuate(now);
        (store as CommitBufferedStore)?.WriteThrough();
    };

    private sealed class Supplier(string name) : IKeyValueBytesStoreSupplier
    {
        public string Name { get; set; } = name;

        public string MetricsScope => "rocksdb";

        public IKeyValueStore<Bytes, byte[]> Get() => new CommitUnflushedStore(new RocksDbKeyValueStore(Name, MetricsScope));
    }

    /// <summary>Everything delegated to Streamiz's RocksDB store but the flush.</summary>
    private sealed class CommitUnflushedStore(RocksDbKeyValueStore inner) : IKeyValueStore<Bytes, byte[]>
    {
        public string Name => inner.Name;

        public bool Persistent => inner.Persistent;

        public bool IsLocally => inner.IsLocally;

        public bool IsOpen => inner.IsOpen;

        public void Init(ProcessorContext context, IStateStore root) => inner.Init(context, root);

        /// <summary>Nothing: the memtables reach disk when they fill and at <see cref="Close"/>.</summary>
        public void Flush()
        {
        }

        public void Close() => inner.Close();

        public byte[] Get(Bytes key) => inner.Get(key);

        public IKeyValueEnumerator<Bytes, byte[]> Range(Bytes from, Bytes to) => inner.Range(from, to);

        public IKeyValueEnumerator<Bytes, byte[]> ReverseRange(Bytes from, Bytes to) => inner.ReverseRange(from, to);

        public IEnumerable<KeyValuePair<Bytes, byte[]>> All() => inner.All();

        public IEnumerable<KeyValuePair<Bytes, byte[]>> ReverseAll() => inner.ReverseAll();

        public long ApproximateNumEntries() => inner.ApproximateNumEntries();

        public void Put(Bytes key, byte[] value) => inner.Put(key, value);

        public byte[] PutIfAbsent(Bytes key, byte[] value) => inner.PutIfAbsent(key, value);

        public void PutAll(IEnumerable<KeyValuePair<Bytes, byte[]>> entries) => inner.PutAll(entries);

        public byte[] Delete(Bytes key) => inner.Delete(key);
    }
}
