namespace GcpStreams.Domain;

/// <summary>The event type names on <c>GiftCertificates.Stream</c> (also the <c>event-type</c> header). One place, no literals elsewhere.</summary>
public static class EventTypes
{
    public const string PoolLoaded = "pool.loaded";
    public const string Reserved = "certificate.reserved";
    public const string ReservationExpired = "certificate.reservation_expired";
    public const string ReservationReleased = "certificate.reservation_released";
    public const string Issued = "certificate.issued";
    public const string Authorized = "certificate.authorized";
    public const string Redeemed = "certificate.redeemed";
    public const string HoldReleased = "certificate.hold_released";
    public const string Refunded = "certificate.refunded";
    public const string Cancelled = "certificate.cancelled";
    public const string Locked = "certificate.locked";
    public const string Unlocked = "certificate.unlocked";
    public const string CvcDisclosed = "cvc.disclosed";
    public const string NotificationRequested = "notification.requested";
    public const string NotificationSent = "notification.sent";
    public const string NotificationFailed = "notification.failed";
    public const string NotificationOverdue = "notification.overdue";
    public const string IssueBlocked = "issue.blocked";
    public const string Alert = "alert";
    public const string OperationRejected = "operation.rejected";

    /// <summary>Every type, in the order of the list above.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        PoolLoaded, Reserved, ReservationExpired, ReservationReleased, Issued, Authorized, Redeemed, HoldReleased, Refunded, Cancelled,
        Locked, Unlocked, CvcDisclosed, NotificationRequested, NotificationSent, NotificationFailed, IssueBlocked, Alert,
        OperationRejected, NotificationOverdue,
    ];
}
