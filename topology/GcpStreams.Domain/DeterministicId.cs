using System.Security.Cryptography;
using System.Text;

namespace GcpStreams.Domain;

/// <summary>
/// Ids derived from what caused them (a name-based UUID over SHA-256, RFC 9562 version 8), never random:
/// replaying the same inputs yields the same event ids, notification ids and outputs.
/// </summary>
public static class DeterministicId
{
    public static string Derive(params ReadOnlySpan<string> parts)
    {
        var buffer = new ArrayBufferWriterLite();
        foreach (var part in parts)
        {
            buffer.AppendLengthPrefixed(part); // length-prefixed, so ("ab","c") and ("a","bc") differ
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer.Written, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true).ToString("D");
    }

    private sealed class ArrayBufferWriterLite
    {
        private byte[] _bytes = new byte[256];
        private int _length;

        public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, _length);

        public void AppendLengthPrefixed(string text)
        {
            var size = Encoding.UTF8.GetByteCount(text);
            Ensure(size + 4);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(_bytes.AsSpan(_length), size);
            _length += 4;
            _length += Encoding.UTF8.GetBytes(text, _bytes.AsSpan(_length));
        }

        private void Ensure(int more)
        {
            if (_length + more > _bytes.Length)
            {
                Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + more));
            }
        }
    }
}
