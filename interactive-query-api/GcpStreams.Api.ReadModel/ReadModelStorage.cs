namespace GcpStreams.Api.ReadModel;

/// <summary>Where and how big the read model's RocksDB is (from <see cref="ReadModelOptions"/>).</summary>
/// <param name="Directory">The database directory; null: a new temporary directory, deleted when the store is disposed.</param>
/// <param name="BlockCacheBytes">The LRU block cache (data, index and filter blocks all count against it).</param>
/// <param name="WriteBufferBytes">One memtable; at most <see cref="MaxWriteBuffers"/> of them exist at once.</param>
/// <param name="MaxWriteBuffers">Memtables (the active one and those being flushed).</param>
/// <param name="Reset">Forget whatever the directory holds at open (embedded mode: the broker is new).</param>
public sealed record ReadModelStorage(
    string? Directory = null,
    long BlockCacheBytes = 64L << 20,
    long WriteBufferBytes = 16L << 20,
    int MaxWriteBuffers = 2,
    bool Reset = false)
{
    /// <summary>A temporary store with small buffers (tests, tools).</summary>
    public static ReadModelStorage Temporary { get; } = new(null, 8L << 20, 4L << 20, 2);
}
