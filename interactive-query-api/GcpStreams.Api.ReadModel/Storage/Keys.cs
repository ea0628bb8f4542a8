using System.Buffers.Binary;
using System.Text;

namespace GcpStreams.Api.ReadModel.Storage;

/// <summary>
/// The key layout of the read model's RocksDB column family (README "Storage layout"). Every key starts with one tag byte;
/// strings are UTF-8; a string that is followed by more key bytes is length-prefixed (2 bytes, big-endian) so that one
/// value's keys are one prefix and never run into another value's. Certificate ids at the end of a key are not prefixed, so
/// keys of one prefix sort by id: UTF-8 byte order, which is the ordinal (UTF-16 code unit) order for every id without
/// characters above U+FFFF (certificate ids are ASCII).
/// </summary>
internal static class Keys
{
    /// <summary><c>S id</c> → the certificate's latest state (Avro binary of CertificateState, no wire header).</summary>
    public const byte State = (byte)'S';

    /// <summary><c>I attribute value id</c> → empty: the search indexes (attribute: see <see cref="Attribute"/>).</summary>
    public const byte Index = (byte)'I';

    /// <summary><c>C attribute value</c> → count (int64 BE) of the ids under that index entry, for order and client (the others are in memory).</summary>
    public const byte Count = (byte)'C';

    /// <summary><c>H lp(id) n</c> (n: int32 BE, from 0) → a history entry, in the order applied.</summary>
    public const byte History = (byte)'H';

    /// <summary><c>N id</c> → how many history entries the certificate has (int32 BE).</summary>
    public const byte HistoryLength = (byte)'N';

    /// <summary><c>E lp(id) eventId</c> → the sequence an event's decision requires of the state (8 bytes), or empty: the events in a history.</summary>
    public const byte Event = (byte)'E';

    /// <summary><c>P poolId</c> → the pool's projection (pool events) and its certificates' counts per status.</summary>
    public const byte Pool = (byte)'P';

    /// <summary><c>O lp(topic) partition</c> → the next offset to read (int64 BE).</summary>
    public const byte Position = (byte)'O';

    /// <summary><c>M name</c> → model-wide values (format, cluster id, topics, counters).</summary>
    public const byte Meta = (byte)'M';

    /// <summary>The indexed attributes (the second byte of an index key).</summary>
    public enum Attribute : byte
    {
        Status = (byte)'s',
        Channel = (byte)'c',
        Pool = (byte)'p',
        Order = (byte)'o',
        Client = (byte)'k',
    }

    public static byte[] Of(byte tag, string id) => Concat([tag], Utf8(id));

    public static byte[] MetaKey(string name) => Of(Meta, name);

    public static byte[] IndexEntry(Attribute attribute, string value) => Concat([Index, (byte)attribute], Prefixed(value));

    public static byte[] IndexKey(Attribute attribute, string value, string id) => Concat(IndexEntry(attribute, value), Utf8(id));

    public static byte[] CountKey(Attribute attribute, string value) => Concat([Count, (byte)attribute], Prefixed(value));

    public static byte[] HistoryPrefix(string id) => Concat([History], Prefixed(id));

    public static byte[] HistoryKey(string id, int n)
    {
        var prefix = HistoryPrefix(id);
        var key = new byte[prefix.Length + 4];
        prefix.CopyTo(key, 0);
        BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(prefix.Length), n);
        return key;
    }

    public static byte[] EventKey(string certificateId, string eventId) => Concat(Concat([Event], Prefixed(certificateId)), Utf8(eventId));

    public static byte[] PositionKey(string topic, int partition)
    {
        var prefix = Concat([Position], Prefixed(topic));
        var key = new byte[prefix.Length + 4];
        prefix.CopyTo(key, 0);
        BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(prefix.Length), partition);
        return key;
    }

    /// <summary>(topic, partition) of a <see cref="PositionKey"/>.</summary>
    public static (string Topic, int Partition) ParsePosition(ReadOnlySpan<byte> key)
    {
        var length = BinaryPrimitives.ReadUInt16BigEndian(key[1..]);
        return (Encoding.UTF8.GetString(key.Slice(3, length)), BinaryPrimitives.ReadInt32BigEndian(key[(3 + length)..]));
    }

    /// <summary>Whether <paramref name="key"/> starts with <paramref name="prefix"/>.</summary>
    public static bool HasPrefix(byte[] key, byte[] prefix) => key.AsSpan().StartsWith(prefix);

    /// <summary>The smallest key greater than every key that starts with <paramref name="prefix"/> (an iterator's upper bound).</summary>
    public static byte[] After(byte[] prefix)
    {
        var bound = (byte[])prefix.Clone();
        for (var i = bound.Length - 1; i >= 0; i--)
        {
            if (bound[i] != 0xFF)
            {
                bound[i]++;
                return bound[..(i + 1)];
            }
        }

        throw new ArgumentException("A prefix of 0xFF bytes has no upper bound.", nameof(prefix));
    }

    public static byte[] Int64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    public static long Int64(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadInt64BigEndian(bytes);

    public static byte[] Int32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    public static int Int32(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadInt32BigEndian(bytes);

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static byte[] Concat(byte[] a, byte[] b)
    {
        var result = new byte[a.Length + b.Length];
        a.CopyTo(result, 0);
        b.CopyTo(result, a.Length);
        return result;
    }

    private static byte[] Prefixed(string s)
    {
        var bytes = Utf8(s);
        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"A key part of {bytes.Length} bytes is longer than {ushort.MaxValue}.", nameof(s));
        }

        var result = new byte[bytes.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(result, (ushort)bytes.Length);
        bytes.CopyTo(result, 2);
        return result;
    }
}
