namespace GcpStreams.Domain.Pools;

/// <summary>
/// The pool's rules as pure functions. A pool is decided by one single-threaded owner (its partition, keyed by pool id),
/// so "take the next slot" can never hand the same certificate to two reservations. The pool owns a certificate until it
/// is issued: it hands it out, takes it back when the reservation expires, and confirms the reservation of a paid order.
/// </summary>
public static class PoolDecider
{
    private static readonly IReadOnlyList<PoolEvent> Nothing = [];

    public static IReadOnlyList<PoolEvent> Decide(PoolCommand command, Pool? state, IPoolStore store, PoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(settings);
        if (state is not null && state.Seen.Contains(command.CausationId))
        {
            return command is IssueReserved issue ? Duplicate(issue, $"input {issue.CausationId} was delivered again") : Nothing;
        }

        return command switch
        {
            LoadPool c => Load(c, state, store, settings),
            ReserveNext c => Reserve(c, state, store, settings),
            ExpireReservation c => Expire(c, state, store),
            ReleaseReservation c => Release(c, state, store),
            IssueReserved c => Issue(c, state, store),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown pool command."),
        };
    }

    private static IReadOnlyList<PoolEvent> Load(LoadPool c, Pool? state, IPoolStore store, PoolSettings settings)
    {
        if (c.IdempotencyKey is { } key && store.LoadByKey(c.PoolId, key) is { } first)
        {
            return first.RequestFingerprint == c.RequestFingerprint
                ? [new PoolLoadReplayed(c.PoolId, c.CausationId, c.At, first.RequestId, first.FirstSlot, first.Count)]
                : Rejected(c, RejectionReason.IdempotencyConflict, $"idempotency key '{key}' was used for another load of pool {c.PoolId}");
        }

        if (state is not null && (state.Channel != c.Channel || state.NominalMinor != c.NominalMinor || state.Currency != c.Currency))
        {
            return Rejected(c, RejectionReason.PoolMismatch,
                $"pool {c.PoolId} holds {state.Channel} {state.NominalMinor} {state.Currency}, the load is for {c.Channel} {c.NominalMinor} {c.Currency}");
        }

        var imported = c.ImportedNumbers.Count > 0;
        var count = imported ? c.ImportedNumbers.Count : c.Count;
        if (count <= 0 || count > settings.MaxLoadBatch)
        {
            return Rejected(c, RejectionReason.InvalidAmount, $"a load adds 1 to {settings.MaxLoadBatch} certificates, this one {count}");
        }

        if (c.NominalMinor <= 0 || c.LowWatermark < 0)
        {
            return Rejected(c, RejectionReason.InvalidAmount, $"nominal must be positive and the low-watermark not negative (nominal {c.NominalMinor}, low-watermark {c.LowWatermark})");
        }

        if (imported && c.ImportedNumbers.FirstOrDefault(n => !CertificateNumber.IsValid(n)) is { } bad)
        {
            return Rejected(c, RejectionReason.InvalidAmount, $"imported number '{bad}' is not a valid certificate number (16 digits, prefix {CertificateNumber.Prefix}, check digit)");
        }

        if (imported && c.ImportedNumbers.Distinct(StringComparer.Ordinal).Count() != count)
        {
            return Rejected(c, RejectionReason.AlreadyExists, "imported numbers repeat within the load");
        }

        var series = state?.Series is >= 0 and var own ? own : c.Series ?? Pool.NoSeries;
        var generated = state?.Generated ?? 0;
        if (!imported && series is < 0 or > CertificateNumber.MaxSeries)
        {
            return Rejected(c, RejectionReason.InvalidAmount, $"generating numbers needs the pool's series (0-{CertificateNumber.MaxSeries}), got {c.Series?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        }

        if (!imported && generated + count > CertificateNumber.MaxIndex + 1)
        {
            return Rejected(c, RejectionReason.InvalidAmount, $"series {series} cannot generate {count} more numbers after {generated}");
        }

        IReadOnlyList<string> numbers = imported
            ? [.. c.ImportedNumbers]
            : [.. Enumerable.Range(0, count).Select(i => CertificateNumber.Generate(settings.NumberingKey, series, generated + i))];
        var tail = state?.Tail ?? 0;
        var head = state?.Head ?? 0;
        return
        [
            new PoolLoaded(c.PoolId, c.CausationId, c.At, c.Channel, c.NominalMinor, c.Currency, state?.LowWatermark ?? c.LowWatermark, series,
                tail, numbers, imported ? generated : generated + count, tail + count - head, c.IdempotencyKey, c.RequestFingerprint),
        ];
    }

    private static IReadOnlyList<PoolEvent> Reserve(ReserveNext c, Pool? state, IPoolStore store, PoolSettings settings)
    {
        if (state is null)
        {
            // not an issue.blocked: nothing was blocked, the pool does not exist (and a refusal of an unknown pool creates nothing)
            return Rejected(c, RejectionReason.NotFound, $"pool {c.PoolId} has never been loaded");
        }

        if (state.Channel != c.Channel || state.NominalMinor != c.NominalMinor || state.Currency != c.Currency)
        {
            return Rejected(c, RejectionReason.PoolMismatch,
                $"pool {c.PoolId} holds {state.Channel} {state.NominalMinor} {state.Currency}, the request is for {c.Channel} {c.NominalMinor} {c.Currency}");
        }

        if (c.HoldFor <= TimeSpan.Zero || c.HoldFor > settings.LongestHold)
        {
            return Rejected(c, RejectionReason.InvalidAmount,
                $"a reservation is held for a positive time up to {settings.LongestHold.TotalSeconds:F0} s, not {c.HoldFor.TotalSeconds:F0} s");
        }

        if (c.IdempotencyKey is { } key && store.ReservationByKey(c.PoolId, key) is { } first)
        {
            return first.RequestFingerprint == c.RequestFingerprint
                ? [new ReservationReplayed(c.PoolId, c.CausationId, c.At, first.CertificateId, first.RequestId, first.ReservedUntil)]
                : Rejected(c, RejectionReason.IdempotencyConflict, $"idempotency key '{key}' was used for another request in pool {c.PoolId}");
        }

        if (c.Caller is { } caller && store.OpenReservationsOf(c.PoolId, caller) >= settings.MaxOpenReservationsPerCaller)
        {
            return Rejected(c, RejectionReason.ReservationLimit,
                $"client {caller} already holds {settings.MaxOpenReservationsPerCaller} open reservations in pool {c.PoolId}, the most a client may hold; "
                + "issue, release or let some expire first");
        }

        if (state.Available == 0)
        {
            return Blocked(c, $"pool {c.PoolId} has no certificate left");
        }

        var availableAfter = state.Available - 1;
        var slot = store.CertificateAt(c.PoolId, state.Head);
        var reserved = new PoolCertificateReserved(c.PoolId, c.CausationId, c.At, state.Head, slot.CertificateId, c.RequestId,
            c.OrderId, state.Channel, state.NominalMinor, state.Currency, c.At + c.HoldFor, availableAfter, slot.Sequence + 1, c.IdempotencyKey, c.RequestFingerprint, c.Caller);
        return availableAfter < state.LowWatermark && state.Available >= state.LowWatermark
            ? [reserved, new PoolAlert(c.PoolId, c.CausationId, c.At, AlertKind.PoolLow, AlertSeverity.Warning,
                $"pool {c.PoolId} is below its low-watermark: {availableAfter} left, low-watermark {state.LowWatermark}")]
            : [reserved];
    }

    private static IReadOnlyList<PoolEvent> Expire(ExpireReservation c, Pool? state, IPoolStore store) =>
        state is not null && store.ReservationOf(c.PoolId, c.CertificateId) is { IssuedToOrder: null } r && c.At >= r.ReservedUntil
            ? [new ReservationExpired(c.PoolId, c.CausationId, c.At, c.CertificateId, r.ReservedUntil, state.Tail, state.Available + 1, r.Sequence + 1)]
            : Nothing; // issued in time, expired already, or not due yet: the timer has nothing to do

    private static IReadOnlyList<PoolEvent> Release(ReleaseReservation c, Pool? state, IPoolStore store)
    {
        var reservation = state is null ? null : store.ReservationOf(c.PoolId, c.CertificateId);
        if (state is null || reservation is null || reservation.IssuedToOrder is not null)
        {
            return Nothing; // never reserved, expired or released already, or paid (a paid order's return cancels the certificate instead)
        }

        if (reservation.OrderId is not null && reservation.OrderId != c.OrderId)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.OrderMismatch, $"certificate {c.CertificateId} is reserved for order {reservation.OrderId}, not {c.OrderId}");
        }

        return [new ReservationReleased(c.PoolId, c.CausationId, c.At, c.CertificateId, c.OrderId, c.Reason, state.Tail, state.Available + 1, reservation.Sequence + 1)];
    }

