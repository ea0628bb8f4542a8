using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace GcpStreams.Replay;

/// <summary>One record of an output topic as <c>verify</c> compares it: key, value bytes and headers, and where it was read.</summary>
/// <param name="Key">The record's key as text (UTF-8; the outputs are keyed by certificate, pool or request id).</param>
/// <param name="Value">The value bytes (null for a tombstone).</param>
/// <param name="Headers">The headers in order, names and value bytes.</param>
/// <param name="Where">topic[partition]@offset, for the report.</param>
public sealed record OutputRecord(string Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]>> Headers, string Where)
{
    /// <summary>The <c>event-type</c> header as text, or null.</summary>
    public string? EventType => Headers.LastOrDefault(h => h.Key == "event-type").Value is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>Whether key, value bytes and headers (names, bytes and order) are the same.</summary>
    public bool SameAs(OutputRecord other) =>
        Key == other.Key
        && (Value is null ? other.Value is null : other.Value is not null && Value.AsSpan().SequenceEqual(other.Value))
        && Headers.Count == other.Headers.Count
        && Headers.Zip(other.Headers).All(p => p.First.Key == p.Second.Key && p.First.Value.AsSpan().SequenceEqual(p.Second.Value));

    /// <summary>A short description for a report line: where, event type, value length and hash, header names.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Where} {EventType ?? "-"} value {(Value is null ? "null" : $"{Value.Length} B sha256:{Convert.ToHexStringLower(SHA256.HashData(Value))[..12]}")} headers [{string.Join(",", Headers.Select(h => $"{h.Key}={Hash(h.Value)}"))}]");

    private static string Hash(byte[] value) => value.Length <= 48 && value.All(b => b is >= 0x20 and < 0x7f) ? Encoding.ASCII.GetString(value) : Convert.ToHexStringLower(SHA256.HashData(value))[..8];
}

/// <summary>How one key's records differ between the live topic and the shadow one.</summary>
/// <param name="Topic">The live topic.</param>
/// <param name="Key">The key.</param>
/// <param name="Index">The position (0-based, in the key's own order) of the first record that differs.</param>
/// <param name="Live">The live record there, or null when the live key has fewer records.</param>
/// <param name="Shadow">The shadow record there, or null when the shadow key has fewer records.</param>
/// <param name="TimerDriven">True when the first difference is a record a wall-clock timer decides (reported apart, see <see cref="OutputComparison"/>).</param>
public sealed record KeyDifference(string Topic, string Key, int Index, OutputRecord? Live, OutputRecord? Shadow, bool TimerDriven)
{
    public override string ToString() => Format(_ => null);

