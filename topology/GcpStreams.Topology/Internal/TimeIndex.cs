using System.Globalization;
using Streamiz.Kafka.Net.State;

namespace GcpStreams.Topology.Internal;

/// <summary>
/// Time-ordered index entries in a key-value store, <c>{prefix}{ms:D15}/{rest}</c>: ASCII, so RocksDB's byte order is time
/// order and "everything due by now" is one bounded range scan. The processors keep their deadlines this way (reservation
/// expiries, hold expiries, idempotency-key and order retention) and sweep them on a wall-clock punctuation.
/// </summary>
internal static class TimeIndex
{
    /// <summary>The most entries one sweep takes; the rest wait for the next sweep.</summary>
    public const int MaxPerSweep = 1_000;

    private const int TimeDigits = 15;

    public static string Key(string prefix, DateTimeOffset at, string rest) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{at.ToUnixTimeMilliseconds():D15}/{rest}");

    /// <summary>The time and the entry (the rest after the time) of an index key made by <see cref="Key"/>.</summary>
    public static (DateTimeOffset At, string Entry) Parse(string prefix, string key) =>
        (DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(key.AsSpan(prefix.Length, TimeDigits), CultureInfo.InvariantCulture)), key[(prefix.Length + TimeDigits + 1)..]);

    /// <summary>The time of an index key whose entry is two ids, <c>{first}/{second}</c> (the first holds no '/'), and the two ids.</summary>
    public static (DateTimeOffset At, string First, string Second) ParsePair(string prefix, string key)
    {
        var (at, entry) = Parse(prefix, key);
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        return (at, entry[..slash], entry[(slash + 1)..]);
    }

    /// <summary>
    /// Deletes the retention entries due at the wall clock and the entries they point at (the index entry's rest is the key
    /// of the entry it keeps), bounded per sweep: a store-only effect, no event.
    /// </summary>
    public static void ForgetDue(IKeyValueStore<string, byte[]> store, string prefix, long wallClockMs)
    {
        foreach (var index in Due(store, prefix, wallClockMs))
        {
            store.Delete(Parse(prefix, index).Entry);
            store.Delete(index);
        }
    }

    /// <summary>The keys of an index due at the wall clock, oldest first, at most <see cref="MaxPerSweep"/>.</summary>
    public static List<string> Due(IKeyValueStore<string, byte[]> store, string prefix, long wallClockMs)
    {
        var due = new List<string>();
        // the upper bound: '0' sorts after '/', so every entry of the due millisecond is inside
        var upTo = string.Create(CultureInfo.InvariantCulture, $"{prefix}{wallClockMs:D15}0");
        using var range = store.Range(prefix, upTo);
        while (range.MoveNext() && due.Count < MaxPerSweep)
        {
            due.Add(range.Current!.Value.Key);
        }

        return due;
    }
}
