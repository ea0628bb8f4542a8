using System.Globalization;

namespace GcpStreams.Domain.Certificates;

/// <summary>The payment operations a certificate applies at most once each (by payment id), and the one key it remembers each under.</summary>
public static class PaymentOperations
{
    public const string Authorize = "authorize";
    public const string Capture = "capture";
    public const string Void = "void";
    public const string Refund = "refund";

    /// <summary>The key of an applied payment operation: <c>{operation}:{paymentId}</c>.</summary>
    public static string Key(string operation, string paymentId) => string.Create(CultureInfo.InvariantCulture, $"{operation}:{paymentId}");

    /// <summary>The operation of a <see cref="Key"/> (operations have no ':').</summary>
    public static string OperationOf(string key) => key[..key.IndexOf(':', StringComparison.Ordinal)];

    /// <summary>The payment id of a <see cref="Key"/>.</summary>
    public static string PaymentIdOf(string key) => key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..];
}
