using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace GcpStreams.Domain;

/// <summary>
/// Certificate numbers: 16 digits, <c>77</c> + a 13-digit serial + a Luhn check digit.
/// Generated serials are a keyed permutation (a Feistel network over [0, 10^13)) of
/// <c>series * 10^8 + index</c>: distinct inputs always give distinct numbers, the numbers do not reveal
/// their order, and the same key, series and index always give the same number (deterministic replay).
/// </summary>
public static class CertificateNumber
{
    public const string Prefix = "77";
    public const int Length = 16;
    public const int MaxSeries = 99_999;
    public const long MaxIndex = 99_999_999;

    private const long SerialSpace = 10_000_000_000_000; // 10^13
    private const long Half = 3_162_278; // ceil(sqrt(10^13)): the Feistel halves cover [0, Half^2) >= 10^13, cycle-walked back below 10^13
    private const int Rounds = 8;

    /// <summary>The number at <paramref name="index"/> of <paramref name="series"/> (a pool's number range), under a secret numbering key.</summary>
    public static string Generate(ReadOnlySpan<byte> key, int series, long index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(series, MaxSeries);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, MaxIndex);
        if (key.Length < 16)
        {
            throw new ArgumentException("the numbering key must have at least 16 bytes", nameof(key));
        }

        var serial = Permute(key, series * (MaxIndex + 1) + index);
        var body = Prefix + serial.ToString("D13", CultureInfo.InvariantCulture);
        return body + CheckDigit(body);
    }

    /// <summary>True when <paramref name="number"/> is 16 digits with the prefix and a valid check digit (typos are caught before any lookup).</summary>
    public static bool IsValid(string? number) =>
        number is { Length: Length }
        && number.StartsWith(Prefix, StringComparison.Ordinal)
        && number.All(char.IsAsciiDigit)
        && CheckDigit(number.AsSpan(0, Length - 1)) == number[^1];

    /// <summary>The Luhn check digit of a string of digits.</summary>
    public static char CheckDigit(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var doubleIt = true; // the digit left of the check digit is doubled
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (d is < 0 or > 9)
            {
                throw new ArgumentException("only digits have a check digit", nameof(digits));
            }

            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return (char)('0' + (10 - sum % 10) % 10);
    }

    private static long Permute(ReadOnlySpan<byte> key, long value)
    {
        // Cycle walking: the network permutes [0, Half^2); apply it until the result falls back into [0, 10^13).
        var x = value;
        do
        {
            x = Feistel(key, x);
        }
        while (x >= SerialSpace);

        return x;
    }

    private static long Feistel(ReadOnlySpan<byte> key, long x)
    {
        long left = x / Half, right = x % Half;
        using var hmac = new HMACSHA256(key.ToArray());
        Span<byte> input = stackalloc byte[9];
        Span<byte> output = stackalloc byte[32];
        for (var round = 0; round < Rounds; round++)
        {
            input[0] = (byte)round;
            BinaryPrimitives.WriteInt64BigEndian(input[1..], right);
            hmac.TryComputeHash(input, output, out _);
            var f = (long)(BinaryPrimitives.ReadUInt64BigEndian(output) % Half);
            (left, right) = (right, (left + f) % Half);
        }

        return left * Half + right;
    }
}

/// <summary>
/// The CVC of a certificate, derived on demand as HMAC-SHA256(key of <c>keyVersion</c>, certificate number) reduced to digits.
/// Nothing secret is ever stored: only the key version is kept on the certificate, and replays reproduce the same CVC.
/// </summary>
public static class Cvc
{
    public const int DefaultDigits = 4;

    public static string Derive(ReadOnlySpan<byte> key, int keyVersion, string certificateId, int digits = DefaultDigits)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        ArgumentOutOfRangeException.ThrowIfLessThan(digits, 3);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digits, 8);
        if (key.Length < 16)
        {
            throw new ArgumentException("the CVC key must have at least 16 bytes", nameof(key));
        }

        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"cvc:v{keyVersion}:{certificateId}")), mac);
        var modulus = (ulong)Math.Pow(10, digits);
        return (BinaryPrimitives.ReadUInt64BigEndian(mac) % modulus).ToString(new string('0', digits), CultureInfo.InvariantCulture);
    }
}
