using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;

namespace GcpStreams.Client;

/// <summary>
/// Signs and verifies the records only this service may write: the API's commands on <see cref="Topics.Commands"/>, the
/// topology's records on its internal topics and its replies on <see cref="Topics.Replies"/> (issue 10, M3). The signature is
/// an HMAC-SHA256, with the command signing key (<c>Gcp:CommandSigningKey</c>, at least 32 bytes), over the topic name, the
/// record key bytes and the record value bytes, each length-prefixed; it travels in the header <see cref="Header"/> as
/// <c>v1:{key id}:{base64 MAC}</c>. Everything a decision depends on (caller, request id, issuedAt, replyTo, payload) is in
/// the value, so a record cannot be changed, or moved to another topic, without the key.
/// Keys in <see cref="RecordSigner(byte[], IEnumerable{byte[]}?)"/>'s second argument are accepted but never used to sign: a
/// rotation adds the new key there on every instance first, then makes it the signing key (docs/operations.md).
/// </summary>
public sealed class RecordSigner
{
    /// <summary>The Kafka header that carries the signature.</summary>
    public const string Header = "gcp-signature";

    /// <summary>The shortest key accepted, in bytes.</summary>
    public const int MinKeyBytes = 32;

    private const string Version = "v1";
    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("gcp-record-signature-v1");

    private readonly byte[] key;
    private readonly Dictionary<string, byte[]> accepted = new(StringComparer.Ordinal);

    /// <param name="key">The signing key (also accepted).</param>
    /// <param name="acceptedKeys">More keys whose signatures are accepted (rotation); never used to sign.</param>
    /// <exception cref="ArgumentException">A key is shorter than <see cref="MinKeyBytes"/>.</exception>
    public RecordSigner(byte[] key, IEnumerable<byte[]>? acceptedKeys = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        this.key = Check(key);
        KeyId = IdOf(key);
        accepted[KeyId] = this.key;
        foreach (var other in acceptedKeys ?? [])
        {
            accepted.TryAdd(IdOf(Check(other)), (byte[])other.Clone());
        }
    }

    /// <summary>A short public id of the signing key (a truncated hash, not the key), named in every signature.</summary>
    public string KeyId { get; }

    /// <summary>Signs a record about to be written to <paramref name="topic"/>: sets <see cref="Header"/> (replacing any earlier one).</summary>
    public void Sign(string topic, byte[]? recordKey, byte[]? value, Headers headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        headers.Remove(Header);
        headers.Add(Header, Encoding.ASCII.GetBytes($"{Version}:{KeyId}:{Convert.ToBase64String(Mac(key, topic, recordKey, value))}"));
    }

    /// <summary>The signature header of a record for <paramref name="topic"/>, as <see cref="Sign"/> would write it.</summary>
    public Headers Signed(string topic, byte[]? recordKey, byte[]? value)
    {
        var headers = new Headers();
        Sign(topic, recordKey, value, headers);
        return headers;
    }

    /// <summary>Checks the signature of a record read from <paramref name="topic"/>; says what is wrong when it is not valid.</summary>
    public SignatureCheck Verify(string topic, byte[]? recordKey, byte[]? value, Headers? headers)
    {
        var signatures = headers?.Where(h => h.Key == Header).ToList() ?? [];
        if (signatures.Count == 0)
        {
            return new(SignatureStatus.Missing, $"no {Header} header: the record is not signed with the command signing key");
        }

        if (signatures.Count > 1)
        {
            return new(SignatureStatus.Malformed, $"{signatures.Count} {Header} headers: a record carries one");
        }

        var text = Encoding.ASCII.GetString(signatures[0].GetValueBytes() ?? []);
        var parts = text.Split(':');
        byte[]? mac = null;
        if (parts.Length != 3 || parts[0] != Version || !TryBase64(parts[2], out mac) || mac!.Length != HMACSHA256.HashSizeInBytes)
        {
            return new(SignatureStatus.Malformed, $"the {Header} header is not '{Version}:{{key id}}:{{base64 HMAC-SHA256}}'");
        }

        if (!accepted.TryGetValue(parts[1], out var verifier))
        {
            return new(SignatureStatus.UnknownKey, $"signed with a key this service does not accept (key id '{Truncate(parts[1])}'; this service signs with '{KeyId}')");
        }

        return CryptographicOperations.FixedTimeEquals(mac, Mac(verifier, topic, recordKey, value))
            ? new(SignatureStatus.Valid, "valid")
            : new(SignatureStatus.Invalid, $"the signature does not match the record (key id '{parts[1]}'): the record was changed or signed for another topic");
    }

    /// <summary>Names the key by its id only: a signer never shows its keys.</summary>
    public override string ToString() => $"RecordSigner(key id {KeyId}, {accepted.Count} accepted)";

    private static byte[] Mac(byte[] key, string topic, byte[]? recordKey, byte[]? value)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Domain);
        Append(hmac, Encoding.UTF8.GetBytes(topic));
        Append(hmac, recordKey);
        Append(hmac, value);
        return hmac.GetHashAndReset();
    }

    /// <summary>A length prefix (-1 for null), then the bytes: no two different (topic, key, value) give the same input.</summary>
    private static void Append(IncrementalHash hmac, byte[]? bytes)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, bytes?.Length ?? -1);
        hmac.AppendData(length);
        if (bytes is not null)
        {
            hmac.AppendData(bytes);
        }
    }

    private static string IdOf(byte[] key) =>
        Convert.ToHexStringLower(SHA256.HashData([.. Encoding.ASCII.GetBytes("gcp-record-signing-key-id:"), .. key]))[..12];

    private static byte[] Check(byte[] key) =>
        key is { Length: >= MinKeyBytes }
            ? (byte[])key.Clone()
            : throw new ArgumentException($"a command signing key has at least {MinKeyBytes} bytes (this one {key?.Length ?? 0})", nameof(key));

    private static bool TryBase64(string text, out byte[]? bytes)
    {
        bytes = new byte[(text.Length * 3 / 4) + 3];
        if (Convert.TryFromBase64String(text, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        bytes = null;
        return false;
    }

    private static string Truncate(string text) => text.Length <= 16 ? text : text[..16] + "…";
}

/// <summary>What is wrong with a record's signature, if anything.</summary>
public enum SignatureStatus
{
    Valid,
    Missing,
    Malformed,
    UnknownKey,
    Invalid,
}

/// <summary>The outcome of <see cref="RecordSigner.Verify"/>: the status and a message for a dead letter or a log line (never a key).</summary>
public readonly record struct SignatureCheck(SignatureStatus Status, string Message)
{
    public bool IsValid => Status == SignatureStatus.Valid;
}
