namespace GcpStreams.Topology;

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

    /// <summary>The BI daily marts by channel and day, the records seen (duplicates), the reconciliation alert deadlines, the stream time.</summary>
    public const string DailyReports = "daily-reports";
}

/// <summary>Processor names: fixed, so the topology description and metrics stay stable.</summary>
public static class ProcessorNames
{
    public const string Intake = "intake";
    public const string PoolProcessor = "pool-processor";
    public const string CertificateProcessor = "certificate-processor";
    public const string OrderProcessor = "order-processor";
    public const string Reporting = "reporting";
    public const string DailyReports = "daily-reports";
}