    private static IReadOnlyList<PoolEvent> Issue(IssueReserved c, Pool? state, IPoolStore store)
    {
        var reservation = state is null ? null : store.ReservationOf(c.PoolId, c.CertificateId);
        if (state is null || reservation is null)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.NotReserved, $"certificate {c.CertificateId} has no open reservation in pool {c.PoolId} (never handed out, or the reservation expired)");
        }

        if (reservation.IssuedToOrder is { } soldTo)
        {
            return soldTo == c.OrderId
                ? Duplicate(c, $"order {c.OrderId} bought this certificate already") // a re-sent order event
                : RejectedIssue(c, c.CertificateId, RejectionReason.AlreadyExists, $"certificate {c.CertificateId} was already sold by order {soldTo}",
                    (AlertKind.ReconciliationMismatch, AlertSeverity.Critical, $"order {c.OrderId} tried to issue certificate {c.CertificateId}, sold by order {soldTo}"));
        }

        if (c.At > reservation.ReservedUntil)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.ReservationExpired, $"the reservation of {c.CertificateId} ended at {reservation.ReservedUntil:O}");
        }

        if (reservation.OrderId is not null && reservation.OrderId != c.OrderId)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.OrderMismatch, $"certificate {c.CertificateId} is reserved for order {reservation.OrderId}");
        }

        if (c.Channel != state.Channel)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.ChannelMismatch, $"certificate {c.CertificateId} belongs to channel {state.Channel}, not {c.Channel}",
                (AlertKind.ChannelMismatch, AlertSeverity.Warning, $"order {c.OrderId} from channel {c.Channel} bought certificate {c.CertificateId} of channel {state.Channel}"));
        }

        if (c.Currency != state.Currency)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.CurrencyMismatch, $"certificate {c.CertificateId} is in {state.Currency}, not {c.Currency}",
                (AlertKind.CurrencyMismatch, AlertSeverity.Warning, $"order {c.OrderId} in {c.Currency} bought certificate {c.CertificateId} in {state.Currency}"));
        }

        if (c.NominalMinor != state.NominalMinor)
        {
            return RejectedIssue(c, c.CertificateId, RejectionReason.NominalMismatch, $"order line nominal {c.NominalMinor} differs from the pool's {state.NominalMinor}");
        }

        return [new ReservationIssued(c.PoolId, c.CausationId, c.At, c.CertificateId, c.OrderId, c.ClientId, c.Contact, state.Channel, state.NominalMinor, state.Currency, reservation.Sequence)];
    }

    /// <summary>An order event applied already (delivered again, or re-sent): nothing changes; an Info alert under the certificate's key says so.</summary>
    private static IReadOnlyList<PoolEvent> Duplicate(IssueReserved c, string message) =>
        [new PoolAlert(c.PoolId, c.CausationId, c.At, AlertKind.DuplicateEvent, AlertSeverity.Info, $"{c.Operation} ignored: {message}", c.CertificateId)];

    /// <summary>Whether an event is the alert of an ignored duplicate input (it repeats its input's causation id).</summary>
    public static bool IsDuplicate(PoolEvent e) => e is PoolAlert { Kind: AlertKind.DuplicateEvent };

    /// <summary>A refused operation on one certificate of the pool (an issue or a release), published under the certificate's key.</summary>
    private static IReadOnlyList<PoolEvent> RejectedIssue(PoolCommand c, string certificateId, RejectionReason reason, string message, (AlertKind Kind, AlertSeverity Severity, string Message)? alert = null)
    {
        var rejected = new PoolOperationRejected(c.PoolId, c.CausationId, c.At, c.Operation, reason, message, certificateId);
        return alert is { } a ? [rejected, new PoolAlert(c.PoolId, c.CausationId, c.At, a.Kind, a.Severity, a.Message, certificateId)] : [rejected];
    }

    private static IReadOnlyList<PoolEvent> Blocked(ReserveNext c, string message) =>
    [
        new IssueBlocked(c.PoolId, c.CausationId, c.At, c.RequestId, c.OrderId, c.NominalMinor, RejectionReason.PoolEmpty, message),
        new PoolAlert(c.PoolId, c.CausationId, c.At, AlertKind.PoolEmpty, AlertSeverity.Critical, message),
    ];

    private static IReadOnlyList<PoolEvent> Rejected(PoolCommand c, RejectionReason reason, string message) =>
        [new PoolOperationRejected(c.PoolId, c.CausationId, c.At, c.Operation, reason, message)];

    public static Pool? Evolve(Pool? state, PoolEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var next = @event switch
        {
            PoolLoaded e => Own((state ?? new Pool
            {
                PoolId = e.PoolId,
                Channel = e.Channel,
                NominalMinor = e.NominalMinor,
                Currency = e.Currency,
                LowWatermark = e.LowWatermark,
                Series = e.Series,
            }) with
            {
                Tail = e.FirstSlot + e.Numbers.Count,
                Generated = e.GeneratedAfter,
                Loaded = (state?.Loaded ?? 0) + e.Numbers.Count,
            }),
            PoolCertificateReserved => Changed(Required(state) with { Head = state!.Head + 1, Reserved = state.Reserved + 1 }),
            ReservationExpired or ReservationReleased => Changed(Required(state) with { Tail = state!.Tail + 1, Reserved = state.Reserved - 1 }),
            ReservationIssued => Changed(Required(state) with { Reserved = state!.Reserved - 1, Issued = state.Issued + 1 }),
            IssueBlocked => Own(Required(state) with { IssueBlocked = state!.IssueBlocked + 1 }),
            PoolOperationRejected or PoolAlert or ReservationReplayed or PoolLoadReplayed => state,
            _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown pool event."),
        };

        return next is null ? null : next with { Seen = next.Seen.Add(@event.CausationId) };

        // a change published under the pool's key takes the pool's next sequence number; every change takes the next version
        static Pool Own(Pool pool) => Changed(pool) with { Sequence = pool.Sequence + 1 };
        static Pool Changed(Pool pool) => pool with { Version = pool.Version + 1 };
    }

    public static Pool? Fold(IEnumerable<PoolEvent> events, Pool? initial = null) => events.Aggregate(initial, Evolve);

    /// <summary>
    /// What <paramref name="event"/> does to the pool's entries besides its counters (<see cref="Evolve"/>): slots, reservations,
    /// deadlines, open-reservation counts and idempotency keys, as read in <paramref name="entries"/> before the decision (one
    /// reservation event per decision, so the counts read are current).
    /// </summary>
    public static IReadOnlyList<PoolEntryChange> EntryChanges(PoolEvent @event, IPoolStore entries, PoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(@event);
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(settings);
        var changes = new List<PoolEntryChange>();
        switch (@event)
        {
            case PoolLoaded loaded:
                for (var i = 0; i < loaded.Numbers.Count; i++)
                {
                    changes.Add(new SlotFilled(loaded.FirstSlot + i, new PoolSlot(loaded.Numbers[i], 0)));
                }

                if (loaded.IdempotencyKey is { } loadKey)
                {
                    changes.Add(new LoadKeyRemembered(new KeyedLoad(loadKey, loaded.RequestFingerprint, loaded.CausationId, loaded.FirstSlot, loaded.Numbers.Count), loaded.At + settings.KeyRetention));
                }

                break;
            case PoolCertificateReserved r:
                changes.Add(new SlotEmptied(r.Slot));
                changes.Add(new ReservationStored(new Reservation(r.CertificateId, r.PoolId, r.Slot, r.RequestId, r.OrderId, r.ReservedUntil, Sequence: r.CertificateSequence, Caller: r.Caller)));
                changes.Add(new DeadlineSet(r.ReservedUntil, r.CertificateId));
                CountOpen(r.PoolId, r.Caller, +1, entries, changes);
                if (r.IdempotencyKey is { } key)
                {
                    changes.Add(new ReservationKeyRemembered(new KeyedReservation(key, r.RequestFingerprint, r.CertificateId, r.RequestId, r.ReservedUntil), r.At + settings.KeyRetention));
                }

                break;
            case ReservationExpired x:
                BackToTheTail(x.PoolId, x.CertificateId, x.Slot, x.CertificateSequence, entries, changes); // its timer fired (and deletes its deadline too)
                break;
            case ReservationReleased x:
                BackToTheTail(x.PoolId, x.CertificateId, x.Slot, x.CertificateSequence, entries, changes);
                break;
            case ReservationIssued x:
                var reservation = entries.ReservationOf(x.PoolId, x.CertificateId)!;
                CountOpen(x.PoolId, reservation.Caller, -1, entries, changes);
                changes.Add(new ReservationStored(reservation with { IssuedToOrder = x.OrderId }));
                changes.Add(new DeadlineCleared(reservation.ReservedUntil, x.CertificateId));
                break;
        }

        return changes;
    }

    /// <summary>A reservation that ends without an order (expired, released): its certificate goes back to a slot at the tail.</summary>
    private static void BackToTheTail(string poolId, string certificateId, long slot, long sequence, IPoolStore entries, List<PoolEntryChange> changes)
    {
        var reservation = entries.ReservationOf(poolId, certificateId);
        CountOpen(poolId, reservation?.Caller, -1, entries, changes);
        if (reservation is not null)
        {
            changes.Add(new DeadlineCleared(reservation.ReservedUntil, certificateId));
        }

        changes.Add(new ReservationRemoved(certificateId));
        changes.Add(new SlotFilled(slot, new PoolSlot(certificateId, sequence)));
    }

    /// <summary>
    /// Moves the count of <paramref name="caller"/>'s open reservations by <paramref name="delta"/>. A reservation without a caller
    /// (made before callers were recorded) is not counted.
    /// </summary>
    private static void CountOpen(string poolId, string? caller, int delta, IPoolStore entries, List<PoolEntryChange> changes)
    {
        if (caller is not null)
        {
            changes.Add(new OpenReservationsCounted(caller, Math.Max(0, entries.OpenReservationsOf(poolId, caller) + delta)));
        }
    }

    private static Pool Required(Pool? state) => state ?? throw new InvalidOperationException("event applies to a pool that has no state");
}
