namespace GcpStreams.Domain.Pools;

/// <summary>
/// A pool of certificates of one channel, nominal and currency, handed out first-in first-out.
/// Its certificate numbers live in slots (slot -> certificate id, one store entry each, never one giant value):
/// slots [<see cref="Head"/>, <see cref="Tail"/>) are available; loads and returned reservations append at the tail.
/// </summary>
public sealed record Pool
{
    public required string PoolId { get; init; }
    public required Channel Channel { get; init; }
    public required long NominalMinor { get; init; }
    public required string Currency { get; init; }

    /// <summary>Below this many available certificates the pool raises a pool_low alert.</summary>
    public required int LowWatermark { get; init; }

    /// <summary>The series of a pool that only ever imported numbers.</summary>
    public const int NoSeries = -1;

    /// <summary>The pool's number range: generated numbers are <see cref="CertificateNumber.Generate"/>(key, Series, index); <see cref="NoSeries"/> until a load gives one.</summary>
    public required int Series { get; init; }

    /// <summary>How many numbers have been generated in the series: the index of the next one.</summary>
    public long Generated { get; init; }

    /// <summary>The next slot to hand out.</summary>
    public long Head { get; init; }

    /// <summary>The next slot to fill.</summary>
    public long Tail { get; init; }

    /// <summary>Certificates handed out and neither issued nor returned yet.</summary>
    public long Reserved { get; init; }

    /// <summary>Certificates of this pool that were sold (issued).</summary>
    public long Issued { get; init; }

    /// <summary>Certificates ever placed into the pool by loads (returned ones not counted again).</summary>
    public long Loaded { get; init; }

    /// <summary>Reservation requests refused because the pool was empty (<c>issue.blocked</c>).</summary>
    public long IssueBlocked { get; init; }

    /// <summary>
    /// The sequence number of the pool's last own event on the stream (keyed by the pool id: <c>pool.loaded</c>,
    /// <c>issue.blocked</c>); refusals and alerts carry it unchanged, so the pool's numbered events run 1, 2, 3… without a gap.
    /// </summary>
    public long Sequence { get; init; }

    /// <summary>
    /// How many changes the pool has had, its own events and its certificates' (reserved, expired, released, issued) alike:
    /// the version that orders its levels (<c>availableAfter</c>) across the partitions those events are published on.
    /// </summary>
    public long Version { get; init; }

    public RecentIds Seen { get; init; } = RecentIds.Empty;

    public long Available => Tail - Head;
}

/// <summary>
/// A certificate handed out by <c>POST /certificates/next</c>. It stays with the pool until an order issues it
/// (<see cref="IssuedToOrder"/> is then set, so a re-sent order is recognised) or until it expires and goes back to the tail.
/// </summary>
/// <param name="Sequence">The certificate's sequence number at its <c>certificate.reserved</c> event.</param>
/// <param name="Caller">The client that reserved it (counted in its open reservations of the pool until issued, expired or released).</param>
public sealed record Reservation(
    string CertificateId, string PoolId, long Slot, string RequestId, string? OrderId, DateTimeOffset ReservedUntil, string? IssuedToOrder = null, long Sequence = 0,
    string? Caller = null);

/// <summary>An available certificate in a pool slot, with the number of events it has had (0 when loaded, more once it came back from a reservation).</summary>
public sealed record PoolSlot(string CertificateId, long Sequence);

/// <summary>
/// What a pool decision reads besides the pool's counters: its slots and its reservations
/// (store lookups in the topology, dictionaries in tests). Never one giant value.
/// </summary>
public interface IPoolStore
{
    /// <summary>The certificate in an available slot of the pool.</summary>
    PoolSlot CertificateAt(string poolId, long slot);

    /// <summary>The reservation of a certificate of the pool, if it was handed out.</summary>
    Reservation? ReservationOf(string poolId, string certificateId);

    /// <summary>The reservation first made with an idempotency key in this pool, if any (keys are kept for a retention period, then forgotten).</summary>
    KeyedReservation? ReservationByKey(string poolId, string idempotencyKey);

    /// <summary>The load first made with an idempotency key in this pool, if any.</summary>
    KeyedLoad? LoadByKey(string poolId, string idempotencyKey);

    /// <summary>How many reservations of the pool <paramref name="caller"/> holds open (neither issued, expired nor released).</summary>
    int OpenReservationsOf(string poolId, string caller);
}

/// <summary>What an idempotency key of a pool was first used for: the request's fingerprint and the certificate it got.</summary>
public sealed record KeyedReservation(string IdempotencyKey, string RequestFingerprint, string CertificateId, string RequestId, DateTimeOffset ReservedUntil);

/// <summary>What an idempotency key of a pool's loads was first used for: the request's fingerprint and the slots it filled.</summary>
public sealed record KeyedLoad(string IdempotencyKey, string RequestFingerprint, string RequestId, long FirstSlot, int Count);

/// <summary>Settings that decisions need and that come from configuration, not from input events.</summary>
/// <param name="NumberingKey">The secret key that permutes generated certificate numbers (at least 16 bytes).</param>
/// <param name="MaxLoadBatch">The most certificates one load command may add; larger loads are split by the caller.</param>
/// <param name="MaxOpenReservationsPerCaller">The most reservations one client may hold open in one pool, so no client can empty a pool.</param>
/// <param name="MaxHold">The longest a reservation may be held (a longer request is refused, whoever wrote it).</param>
/// <param name="IdempotencyKeyRetention">How long a pool remembers an idempotency key after its first use.</param>
public sealed record PoolSettings(
    byte[] NumberingKey,
    int MaxLoadBatch = PoolSettings.DefaultMaxLoadBatch,
    int MaxOpenReservationsPerCaller = PoolSettings.DefaultMaxOpenReservationsPerCaller,
    TimeSpan? MaxHold = null,
    TimeSpan? IdempotencyKeyRetention = null)
{
    /// <summary>How long idempotency keys are remembered unless configured otherwise: 24 hours.</summary>
    public static readonly TimeSpan DefaultIdempotencyKeyRetention = TimeSpan.FromHours(24);

    /// <summary><see cref="IdempotencyKeyRetention"/>, or <see cref="DefaultIdempotencyKeyRetention"/> when not given.</summary>
    public TimeSpan KeyRetention => IdempotencyKeyRetention ?? DefaultIdempotencyKeyRetention;

    /// <summary>The most certificates one load adds unless configured otherwise (the API and the demo pools use the same bound).</summary>
    public const int DefaultMaxLoadBatch = 10_000;

    /// <summary>The most open reservations of one client in one pool unless configured otherwise.</summary>
    public const int DefaultMaxOpenReservationsPerCaller = 100;

    /// <summary>The longest hold unless configured otherwise: 30 minutes.</summary>
    public static readonly TimeSpan DefaultMaxHold = TimeSpan.FromMinutes(30);

    /// <summary><see cref="MaxHold"/>, or <see cref="DefaultMaxHold"/> when not given.</summary>
    public TimeSpan LongestHold => MaxHold ?? DefaultMaxHold;
}
