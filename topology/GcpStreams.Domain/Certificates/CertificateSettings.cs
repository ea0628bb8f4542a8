namespace GcpStreams.Domain.Certificates;

/// <summary>Settings that certificate decisions need and that come from configuration, not from input events.</summary>
/// <param name="HoldExpiry">How long an authorization holds its amount when Payments neither captures nor voids it.</param>
/// <param name="SupportDisclosuresPerDay">Most support disclosures of one certificate's CVC within any 24 hours.</param>
public sealed record CertificateSettings(TimeSpan HoldExpiry, int SupportDisclosuresPerDay)
{
    public static readonly TimeSpan DefaultHoldExpiry = TimeSpan.FromDays(7);

    public const int DefaultSupportDisclosuresPerDay = 3;

    /// <summary>The default delivery SLA of a notification: after it without a result, <c>notification.overdue</c>.</summary>
    public static readonly TimeSpan DefaultNotificationOverdueAfter = TimeSpan.FromMinutes(5);

    /// <summary>How long a notification may stay without a result before it is reported overdue (once).</summary>
    public TimeSpan NotificationOverdueAfter { get; init; } = DefaultNotificationOverdueAfter;

    public static readonly CertificateSettings Default = new(DefaultHoldExpiry, DefaultSupportDisclosuresPerDay);
}
