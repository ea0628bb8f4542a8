namespace GcpStreams.Topology.Internal;

/// <summary>
/// A write-through cache of decoded state in front of a processor's RocksDB store, so a hot key is not read and decoded again
/// for every record: the processor puts what it stores (after the store write), and reads here first. Bounded: beyond
/// <see cref="Capacity"/> entries the least recently used one is dropped (it is still in the store). One per processor
/// instance (one task, one thread): not thread-safe, and never shared, so it can never disagree with its store.
/// </summary>
internal sealed class DecodedStateCache<T>
    where T : class
{
    private readonly Dictionary<string, LinkedListNode<(string Key, T Value)>> entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, T Value)> recency = new(); // most recently used first

    public DecodedStateCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => entries.Count;

    public bool TryGet(string key, out T value)
    {
        if (entries.TryGetValue(key, out var node))
        {
            recency.Remove(node);
            recency.AddFirst(node);
            value = node.Value.Value;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>Remembers the value just written to the store under <paramref name="key"/>.</summary>
    public void Put(string key, T value)
    {
        if (Capacity == 0)
        {
            return;
        }

        if (entries.TryGetValue(key, out var node))
        {
            recency.Remove(node);
            node.Value = (key, value);
            recency.AddFirst(node);
            return;
        }

        if (entries.Count >= Capacity)
        {
            entries.Remove(recency.Last!.Value.Key);
            recency.RemoveLast();
        }

        entries[key] = recency.AddFirst((key, value));
    }
}
