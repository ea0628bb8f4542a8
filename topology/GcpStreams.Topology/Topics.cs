namespace GcpStreams.Topology;

/// <summary>Every topic the service reads or writes, named once. Owners and keys are in docs/architecture.md.</summary>
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

    /// <summary>Internal: commands to pools, keyed by pool id (JSON, only this application reads it).</summary>
    public static string PoolInput(string applicationId) => $"{applicationId}-pool-input-repartition";

    /// <summary>Internal: commands to certificate ledgers, keyed by certificate id (JSON, only this application reads it).</summary>
    public static string CertificateInput(string applicationId) => $"{applicationId}-certificate-input-repartition";

    /// <summary>Internal: the certificate lines of placed orders and their failed payments, keyed by order id, to the order processor.</summary>
    public static string OrderInput(string applicationId) => $"{applicationId}-order-input-repartition";

    /// <summary>The changelog Streamiz keeps for a store.</summary>
    public static string Changelog(string applicationId, string store) => $"{applicationId}-{store}-changelog";

    /// <summary>The topics other teams write and this service consumes.</summary>
    public static readonly IReadOnlyList<string> Inputs = [SalesOrders, Payments, Clients, Commands, NotificationResults];

    /// <summary>The topics this service writes for others.</summary>
    public static readonly IReadOnlyList<string> Outputs = [Stream, State, Replies, DeadLetter, Audit];
}

/// <summary>State store names. Renaming one is a breaking change: it needs an application reset.</summary>
public static class StoreNames
{
    /// <summary>Pools: counters, slots, reservations and reservation deadlines, under key prefixes.</summary>
    public const string Pools = "pools";

    /// <summary>Certificate ledgers by certificate id, and the expiry index of their authorization holds.</summary>
    public const string Certificates = "certificates";

    /// <summary>Global store of All_Clients (raw Avro), for the notification contact channel.</summary>
    public const string Clients = "clients";

    /// <summary>Idempotency-Key claims (client and key -> request fingerprint) and their retention index.</summary>
    public const string IdempotencyKeys = "idempotency-keys";

    /// <summary>The certificate lines of unpaid orders by order id, and their retention index.</summary>
    public const string Orders = "orders";
}

/// <summary>Processor names: fixed, so the topology description and metrics stay stable.</summary>
public static class ProcessorNames
{
    public const string Intake = "intake";
    public const string PoolProcessor = "pool-processor";
    public const string CertificateProcessor = "certificate-processor";
    public const string OrderProcessor = "order-processor";
}
