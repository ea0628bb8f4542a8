using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace GcpStreams.Domain;

/// <summary>
/// A bounded window of the most recent input ids an aggregate has processed, oldest first, kept as 64-bit digests
/// (the first 8 bytes of the id's SHA-256): 8 bytes per id whatever its length, so an aggregate's record stays small
/// although it is rewritten with every decision. A command whose causation id is in the window is a duplicate delivery
/// and decides nothing. Business keys (payment ids, request ids) guard against older duplicates that fell out of the window.
/// Two different ids share a digest with a probability of 2^-64 per comparison; SHA-256 keeps ids chosen by a client
/// (request ids) from being crafted to match someone else's.
/// </summary>
public sealed record RecentIds
{
    /// <summary>How many ids an aggregate remembers.</summary>
    public const int Capacity = 128;

    public static readonly RecentIds Empty = new(ImmutableArray<ulong>.Empty);

    private RecentIds(ImmutableArray<ulong> digests) => Digests = digests;

    /// <summary>The digests of the remembered ids, oldest first.</summary>
    public ImmutableArray<ulong> Digests { get; }

    public int Count => Digests.Length;

    public bool Contains(string id) => Digests.Contains(Digest(id));

    public RecentIds Add(string id) => AddDigest(Digest(id));

    /// <summary>Restores a window from stored ids (oldest first), keeping the newest <see cref="Capacity"/>.</summary>
    public static RecentIds From(IEnumerable<string> ids) => ids.Aggregate(Empty, (window, id) => window.Add(id));

    /// <summary>Restores a window from stored digests (oldest first), keeping the newest <see cref="Capacity"/>.</summary>
    public static RecentIds FromDigests(IEnumerable<ulong> digests) => digests.Aggregate(Empty, (window, digest) => window.AddDigest(digest));

    /// <summary>The digests as bytes (8 per id, little-endian, oldest first): the stored form.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Digests.Length * sizeof(ulong)];
        for (var i = 0; i < Digests.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * sizeof(ulong)), Digests[i]);
        }

        return bytes;
    }

    /// <summary>Reads the form written by <see cref="ToBytes"/>.</summary>
    public static RecentIds FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(ulong) != 0)
        {
            throw new FormatException($"recent ids: {bytes.Length} bytes is not a whole number of 8-byte digests");
        }

        var digests = new ulong[bytes.Length / sizeof(ulong)];
        for (var i = 0; i < digests.Length; i++)
        {
            digests[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * sizeof(ulong))..]);
        }

        return FromDigests(digests);
    }

    /// <summary>The digest an id is remembered by.</summary>
    public static ulong Digest(string id)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetMaxByteCount(id.Length);
        var utf8 = length <= 512 ? stackalloc byte[length] : new byte[length];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(id, utf8)], hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }

    private RecentIds AddDigest(ulong digest)
    {
        if (Digests.Contains(digest))
        {
            return this;
        }

        var kept = Digests.AsSpan()[Math.Max(0, Digests.Length - Capacity + 1)..];
        var digests = ImmutableArray.CreateBuilder<ulong>(kept.Length + 1);
        digests.AddRange(kept);
        digests.Add(digest);
        return new RecentIds(digests.MoveToImmutable());
    }

    public bool Equals(RecentIds? other) => other is not null && Digests.AsSpan().SequenceEqual(other.Digests.AsSpan());

    public override int GetHashCode() => Digests.Length == 0 ? 0 : HashCode.Combine(Digests.Length, Digests[^1]);
}
