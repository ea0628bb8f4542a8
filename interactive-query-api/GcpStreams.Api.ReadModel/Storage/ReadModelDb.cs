using RocksDbSharp;

namespace GcpStreams.Api.ReadModel.Storage;

/// <summary>
/// The read model's RocksDB: one column family (<c>read-model</c>) holding every key of <see cref="Keys"/>. Writes go in
/// <see cref="WriteBatch"/>es without a write-ahead log: the store is derived from Kafka and every batch carries the consumer
/// positions it reflects, so after a crash the database is a consistent earlier state (the last flushed memtable) and the
/// consumer reads again from its positions. <see cref="Dispose"/> flushes, so a clean stop loses nothing.
/// </summary>
internal sealed class ReadModelDb : IDisposable
{
    private const string FamilyName = "read-model";

    private readonly RocksDb db;
    private readonly ColumnFamilyOptions familyOptions;
    private readonly WriteOptions writeOptions = new WriteOptions().DisableWal(1);
    private readonly ReadOptions readOptions = new();
    private readonly bool temporary;
    private ColumnFamilyHandle family;
    private int disposed;

    private ReadModelDb(string path, bool temporary, ReadModelStorage storage)
    {
        Path = path;
        this.temporary = temporary;
        ArgumentOutOfRangeException.ThrowIfLessThan(storage.BlockCacheBytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(storage.WriteBufferBytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(storage.MaxWriteBuffers, 2);
        var table = new BlockBasedTableOptions()
            .SetBlockCache(Cache.CreateLru((ulong)storage.BlockCacheBytes))
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
            // index and filter blocks stay with the open table files, outside the cache: a file's full filter block (~1 MB
            // per 64 MB file) is larger than a shard of the cache, and every lookup of a missing key read it from the file again
            .SetCacheIndexAndFilterBlocks(false)
            .SetFormatVersion(5);
        familyOptions = new ColumnFamilyOptions()
            .SetBlockBasedTableFactory(table)
            .SetWriteBufferSize((ulong)storage.WriteBufferBytes)
            .SetMaxWriteBufferNumber(storage.MaxWriteBuffers)
            .SetCompression(Compression.Lz4);
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetMaxOpenFiles(256)
            .SetMaxBackgroundCompactions(1)
            .SetMaxBackgroundFlushes(1);
        var families = new ColumnFamilies(new ColumnFamilyOptions()) { { FamilyName, familyOptions } };
        System.IO.Directory.CreateDirectory(path);
        try
        {
            db = RocksDb.Open(options, path, families);
        }
        catch (RocksDbException e) when (e.Message.Contains("lock", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"The read model directory '{path}' is in use: another process (or another read model in this one) holds its RocksDB LOCK. "
                + "Give every instance a directory of its own (the API's setting ReadModel:Dir).", e);
        }

        family = db.GetColumnFamily(FamilyName);
    }

    /// <summary>The database directory.</summary>
    public string Path { get; }

    /// <summary>Opens (creating it if needed) the database of <paramref name="storage"/>.</summary>
    public static ReadModelDb Open(ReadModelStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (storage.Directory is { } directory)
        {
            var opened = new ReadModelDb(System.IO.Path.GetFullPath(directory), temporary: false, storage);
            if (storage.Reset)
            {
                opened.Wipe();
            }

            return opened;
        }

        var temp = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gcp-read-model-" + Guid.NewGuid().ToString("N"));
        return new ReadModelDb(temp, temporary: true, storage);
    }

    /// <summary>Forgets everything: drops the column family and creates it again (the LOCK stays held).</summary>
    public void Wipe()
    {
        db.DropColumnFamily(FamilyName);
        family = db.CreateColumnFamily(familyOptions, FamilyName);
    }

    /// <summary>A committed value, or null.</summary>
    public byte[]? Get(byte[] key) => db.Get(key, family);

    /// <summary>
    /// An iterator positioned at <paramref name="from"/> (or <paramref name="prefix"/>); the caller stops at the first key
    /// without the prefix (<see cref="Keys.HasPrefix"/>).
    /// </summary>
    public Iterator Scan(byte[] prefix, byte[]? from = null)
    {
        var iterator = db.NewIterator(family, readOptions);
        iterator.Seek(from ?? prefix);
        return iterator;
    }

    /// <summary>A batch of changes, read back through <see cref="Batch.Get"/> before it is written.</summary>
    public Batch NewBatch() => new(this);

    /// <summary>Writes a batch atomically.</summary>
    public void Write(Batch batch) => db.Write(batch.Writes, writeOptions);

    /// <summary>Block cache and memtable usage, for the measurements.</summary>
    public string Usage() =>
        $"memtables {db.GetProperty("rocksdb.cur-size-all-mem-tables", family)} B, block cache {db.GetProperty("rocksdb.block-cache-usage", family)} B, "
        + $"table readers {db.GetProperty("rocksdb.estimate-table-readers-mem", family)} B, live sst {db.GetProperty("rocksdb.live-sst-files-size", family)} B";

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!temporary)
            {
                db.Flush(new FlushOptions().SetWaitForFlush(true)); // no write-ahead log: what is in the memtables goes to disk now
            }
        }
        finally
        {
            db.Dispose();
            if (temporary)
            {
                try
                {
                    System.IO.Directory.Delete(Path, recursive: true);
                }
                catch (IOException)
                {
                    // a temporary directory left behind is harmless
                }
            }
        }
    }

    /// <summary>Writes in order, with reads that see them (last write wins).</summary>
    public sealed class Batch : IDisposable
    {
        private readonly ReadModelDb db;
        private readonly Dictionary<byte[], byte[]?> pending = new(ByteArrayComparer.Instance);

        internal Batch(ReadModelDb db) => this.db = db;

        internal WriteBatch Writes { get; } = new();

        /// <summary>How many keys the batch changes.</summary>
        public int Count => pending.Count;

        public void Put(byte[] key, byte[] value)
        {
            Writes.Put(key, value, db.family);
            pending[key] = value;
        }

        public void Delete(byte[] key)
        {
            Writes.Delete(key, db.family);
            pending[key] = null;
        }

        /// <summary>The value as the batch leaves it: its own write, else the committed value.</summary>
        public byte[]? Get(byte[] key) => pending.TryGetValue(key, out var value) ? value : db.Get(key);

        public void Dispose() => Writes.Dispose();
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
