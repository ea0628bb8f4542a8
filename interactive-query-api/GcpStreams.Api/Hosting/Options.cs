namespace GcpStreams.Api.Hosting;

/// <summary>Where Kafka is: the embedded broker (a dev/test convenience) or a real cluster.</summary>
public enum KafkaMode
{
    /// <summary>librdkafka's mock cluster in this process, every topic pre-created; everything is lost at exit.</summary>
    Embedded,

    /// <summary>A real Kafka cluster from <see cref="KafkaOptions.BootstrapServers"/>.</summary>
    Cluster,

    /// <summary>
    /// The standalone embedded broker (<c>make broker</c>) at <see cref="KafkaOptions.BootstrapServers"/> and its schema registry
    /// (<c>SchemaRegistry:Url</c>): nothing is created (the broker made every topic), as with a cluster, and the development
    /// conveniences of embedded mode stay (development keys, token endpoint and clients, demo pools loaded once). Several
    /// instances may attach at once, each with its own <c>ASPNETCORE_URLS</c> and <c>Kafka:StateDir</c>.
    /// </summary>
    Attached,
}

/// <summary>What the Kafka modes mean beyond where the broker is.</summary>
public static class KafkaModes
{
    /// <summary>Whether a mode is a development one (its own broker, or the standalone embedded broker): development keys and conveniences are allowed.</summary>
    public static bool IsDevelopment(this KafkaMode mode) => mode != KafkaMode.Cluster;
}

/// <summary>Which audited calls get a log line besides their record on the audit topic (<see cref="GcpOptions.AuditLog"/>).</summary>
public enum AuditLogMode
{
    /// <summary>Only a call whose record does not reach the topic: the log is the record of last resort.</summary>
    Fallback,

    /// <summary>Every call, as well as its record on the topic.</summary>
    EveryCall,
}

/// <summary>Section <c>Kafka</c>: the broker and the stream's processing settings.</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary><c>Embedded</c> (default), <c>Attached</c> (the standalone embedded broker of <c>make broker</c>) or <c>Cluster</c>.</summary>
    public KafkaMode Mode { get; set; } = KafkaMode.Embedded;

    /// <summary>
    /// Cluster and attached modes: the bootstrap servers, e.g. <c>kafka-0:9092,kafka-1:9092</c> (attached: what <c>make broker</c>
    /// printed). Embedded mode runs its own broker and refuses it.
    /// </summary>
    public string? BootstrapServers { get; set; }

    /// <summary>
    /// The Kafka Streams application id: consumer group, prefix of the internal topics and the state dir's subdirectory
    /// (1-100 of <c>A-Za-z0-9._-</c>, not <c>.</c> nor <c>..</c>).
    /// </summary>
    public string ApplicationId { get; set; } = "gcp-streams";

    /// <summary>Partitions of every topic the embedded broker creates, and the count the cluster check expects.</summary>
    public int Partitions { get; set; } = 2;

    /// <summary>Replication factor expected in cluster mode (the embedded broker has one).</summary>
    public int ReplicationFactor { get; set; } = 3;

    /// <summary><c>ExactlyOnce</c> (default) or <c>AtLeastOnce</c>.</summary>
    public string ProcessingGuarantee { get; set; } = "ExactlyOnce";

    /// <summary>
    /// Under exactly-once, commit each committed transaction's input offsets again outside it, with where its store changelog
    /// writes end, and set a changelog back to those ends before restoring it (<see cref="MockBrokerTransactions"/>): the embedded
    /// broker does not store offsets sent to a transaction and does not hide the writes of one that never committed. Default: on in attached mode, where instances restart
    /// and rebalance against a broker that outlives them; off in embedded mode (broker and stream start and end together, so
    /// the offsets are never read back) and in cluster mode (a real broker stores them).
    /// </summary>
    public bool? CommitOffsetsOutsideTransactions { get; set; }

    /// <summary>Whether <see cref="CommitOffsetsOutsideTransactions"/> applies, with its default by mode.</summary>
    public bool CommitsOffsetsOutsideTransactions => CommitOffsetsOutsideTransactions ?? Mode == KafkaMode.Attached;

    /// <summary>Commit interval: under exactly-once, outputs become visible at commit, so this bounds end-to-end latency.</summary>
    public int CommitIntervalMs { get; set; } = 20;

    /// <summary>
    /// How long a stream thread polls before it processes what came: Streamiz keeps consuming for the whole time while records
    /// arrive (up to 500), so under a steady flow every hop of a record waits about this long. 2 ms rather than 10: half the
    /// end-to-end latency at 1 000 payments/s and +45 % closed-loop reservations, throughput unchanged, ~6 % of a core more
    /// when idle (docs/benchmarks.md, twelfth session).
    /// </summary>
    public int PollMs { get; set; } = 2;

    /// <summary>Consumers' <c>fetch.wait.max.ms</c>. The embedded broker answers an empty fetch only after this long.</summary>
    public int FetchWaitMaxMs { get; set; } = 5;

    /// <summary>Producers' <c>linger.ms</c>.</summary>
    public int LingerMs { get; set; } = 1;

    public int NumStreamThreads { get; set; } = 1;

    /// <summary>
    /// The block cache every state store of the instance shares, in MiB (Streamiz's default is 50 MiB per store and task).
    /// </summary>
    public int StoreBlockCacheMiB { get; set; } = 64;

    /// <summary>
    /// Each state store's memtable size in MiB (Streamiz's default: 16); a store keeps at most 3, and flushes when 2 are full.
    /// The stores no longer flush at every commit (<c>LedgerStores</c>), so this bounds their memory.
    /// </summary>
    public int StoreWriteBufferMiB { get; set; } = 4;

    /// <summary>
    /// Where RocksDB stores live. Wiped at start in embedded and attached modes (the embedded broker keeps nothing across its
    /// restarts; attached, the stores are restored from the standalone broker's changelogs).
    /// </summary>
    public string StateDir { get; set; } = Path.Combine(Path.GetTempPath(), "gcp-streams-state");

    /// <summary>Cluster mode: <c>Plaintext</c>, <c>Ssl</c>, <c>SaslPlaintext</c> or <c>SaslSsl</c>.</summary>
    public string? SecurityProtocol { get; set; }

    /// <summary>Cluster mode: <c>Plain</c>, <c>ScramSha256</c>, <c>ScramSha512</c>, <c>Gssapi</c> or <c>OAuthBearer</c>.</summary>
    public string? SaslMechanism { get; set; }

    public string? SaslUsername { get; set; }

    public string? SaslPassword { get; set; }

    /// <summary>Cluster mode: CA certificate file for SSL.</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>Any other librdkafka setting, passed through as is (e.g. <c>Kafka__Settings__client.rack=eu-1a</c>).</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>Cluster mode: first delay between connection attempts at start; doubles up to <see cref="MaxRetryBackoffSeconds"/>.</summary>
    public int RetryBackoffSeconds { get; set; } = 2;

    public int MaxRetryBackoffSeconds { get; set; } = 60;

    /// <summary>
    /// How long the stream threads may make no progress (their poll count does not move) before the stream is abandoned and a
    /// new one started (<see cref="StreamSupervisor"/>).
    /// </summary>
    public int StreamStallSeconds { get; set; } = 60;

    /// <summary>Restarts of a stuck stream in a row (each followed by another stall) before <c>/health/live</c> fails.</summary>
    public int StreamStallRestarts { get; set; } = 3;
}

