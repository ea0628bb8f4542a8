namespace GcpStreams.Client;

/// <summary>
/// Every public topic of the service (what other teams and the API read or write), named once. Owners and keys are in
/// docs/architecture.md; the topology's internal topics are its own (<c>InternalTopics</c> in GcpStreams.Topology).
/// </summary>
public static class Topics
{
    /// <summary>Orders (Orders team), key orderId, Avro SalesOrder.</summary>
    public const string SalesOrders = "All_SalesOrder";

    /// <summary>Payment operations (Payments team), key paymentId, Avro Payment.</summary>
    public const string Payments = "All_Payments";

    /// <summary>Clients (CRM), compacted, key clientId, Avro Client.</summary>
    public const string Clients = "All_Clients";

    /// <summary>Commands from the API, key poolId or certificateId, Avro GiftCertificateCommand.</summary>
    public const string Commands = "GiftCertificates.Commands";

    /// <summary>Command outcomes, key requestId, Avro CommandReply.</summary>
    public const string Replies = "GiftCertificates.Replies";

    /// <summary>THE typed event stream, key certificateId (poolId for pool events), Avro GiftCertificateEvent.</summary>
    public const string Stream = "GiftCertificates.Stream";

    /// <summary>Latest state per certificate, compacted, key certificateId, Avro CertificateState (no secret).</summary>
    public const string State = "GiftCertificates.State";

    /// <summary>One record per API call, Avro AuditRecord.</summary>
    public const string Audit = "GiftCertificates.Audit";

    /// <summary>Input that could not be processed, with the reason and its source coordinates, Avro DeadLetter.</summary>
    public const string DeadLetter = "GiftCertificates.DeadLetter";

    /// <summary>CRM notifier results, key certificateId, Avro NotificationResult.</summary>
    public const string NotificationResults = "CRM.NotificationResults";

    /// <summary>The topics other teams write and this service consumes.</summary>
    public static readonly IReadOnlyList<string> Inputs = [SalesOrders, Payments, Clients, Commands, NotificationResults];

    /// <summary>The topics this service writes for others.</summary>
    public static readonly IReadOnlyList<string> Outputs = [Stream, State, Replies, DeadLetter, Audit];
}
