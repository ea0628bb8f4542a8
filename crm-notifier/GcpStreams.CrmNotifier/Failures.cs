namespace GcpStreams.CrmNotifier;

/// <summary>
/// A failure worth trying again (a 4xx SMTP reply, a network error, a 5xx or 429 of the API or the gateway, a timeout). The
/// message goes onto CRM.NotificationResults and the stream: it never holds the CVC, a secret or the buyer's address.
/// </summary>
public sealed class TransientNotificationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A failure that trying again cannot fix (no contact, a bad address, a 5xx.y.z SMTP reply, a 4xx of the gateway, the CVC grant
/// closed, the certificate locked or cancelled): the notification fails at once, without further CVC reads. Same rule for the message.
/// </summary>
public sealed class PermanentNotificationException(string message, Exception? inner = null) : Exception(message, inner);
