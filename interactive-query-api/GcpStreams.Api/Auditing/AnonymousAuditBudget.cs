namespace GcpStreams.Api.Auditing;

/// <summary>
/// Bounds the audit records of unauthenticated calls that failed (401s, refused token requests), which anyone can send:
/// within each minute the first <c>Gcp:AnonymousAuditPerMinute</c> are recorded one by one; the rest are only counted, by
/// method, endpoint and outcome, and a summary of the counts is due once the minute is over (or at stop). Nothing else is
/// bounded here: calls with a valid token are always recorded.
/// </summary>
/// <param name="perMinute">Unauthenticated failures recorded one by one per minute.</param>
/// <param name="time">The clock.</param>
public sealed class AnonymousAuditBudget(int perMinute, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock gate = new();
    private readonly SortedDictionary<string, long> counted = new(StringComparer.Ordinal);
    private readonly List<AnonymousAuditSummary> due = [];
    private DateTimeOffset windowStart = time.GetUtcNow();
    private int recorded;
    private long countedTotal;
    private long unreported; // counted and not taken yet: lets TakeSummaries skip the lock on the common path

    /// <summary>Unauthenticated failures counted instead of recorded, since start.</summary>
    public long Counted => Interlocked.Read(ref countedTotal);

    /// <summary>Whether this unauthenticated failure is recorded one by one; if not, it is counted under <paramref name="kind"/>.</summary>
    /// <param name="kind">What the call was, e.g. <c>GET /pools unauthenticated</c>.</param>
    /// <returns><see langword="true"/> while the minute's budget lasts.</returns>
    public bool TryRecord(string kind)
    {
        lock (gate)
        {
            Roll();
            if (recorded < perMinute)
            {
                recorded++;
                return true;
            }

            counted[kind] = counted.GetValueOrDefault(kind) + 1;
            Interlocked.Increment(ref countedTotal);
            Interlocked.Increment(ref unreported);
            return false;
        }
    }

    /// <summary>
    /// The counts of every minute that is over and not reported yet, taken so each is reported once; with
    /// <paramref name="includeCurrent"/> (at stop) also the current minute's.
    /// </summary>
    /// <param name="includeCurrent">Take the current minute's counts too.</param>
    /// <returns>The summaries, oldest first; empty when nothing was counted.</returns>
    public IReadOnlyList<AnonymousAuditSummary> TakeSummaries(bool includeCurrent = false)
    {
        if (Interlocked.Read(ref unreported) == 0)
        {
            return [];
        }

        lock (gate)
        {
            Roll();
            if (includeCurrent)
            {
                Close(time.GetUtcNow());
            }

            var taken = due.ToArray();
            due.Clear();
            Interlocked.Exchange(ref unreported, counted.Values.Sum());
            return taken;
        }
    }

    private void Roll()
    {
        var now = time.GetUtcNow();
        if (now - windowStart >= Window)
        {
            Close(now);
            windowStart = now;
            recorded = 0;
        }
    }

    private void Close(DateTimeOffset end)
    {
        if (counted.Count > 0)
        {
            due.Add(new AnonymousAuditSummary(windowStart, end, counted.Values.Sum(), string.Join(", ", counted.Select(c => $"{c.Key}: {c.Value}"))));
            counted.Clear();
        }
    }
}

/// <summary>Unauthenticated failures counted, not recorded one by one, between <paramref name="From"/> and <paramref name="To"/>.</summary>
/// <param name="From">Start of the minute.</param>
/// <param name="To">When the summary was taken.</param>
/// <param name="Count">How many.</param>
/// <param name="ByKind">The counts by method, endpoint and outcome, e.g. <c>GET /pools unauthenticated: 12</c>.</param>
public sealed record AnonymousAuditSummary(DateTimeOffset From, DateTimeOffset To, long Count, string ByKind);