/// <summary>Section <c>Gcp</c>: the service's own settings.</summary>
public sealed class GcpOptions
{
    public const string Section = "Gcp";

    /// <summary>
    /// The development numbering key shipped in appsettings.json. Embedded mode may use it; cluster mode refuses it,
    /// because certificate numbers generated with a public key are guessable.
    /// </summary>
    public const string DevelopmentNumberingKey = "ZGV2LW9ubHktbnVtYmVyaW5nLWtleS1jaGFuZ2UtbWU=";

    /// <summary>
    /// The development command signing key of attached mode when <see cref="CommandSigningKey"/> is unset: every instance
    /// attached to one standalone broker signs with it, so each accepts the commands, internal records and replies of the
    /// others. Public, as the development numbering key: cluster mode refuses it.
    /// </summary>
    public const string DevelopmentCommandSigningKey = "ZGV2LW9ubHktY29tbWFuZC1zaWduaW5nLWtleS1hdHRhY2hlZC1tb2RlIQ==";

    /// <summary>Base64 of the secret key (at least 16 bytes) that permutes generated certificate numbers.</summary>
    public string NumberingKey { get; set; } = string.Empty;

    /// <summary>The CVC key version new certificates are issued with.</summary>
    public int CvcKeyVersion { get; set; } = 1;

    /// <summary>
    /// Base64 of the command signing key (at least 32 bytes), the same on every instance: the API signs its commands with it,
    /// the topology signs its internal records and replies with it, and refuses any of them that it did not sign (issue 10,
    /// M3). Required in cluster mode; in embedded mode (one process) a random key is made at start when it is unset. A secret:
    /// never logged.
    /// </summary>
    public string? CommandSigningKey { get; set; }

    /// <summary>Base64 keys whose signatures are accepted too, never used to sign: the next key during a rotation (docs/operations.md).</summary>
    public List<string> AcceptedCommandSigningKeys { get; set; } = [];

