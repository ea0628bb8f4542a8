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
}

/// <summary>
/// The entries of a certificate's payment history one decision reads: the key of its own payment operation (applied already?)
/// and the capture a refund names. Either may be null.
/// </summary>
public sealed record PaymentHistoryNeeds(string? AppliedKey, string? CaptureId)
{
    public static readonly PaymentHistoryNeeds None = new(null, null);
}
