namespace GcpStreams.Domain.Pools;

/// <summary>
/// A change to one of the entries a pool keeps beside its counters (slots, reservations, deadlines, open-reservation counts,
/// idempotency keys): what <see cref="PoolDecider.EntryChanges"/> says an event does to them. The topology writes each to its
/// store key; the tests apply them to dictionaries: the rules live here once.
/// </summary>
public abstract record PoolEntryChange;

/// <summary>An available certificate placed in a slot (loaded, or back at the tail from a reservation).</summary>
public sealed record SlotFilled(long Slot, PoolSlot Value) : PoolEntryChange;

/// <summary>A slot handed out: it no longer holds a certificate.</summary>
public sealed record SlotEmptied(long Slot) : PoolEntryChange;

/// <summary>A reservation made or changed (issued to an order).</summary>
public sealed record ReservationStored(Reservation Reservation) : PoolEntryChange;

/// <summary>A reservation gone (expired or released: its certificate is back in a slot).</summary>
public sealed record ReservationRemoved(string CertificateId) : PoolEntryChange;

/// <summary>A reservation's deadline: the expiry timer of <paramref name="CertificateId"/> at <paramref name="At"/>.</summary>
public sealed record DeadlineSet(DateTimeOffset At, string CertificateId) : PoolEntryChange;

/// <summary>A deadline that will not fire (the reservation was issued or released before it).</summary>
public sealed record DeadlineCleared(DateTimeOffset At, string CertificateId) : PoolEntryChange;

/// <summary>How many reservations <paramref name="Caller"/> holds open in the pool now (0: none, the entry goes).</summary>
public sealed record OpenReservationsCounted(string Caller, int Count) : PoolEntryChange;

/// <summary>An idempotency key remembered until <paramref name="Until"/> (then forgotten: a retry after it is a new request).</summary>
public abstract record KeyRemembered(DateTimeOffset Until) : PoolEntryChange;

/// <summary>A reservation's idempotency key, remembered until <paramref name="Until"/>.</summary>
public sealed record ReservationKeyRemembered(KeyedReservation Keyed, DateTimeOffset Until) : KeyRemembered(Until);

/// <summary>A load's idempotency key, remembered until <paramref name="Until"/>.</summary>
public sealed record LoadKeyRemembered(KeyedLoad Keyed, DateTimeOffset Until) : KeyRemembered(Until);
