using System.Collections.Immutable;

namespace GcpStreams.Domain.Certificates;

/// <summary>What a certificate is from the moment it is issued: its number, pool, channel, nominal and currency. Never changes.</summary>
public sealed record CertificateIdentity(string CertificateId, string PoolId, Channel Channel, long NominalMinor, string Currency);

/// <summary>One capture (redemption) of value and how much of it has been refunded since.</summary>
public sealed record Capture(long AmountMinor, long RefundedMinor)
{
    public long RefundableMinor => AmountMinor - RefundedMinor;
}

/// <summary>An open authorization: the amount it still holds and when the hold lapses if Payments never captures or voids it.</summary>
public sealed record Hold(long AmountMinor, DateTimeOffset ExpiresAt);

/// <summary>
/// One support disclosure of the CVC: a digest of the ticket it was made under (a fixed size, whatever the ticket) and when.
/// A certificate remembers its support disclosures for <see cref="Memory"/>, at most <see cref="MaxRemembered"/>: enough for
/// "once per ticket" and the daily cap, and bounded, so no caller can grow a certificate's state without limit.
/// </summary>
public sealed record SupportDisclosure(string TicketDigest, DateTimeOffset At)
{
    /// <summary>How long a ticket cannot be used again for the same certificate.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromDays(30);

    /// <summary>The most disclosures a certificate remembers (the oldest are forgotten first).</summary>
    public const int MaxRemembered = 100;

    public static string Digest(string ticket) => DeterministicId.Derive("support-ticket", ticket);
}

/// <summary>
/// A notification request that has no final result yet: while it is pending, the CRM notifier may read the CVC for it (every
/// read an audited <c>cvc.disclosed</c>); its result (sent, or a final failure) closes it. <see cref="Overdue"/> says the
/// <c>notification.overdue</c> alert was raised for it (once). A certificate keeps at most <see cref="MaxPending"/> of them,
/// the oldest dropped first (its grant closes with it), so no caller can grow a certificate's state without bound by asking
/// for notifications again.
/// </summary>
public sealed record PendingNotification(string NotificationId, DateTimeOffset RequestedAt, bool Overdue = false)
{
    /// <summary>The most pending notifications (open CVC grants) a certificate keeps.</summary>
    public const int MaxPending = 5;
}

/// <summary>
/// The ledger state of one certificate: a closed hierarchy folded from its events by <see cref="CertificateDecider.Evolve"/>.
/// The ledger starts at issue: before that a certificate is a slot or a reservation of its pool (see <c>Pools.Pool</c>),
/// and has no ledger state (null). What is known from the issue on (buyer, order, lock, CVC counters) stays in every state,
/// so a cancellation changes the status and the amounts, never the certificate's identity or history.
/// </summary>
public abstract record Certificate
{
    private protected Certificate()
    {
    }

    public required CertificateIdentity Identity { get; init; }

    /// <summary>The sequence number of the last event that changed this certificate (refusals and alerts do not count).</summary>
    public long Sequence { get; init; }

    /// <summary>The input ids processed most recently, for duplicate detection.</summary>
    public RecentIds Seen { get; init; } = RecentIds.Empty;

    public string CertificateId => Identity.CertificateId;

    public required string OrderId { get; init; }
    public string? ClientId { get; init; }
    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>Which version of the CVC key derives this certificate's CVC; fixed at issue so key rotation never changes a CVC.</summary>
    public required int CvcKeyVersion { get; init; }

    public bool Locked { get; init; }
    public string? LockReason { get; init; }

    public int CvcDisclosures { get; init; }

    /// <summary>
    /// Disclosures granted so far: one per notification request and one per support disclosure made. (A notification grant allows
    /// reads until its result, so <see cref="CvcDisclosures"/>, which counts every read, may exceed it.)
    /// </summary>
    public int CvcDisclosuresAllowed { get; init; }

    /// <summary>The ledger balance (for an active certificate: nominal - captured + refunded; zero once cancelled).</summary>
    public abstract long BalanceMinor { get; }

    /// <summary>What open authorizations hold of the balance.</summary>
    public abstract long HeldMinor { get; }

    public abstract CertificateStatus Status { get; }

