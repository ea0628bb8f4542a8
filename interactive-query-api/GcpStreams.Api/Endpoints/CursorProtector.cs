using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using GcpStreams.Api.Hosting;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// Seals the read model's paging cursors (which name the last certificate of a page) before they leave the API, so a caller
/// who sees masked numbers cannot read a full number out of a cursor, nor forge one. AES-GCM under a key derived (HKDF-SHA256)
/// from <c>Gcp:NumberingKey</c>, which every instance shares, so any instance continues any instance's cursor.
/// </summary>
public sealed class CursorProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Info = Encoding.ASCII.GetBytes("gcp-streams/search-cursor/v1");
    private readonly byte[] key;

    public CursorProtector(IOptions<GcpOptions> gcp)
    {
        ArgumentNullException.ThrowIfNull(gcp);
        key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Convert.FromBase64String(gcp.Value.NumberingKey), 32, info: Info);
    }

    /// <summary>The sealed form of <paramref name="cursor"/> (base64url), or <see langword="null"/> for none.</summary>
    public string? Seal(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        var plain = Encoding.UTF8.GetBytes(cursor);
        var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length));
        return Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The cursor <paramref name="sealedCursor"/> was made from.</summary>
    /// <exception cref="FormatException">Not a cursor this service sealed (or altered).</exception>
    public string Open(string sealedCursor)
    {
        ArgumentNullException.ThrowIfNull(sealedCursor);
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(sealedCursor);
        }
        catch (FormatException e)
        {
            throw new FormatException("The paging cursor is not valid.", e);
        }

        if (bytes.Length < NonceSize + TagSize)
        {
            throw new FormatException("The paging cursor is not valid.");
        }

        var plain = new byte[bytes.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize, plain.Length), bytes.AsSpan(NonceSize + plain.Length), plain);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new FormatException("The paging cursor is not valid.", e);
        }

        return Encoding.UTF8.GetString(plain);
    }
}
