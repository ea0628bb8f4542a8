using System.Collections.Immutable;

namespace GcpStreams.Domain;

/// <summary>
/// A bounded window of the most recent input ids an aggregate has processed, oldest first.
/// A command whose causation id is in the window is a duplicate delivery and decides nothing.
/// Business keys (payment ids, request ids) guard against older duplicates that fell out of the window.
/// </summary>
public sealed record RecentIds
{
    /// <summary>How many ids an aggregate remembers.</summary>
    public const int Capacity = 128;

    public static readonly RecentIds Empty = new(ImmutableList<string>.Empty);

    private RecentIds(ImmutableList<string> ids) => Ids = ids;

    /// <summary>The remembered ids, oldest first.</summary>
    public ImmutableList<string> Ids { get; }

    public bool Contains(string id) => Ids.Contains(id, StringComparer.Ordinal);

    public RecentIds Add(string id)
    {
        if (Contains(id))
        {
            return this;
        }

        var ids = Ids.Add(id);
        return new RecentIds(ids.Count > Capacity ? ids.RemoveRange(0, ids.Count - Capacity) : ids);
    }

    /// <summary>Restores a window from stored ids (oldest first), keeping the newest <see cref="Capacity"/>.</summary>
    public static RecentIds From(IEnumerable<string> ids) => ids.Aggregate(Empty, (window, id) => window.Add(id));

    public bool Equals(RecentIds? other) => other is not null && Ids.SequenceEqual(other.Ids, StringComparer.Ordinal);

    public override int GetHashCode() => Ids.Count == 0 ? 0 : HashCode.Combine(Ids.Count, Ids[^1]);
}
