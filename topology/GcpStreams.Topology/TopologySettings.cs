using GcpStreams.Client;

namespace GcpStreams.Topology;

/// <summary>What the topology needs from configuration. Secrets (the numbering key) come from configuration, never from input.</summary>
public sealed record TopologySettings
{
    /// <summary>The Kafka Streams application id: prefix of internal topics and the consumer group.</summary>
    public required string ApplicationId { get; init; }

    /// <summary>The secret key that permutes generated certificate numbers (at least 16 bytes).</summary>
    public required byte[] NumberingKey { get; init; }

    /// <summary>
    /// The command signing key (at least <see cref="RecordSigner.MinKeyBytes"/> bytes): the intake accepts an API command only when
    /// it is signed with it, the owners accept a record of an internal topic only when the topology signed it, and every reply
    /// is signed with it for the API to check (<see cref="RecordSigner"/>). A secret: never logged.
    /// </summary>
    public required byte[] CommandSigningKey { get; init; }

    /// <summary>More keys whose signatures are accepted, never used to sign: the new key during a rotation.</summary>
    public IReadOnlyList<byte[]> AcceptedCommandSigningKeys { get; init; } = [];

    /// <summary>
    /// How far a command's <c>issuedAt</c> may be from the time its record was appended to the commands topic (either way):
    /// beyond it the command is refused as a possible replay. A command's request id is also remembered for twice this long,
    /// so a copy of a fresh command is refused too.
    /// </summary>
    public TimeSpan CommandMaxAge { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The signer of <see cref="CommandSigningKey"/> (accepting <see cref="AcceptedCommandSigningKeys"/> too).</summary>
    public RecordSigner Signer() => new(CommandSigningKey, AcceptedCommandSigningKeys);

    /// <summary>The CVC key version new certificates are issued with (the key itself is only in the API that discloses).</summary>
    public int CvcKeyVersion { get; init; } = 1;

    /// <summary>How long a reservation holds when the request does not say.</summary>
    public TimeSpan DefaultReservationHold { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the pool processor looks for expired reservations (wall-clock punctuation).</summary>
    public TimeSpan ReservationSweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a pool remembers an Idempotency-Key (of a reservation or a load) after its first use; a retry within it gets
    /// the first outcome. Forgotten keys are swept with the reservations (wall-clock punctuation).
    /// </summary>
    public TimeSpan IdempotencyKeyRetention { get; init; } = Domain.Pools.PoolSettings.DefaultIdempotencyKeyRetention;

    /// <summary>How long the order processor keeps a placed order's certificate lines (longer than any reservation holds).</summary>
    public TimeSpan OrderLinesRetention { get; init; } = TimeSpan.FromDays(2);

    /// <summary>Most reservations one client may hold open in one pool.</summary>
    public int MaxOpenReservationsPerClient { get; init; } = Domain.Pools.PoolSettings.DefaultMaxOpenReservationsPerCaller;

    /// <summary>The longest a reservation may be held; a longer request is refused (INVALID_AMOUNT), however it reached the topology.</summary>
    public TimeSpan MaxReservationHold { get; init; } = Domain.Pools.PoolSettings.DefaultMaxHold;

    /// <summary>Most certificates one load command may add.</summary>
    public int MaxLoadBatch { get; init; } = Domain.Pools.PoolSettings.DefaultMaxLoadBatch;

    /// <summary>How long an authorization holds its amount if Payments neither captures nor voids it; then the hold is released.</summary>
    public TimeSpan HoldExpiry { get; init; } = Domain.Certificates.CertificateSettings.DefaultHoldExpiry;

    /// <summary>How often the certificate processor looks for expired holds (wall-clock punctuation).</summary>
    public TimeSpan HoldSweepInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most support disclosures of one certificate's CVC within any 24 hours.</summary>
    public int SupportDisclosuresPerDay { get; init; } = Domain.Certificates.CertificateSettings.DefaultSupportDisclosuresPerDay;

    /// <summary>The default of <see cref="SupportDisclosuresPerClientPerDay"/>.</summary>
    public const int DefaultSupportDisclosuresPerClientPerDay = 50;

    /// <summary>
    /// Most support CVC disclosures one client (the caller) may ask for within any 24 hours, across every certificate: counted by
    /// the intake, once per request it lets through to a certificate (see <see cref="SupportDisclosureKeys"/>).
    /// </summary>
    public int SupportDisclosuresPerClientPerDay { get; init; } = DefaultSupportDisclosuresPerClientPerDay;

    /// <summary>
    /// After this many failed attempts a notification failure is final (no retry expected), for a result that does not say
    /// itself (<c>willRetry</c> null); the CRM notifier says it on every result.
    /// </summary>
    public int NotificationMaxAttempts { get; init; } = 5;

    /// <summary>The delivery SLA: a notification without a result this long after its request raises <c>notification.overdue</c>, once.</summary>
    public TimeSpan NotificationOverdueAfter { get; init; } = Domain.Certificates.CertificateSettings.DefaultNotificationOverdueAfter;

    /// <summary>
    /// How many decoded certificate ledgers each certificate task keeps in memory in front of its RocksDB store (least recently
    /// used dropped first); 0 turns the cache off. Each takes a few hundred bytes to a few KB.
    /// </summary>
    public int DecodedStateCacheEntries { get; init; } = 10_000;

    /// <summary>How often the certificate processor looks for overdue notifications (wall-clock punctuation).</summary>
    public TimeSpan NotificationSweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The topic each sink of the topology writes to, given the topic the processors address (identity by default). Only
    /// <c>gcp-replay verify</c> sets it: its shadow run writes the public outputs to shadow topics, so the live ones are never
    /// touched. Records are encoded and signed for the topic the processors address, so their bytes stay the live ones'.
    /// </summary>
    public Func<string, string> OutputTopic { get; init; } = static topic => topic;

    /// <summary>The BI marts' business time zone (IANA id): a day is the calendar day of an event's <c>occurredAt</c> there.</summary>
    public string ReportTimeZone { get; init; } = Domain.Reporting.ReportSettings.DefaultTimeZoneId;

    /// <summary>How long after its end a business day still takes late events as ordinary ones; later ones are counted as corrections.</summary>
    public TimeSpan ReportGrace { get; init; } = Domain.Reporting.ReportSettings.DefaultGrace;

    /// <summary>How long Orders and the certificate events may disagree for a (day, channel) before a RECONCILIATION_MISMATCH alert.</summary>
    public TimeSpan ReconciliationTolerance { get; init; } = Domain.Reporting.ReportSettings.DefaultTolerance;

    /// <summary>
    /// How often the BI marts changed since the last time are published on <c>GiftCertificates.DailyReport</c> (once each, however
    /// many events changed them); zero publishes every change at once (a record per event: the tests' default, costly under load).
    /// </summary>
    public TimeSpan ReportPublishInterval { get; init; } = TimeSpan.Zero;

    /// <summary>The reporting settings of the domain (the time zone resolved).</summary>
    public Domain.Reporting.ReportSettings Reporting() => new()
    {
        Zone = TimeZoneInfo.FindSystemTimeZoneById(ReportTimeZone),
        Grace = ReportGrace,
        Tolerance = ReconciliationTolerance,
    };
}