    /// <summary>The report line, with <paramref name="explain"/>'s reading of each record's value (decoded fields) when it has one.</summary>
    public string Format(Func<OutputRecord, string?> explain)
    {
        ArgumentNullException.ThrowIfNull(explain);
        string Side(OutputRecord? r) => r is null ? "(none)" : explain(r) is { } text ? $"{r.Describe()} {{{text}}}" : r.Describe();
        return string.Create(CultureInfo.InvariantCulture,
            $"{Topic} key {Key}, record #{Index + 1} of the key:\n      live   {Side(Live)}\n      shadow {Side(Shadow)}{(TimerDriven ? "\n      [the first difference is a wall-clock timer's decision]" : string.Empty)}");
    }
}

/// <summary>What <see cref="OutputComparison.Compare"/> found for one topic.</summary>
public sealed record TopicComparison(string Topic, int LiveRecords, int ShadowRecords, int Keys, int IdenticalKeys, int LiveAheadKeys, IReadOnlyList<KeyDifference> Differences)
{
    /// <summary>The differences no wall-clock timer explains: these fail <c>verify</c>.</summary>
    public IReadOnlyList<KeyDifference> Failures => [.. Differences.Where(d => !d.TimerDriven)];

    /// <summary>The differences whose first record is a wall-clock timer's decision.</summary>
    public IReadOnlyList<KeyDifference> TimerDivergences => [.. Differences.Where(d => d.TimerDriven)];
}

/// <summary>
/// Compares an output topic of the live service with the shadow run's, record by record per key: key, value bytes and headers
/// must be the same, in the same order for each key. Only the order within a key means something: the topology decides each key
/// in one task, but how the records of different keys interleave in a partition depends on how the inputs were batched (and the
/// shadow topics may have another partition count where the broker cannot create topics, see docs/operations.md).
/// <list type="bullet">
/// <item>A record a wall-clock timer decides (<see cref="TimerDriven"/>: a reservation expiry, an expired hold's release, an
///   overdue notification) fires at a point of the input sequence that depends on when the run happens, not on the inputs: a
///   key whose first difference is such a record is reported apart, and does not fail the comparison.</item>
/// <item>When inputs arrived after the replayed range (<paramref name="liveMayBeAhead"/>), a live key may go on past the shadow's last
///   record: counted as "live ahead", not a difference. A shadow key longer than the live one is always a difference.</item>
/// </list>
/// </summary>
public static class OutputComparison
{
    public static TopicComparison Compare(string topic, IEnumerable<OutputRecord> live, IEnumerable<OutputRecord> shadow, bool liveMayBeAhead, Func<OutputRecord, bool> timerDriven)
    {
        ArgumentNullException.ThrowIfNull(timerDriven);
        var liveByKey = ByKey(live, out var liveCount);
        var shadowByKey = ByKey(shadow, out var shadowCount);
        var differences = new List<KeyDifference>();
        int identical = 0, ahead = 0;
        var keys = new SortedSet<string>(liveByKey.Keys, StringComparer.Ordinal);
        keys.UnionWith(shadowByKey.Keys);
        foreach (var key in keys)
        {
            var l = liveByKey.GetValueOrDefault(key) ?? [];
            var s = shadowByKey.GetValueOrDefault(key) ?? [];
            var i = 0;
            while (i < l.Count && i < s.Count && l[i].SameAs(s[i]))
            {
                i++;
            }

            if (i == l.Count && i == s.Count)
            {
                identical++;
                continue;
            }

            if (i == s.Count && liveMayBeAhead)
            {
                ahead++;
                continue;
            }

            var (liveRecord, shadowRecord) = (i < l.Count ? l[i] : null, i < s.Count ? s[i] : null);
            var byTimer = (liveRecord is not null && timerDriven(liveRecord)) || (shadowRecord is not null && timerDriven(shadowRecord));
            differences.Add(new KeyDifference(topic, key, i, liveRecord, shadowRecord, byTimer));
        }

        return new TopicComparison(topic, liveCount, shadowCount, keys.Count, identical, ahead, differences);
    }

    /// <summary>
    /// The State comparison: each key's records as on the stream, and a key whose stream records diverged first at a timer's
    /// decision is timer-driven on State too (State records carry no event type).
    /// </summary>
    public static TopicComparison CompareState(string topic, IEnumerable<OutputRecord> live, IEnumerable<OutputRecord> shadow, bool liveMayBeAhead, IReadOnlySet<string> timerDivergedKeys)
    {
        ArgumentNullException.ThrowIfNull(timerDivergedKeys);
        return Compare(topic, live, shadow, liveMayBeAhead, r => timerDivergedKeys.Contains(r.Key));
    }

    private static Dictionary<string, List<OutputRecord>> ByKey(IEnumerable<OutputRecord> records, out int count)
    {
        var byKey = new Dictionary<string, List<OutputRecord>>(StringComparer.Ordinal);
        count = 0;
        foreach (var record in records)
        {
            count++;
            if (!byKey.TryGetValue(record.Key, out var list))
            {
                byKey[record.Key] = list = [];
            }

            list.Add(record);
        }

        return byKey;
    }
}
