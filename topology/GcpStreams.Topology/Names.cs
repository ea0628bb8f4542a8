namespace GcpStreams.Topology;

/// <summary>
/// The topology's internal topics (only this application reads them), named from the application id. Renaming one is a
/// breaking change: it needs an application reset. The public topics are in the client library's <c>Topics</c>.
/// </summary>
public static class InternalTopics
{
    /// <summary>Internal: commands to pools, keyed by pool id (JSON, only this application reads it).</summary>
    public static string PoolInput(string applicationId) => $"{applicationId}-pool-input-repartition";

    /// <summary>Internal: commands to certificate ledgers, keyed by certificate id (JSON, only this application reads it).</summary>
    public static string CertificateInput(string applicationId) => $"{applicationId}-certificate-input-repartition";

    /// <summary>Internal: the certificate lines of placed orders and their failed payments, keyed by order id, to the order processor.</summary>
    public static string OrderInput(string applicationId) => $"{applicationId}-order-input-repartition";

    /// <summary>The changelog Streamiz keeps for a store.</summary>
    public static string Changelog(string applicationId, string store) => $"{applicationId}-{store}-changelog";
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