    /// <summary>Issued (sold and paid): it holds value and can be redeemed, refunded, locked.</summary>
    public sealed record Active : Certificate
    {
        /// <summary>Open authorizations: authorization payment id -> what it still holds and until when.</summary>
        public ImmutableSortedDictionary<string, Hold> Holds { get; init; } = ImmutableSortedDictionary<string, Hold>.Empty.WithComparers(StringComparer.Ordinal);

        /// <summary>
        /// Captures by payment id, with the amount refunded against each: in a fold of the events every one; in the state the
        /// ledger's owner hands to <see cref="CertificateDecider.Decide"/>, those of the payments the command names
        /// (<see cref="CertificateDecider.HistoryNeededBy"/>; the owner keeps each payment's under its own key), so a payment costs
        /// the same whatever the certificate's history. The totals are <see cref="CapturedMinor"/> and <see cref="RefundedMinor"/>.
        /// </summary>
        public ImmutableSortedDictionary<string, Capture> Captures { get; init; } = NoCaptures;

        public static readonly ImmutableSortedDictionary<string, Capture> NoCaptures = ImmutableSortedDictionary<string, Capture>.Empty.WithComparers(StringComparer.Ordinal);
        public static readonly ImmutableSortedSet<string> NoAppliedPayments = ImmutableSortedSet<string>.Empty.WithComparer(StringComparer.Ordinal);

        /// <summary>
        /// Payment operations already applied (<see cref="PaymentOperations.Key"/>): a re-sent payment is a no-op. Like
        /// <see cref="Captures"/>, all of them in a fold, the ones the command names in a decision.
        /// </summary>
        public ImmutableSortedSet<string> AppliedPayments { get; init; } = NoAppliedPayments;

        /// <summary>Notification requests without a final result, oldest first (at most <see cref="PendingNotification.MaxPending"/>): each grants CVC reads to the notifier.</summary>
        public ImmutableList<PendingNotification> PendingNotifications { get; init; } = ImmutableList<PendingNotification>.Empty;

        /// <summary>The pending notification <paramref name="notificationId"/>, or null.</summary>
        public PendingNotification? Pending(string? notificationId) =>
            notificationId is null ? null : PendingNotifications.Find(p => string.Equals(p.NotificationId, notificationId, StringComparison.Ordinal));

        /// <summary>Support disclosures remembered (see <see cref="SupportDisclosure"/>), oldest first: once per ticket, and a bounded number per day.</summary>
        public ImmutableList<SupportDisclosure> SupportDisclosures { get; init; } = ImmutableList<SupportDisclosure>.Empty;

        /// <summary>Everything ever captured (folded from <see cref="CertificateRedeemed"/>).</summary>
        public long CapturedMinor { get; init; }

        /// <summary>Everything ever refunded (folded from <see cref="CertificateRefunded"/>).</summary>
        public long RefundedMinor { get; init; }

        /// <summary>The ledger balance: nominal - captured + refunded, both totals folded from the events.</summary>
        public override long BalanceMinor => Identity.NominalMinor - CapturedMinor + RefundedMinor;

        public override long HeldMinor => Holds.IsEmpty ? 0 : Holds.Values.Sum(h => h.AmountMinor); // enumerating an immutable sorted dictionary allocates, even an empty one

        /// <summary>What a new authorization or direct capture may take.</summary>
        public long AvailableMinor => BalanceMinor - HeldMinor;

        public override CertificateStatus Status => BalanceMinor switch
        {
            0 => CertificateStatus.Exhausted,
            var b when b < Identity.NominalMinor => CertificateStatus.PartiallyRedeemed,
            _ => CertificateStatus.Active,
        };
    }

    /// <summary>The purchase was returned while the certificate was unused: its whole balance was taken off; it holds no value and never will.</summary>
    public sealed record Cancelled : Certificate
    {
        public required string Reason { get; init; }

        /// <summary>The balance the cancellation took off (the nominal: only an unused certificate can be returned).</summary>
        public required long CancelledMinor { get; init; }

        public override long BalanceMinor => 0;
        public override long HeldMinor => 0;
        public override CertificateStatus Status => CertificateStatus.Cancelled;
    }
}