    /// <summary>
    /// How far a command's <c>issuedAt</c> may be from the time the broker appended it (seconds, either way): an older command is
    /// refused as a possible replay. At least <see cref="CommandTimeoutSeconds"/>.
    /// </summary>
    public int CommandMaxAgeSeconds { get; set; } = 300;

    /// <summary>
    /// The development CVC key shipped in appsettings.json (version 1). Embedded mode may use it; cluster mode refuses it.
    /// </summary>
    public const string DevelopmentCvcKey = "ZGV2LW9ubHktY3ZjLWtleS1uZXZlci11c2UtaW4tcHJvZA==";

    /// <summary>
    /// Base64 CVC keys (at least 16 bytes) by version: a certificate's CVC is derived with the key of the version it was issued
    /// with, so keys are added, never replaced. Secrets: only the API needs them, to disclose a CVC.
    /// </summary>
    public Dictionary<string, string> CvcKeys { get; set; } = [];

    /// <summary>The CVC key of a version, or null when it is not configured.</summary>
    public byte[]? CvcKey(int version) =>
        CvcKeys.TryGetValue(version.ToString(System.Globalization.CultureInfo.InvariantCulture), out var key) ? Convert.FromBase64String(key) : null;

    /// <summary>How long a reservation holds when the request does not say.</summary>
    public int ReservationHoldSeconds { get; set; } = 1_800;

    /// <summary>
    /// The longest hold a caller may ask for (<c>holdSeconds</c>): a reservation takes a certificate out of its pool, so a
    /// long hold lets one client empty a pool for others (issue 10, M1). 30 minutes by default.
    /// </summary>
    public int MaxReservationHoldSeconds { get; set; } = 1_800;

    /// <summary>
    /// The most reservations one client may hold open (neither issued, expired nor released) in one pool; beyond it a reservation
    /// is refused (409 reservation-limit), so no client can empty a pool by reserving it.
    /// </summary>
    public int MaxOpenReservationsPerClient { get; set; } = GcpStreams.Domain.Pools.PoolSettings.DefaultMaxOpenReservationsPerCaller;

    /// <summary>How long an API write waits for the topology's reply before answering 504.</summary>
    public int CommandTimeoutSeconds { get; set; } = 10;

    /// <summary>How long a pool remembers an Idempotency-Key (reservations and loads): a retry within it gets the first outcome.</summary>
    public int IdempotencyKeyHours { get; set; } = 24;

    /// <summary>How long an authorization holds its amount when Payments neither captures nor voids it (default 7 days); then it is released.</summary>
    public int HoldExpiryHours { get; set; } = 168;

    /// <summary>The delivery SLA of a notification: without a result this long after its request, <c>notification.overdue</c> (once).</summary>
    public int NotificationOverdueSeconds { get; set; } = 300;

    /// <summary>How often overdue notifications are looked for.</summary>
    public int NotificationSweepSeconds { get; set; } = 5;

    /// <summary>The BI reports' business time zone (IANA id): a day is the calendar day of an event's occurredAt there.</summary>
    public string ReportTimeZone { get; set; } = GcpStreams.Domain.Reporting.ReportSettings.DefaultTimeZoneId;

    /// <summary>How long after its end a business day takes late events as ordinary ones; later ones count as corrections.</summary>
    public int ReportGraceMinutes { get; set; } = (int)GcpStreams.Domain.Reporting.ReportSettings.DefaultGrace.TotalMinutes;

    /// <summary>How long Orders and the certificate events may disagree for a (day, channel) before a RECONCILIATION_MISMATCH alert.</summary>
    public int ReconciliationToleranceMinutes { get; set; } = (int)GcpStreams.Domain.Reporting.ReportSettings.DefaultTolerance.TotalMinutes;

    /// <summary>How often the BI marts changed since the last time are published on GiftCertificates.DailyReport (once each); 0 publishes every change.</summary>
    public int ReportPublishIntervalMs { get; set; } = 1_000;

    /// <summary>Most support disclosures of one certificate's CVC within any 24 hours.</summary>
    public int SupportCvcDisclosuresPerDay { get; set; } = GcpStreams.Domain.Certificates.CertificateSettings.DefaultSupportDisclosuresPerDay;

    /// <summary>
    /// Most support CVC disclosures one OAuth2 client may ask for within any 24 hours, across every certificate: counted once,
    /// in the topology's intake, whatever API instance the calls come through. 50 by default.
    /// </summary>
    public int SupportCvcDisclosuresPerClientPerDay { get; set; } = GcpStreams.Topology.TopologySettings.DefaultSupportDisclosuresPerClientPerDay;

    /// <summary>
    /// Section <c>Gcp:SupportTickets</c>: the grants of the ticketing system a support CVC disclosure must carry (trusted keys,
    /// issuer, audience, lifetime) and, in embedded mode only, the development signer.
    /// </summary>
    public GcpStreams.Api.Security.SupportGrantOptions SupportTickets { get; set; } = new();

    /// <summary>How often expired reservations are looked for.</summary>
    public int ReservationSweepSeconds { get; set; } = 5;

    /// <summary>Per-client rate limits of certificate lookups and CVC disclosures (against enumeration), per-address limit of token requests.</summary>
    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>
    /// Unauthenticated calls that failed (401s, refused token requests) audited one by one per minute and instance; beyond it
    /// they are counted, and one audit log line a minute gives the counts.
    /// </summary>
    public int AnonymousAuditPerMinute { get; set; } = 600;

    /// <summary>
    /// Which audited calls also get a line of log category <c>GcpStreams.Audit</c>: <c>Fallback</c> (default) only those whose
    /// record does not reach <c>GiftCertificates.Audit</c> (buffer full, refused by the broker, still buffered at stop), so
    /// every call is in one of the two; <c>EveryCall</c> all of them (a line per call costs the API about a tenth of its CPU).
    /// </summary>
    public AuditLogMode AuditLog { get; set; } = AuditLogMode.Fallback;

    /// <summary>
    /// Whether the OpenAPI document (<c>/openapi/v1.json</c>) and Swagger UI (<c>/swagger</c>) are served. Unset: in embedded
    /// mode yes, in cluster mode no.
    /// </summary>
    public bool? OpenApiEnabled { get; set; }

    /// <summary>Whether the OpenAPI document and Swagger UI are served in <paramref name="mode"/> (<see cref="OpenApiEnabled"/>).</summary>
    public bool ServesOpenApi(KafkaMode mode) => OpenApiEnabled ?? mode.IsDevelopment();

    /// <summary>Embedded and attached modes: pools loaded at start so `make run` has something to sell (once per broker, however many instances attach).</summary>
    public List<DemoPool> DemoPools { get; set; } = [];
}

/// <summary>A pool to load at start in embedded mode.</summary>
public sealed class DemoPool
{
    public string PoolId { get; set; } = string.Empty;
    public string Channel { get; set; } = string.Empty;
    public long NominalMinor { get; set; }
    public string Currency { get; set; } = string.Empty;
    public int Count { get; set; }
    public int LowWatermark { get; set; }
    public int Series { get; set; }
}

/// <summary>
/// Section <c>Gcp:RateLimits</c>: token buckets per OAuth2 client (per source address for the token endpoint). A client may
/// burst up to the bucket's size, then goes at the refill rate; beyond that it gets 429 with Retry-After.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Certificate reads (by id, history, search) per second per client.</summary>
    public int LookupsPerSecond { get; set; } = 100;

    /// <summary>Certificate reads a client may make at once before the per-second rate applies.</summary>
    public int LookupBurst { get; set; } = 200;

    /// <summary>Support CVC disclosures per minute per client.</summary>
    public int CvcPerMinute { get; set; } = 120;

    /// <summary>CVC disclosures a client may make at once before the per-minute rate applies.</summary>
    public int CvcBurst { get; set; } = 20;

    /// <summary>
    /// Notification CVC reads (<c>GET /certificates/{id}/cvc?notificationId=</c>, the CRM notifier) per minute per client: one per
    /// notification sent, so sized to the purchases a minute, higher than the support disclosures' <see cref="CvcPerMinute"/>.
    /// </summary>
    public int NotifyCvcPerMinute { get; set; } = 3_000;

    /// <summary>Notification CVC reads a client may make at once before the per-minute rate applies.</summary>
    public int NotifyCvcBurst { get; set; } = 200;

    /// <summary>Writes (reservations, lock and unlock, pool loads, notifications asked again) per second per client.</summary>
    public int WritesPerSecond { get; set; } = 50;

    /// <summary>Writes a client may make at once before the per-second rate applies.</summary>
    public int WriteBurst { get; set; } = 100;

    /// <summary>
    /// Requests without a valid token (anonymous, or with a bad one) per minute per source address, on every path but
    /// <c>/health</c>, the token endpoint (its own limit) and the embedded schema registry.
    /// </summary>
    public int AnonymousPerMinute { get; set; } = 300;

    /// <summary>Requests without a valid token a source address may make at once before the per-minute rate applies.</summary>
    public int AnonymousBurst { get; set; } = 100;

    /// <summary>Embedded auth mode: requests to <c>POST /connect/token</c> per minute per source address.</summary>
    public int TokenRequestsPerMinute { get; set; } = 60;

    /// <summary>Token requests a source address may make at once before the per-minute rate applies.</summary>
    public int TokenBurst { get; set; } = 100;
}
