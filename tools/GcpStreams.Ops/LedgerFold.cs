using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops;

/// <summary>
/// One certificate's history on <c>GiftCertificates.Stream</c> folded with the domain's own <see cref="CertificateDecider.Evolve"/>:
/// its reservations (status and sequence only: the pool decides them) until its issue, then the ledger. Along the way every
/// numbered event must take the next sequence number, and every event that moves money must carry the balance and held
/// amount the fold reaches.
/// </summary>
internal sealed class LedgerFold(string certificateId)
{
    private readonly List<string> problems = [];

    public string CertificateId { get; } = certificateId;

    /// <summary>The folded ledger from the issue on; null before it.</summary>
    public Certificate? Certificate { get; private set; }

    /// <summary>The status before the issue (AVAILABLE or RESERVED), from the reservation events.</summary>
    public C.CertificateStatus? PoolStatus { get; private set; }

    /// <summary>The sequence the last numbered event carried (before the issue: the reservation events').</summary>
    public long Sequence { get; private set; }

    public int Events { get; private set; }

    /// <summary>What did not add up while folding (sequence gaps, balances after that differ), in order.</summary>
    public IReadOnlyList<string> Problems => problems;

    /// <summary>Folds the next event of this certificate.</summary>
    public void Apply(C.GiftCertificateEvent e, string where)
    {
        ArgumentNullException.ThrowIfNull(e);
        Events++;
        switch (e.payload)
        {
            case C.CertificateReserved:
                Numbered(e, where, Sequence + 1);
                PoolStatus = C.CertificateStatus.RESERVED;
                return;
            case C.CertificateReservationExpired or C.CertificateReservationReleased:
                Numbered(e, where, Sequence + 1);
                PoolStatus = C.CertificateStatus.AVAILABLE;
                return;
            case C.Alert or C.OperationRejected or C.IssueBlocked or C.PoolLoaded:
                return; // no change: refusals and alerts take no number
        }

        if (ToDomain(e, Sequence) is not { } domain)
        {
            problems.Add($"{where}: event type {e.eventType} ({e.payload?.GetType().Name ?? "no payload"}) is not a certificate event the fold knows");
            return;
        }

        if (Certificate is null && domain is not CertificateIssued)
        {
            problems.Add($"{where}: {e.eventType} before certificate.issued (the stream's log start may have moved past the issue)");
            return;
        }

        try
        {
            Certificate = CertificateDecider.Evolve(Certificate, domain);
        }
        catch (Exception x) when (x is KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            problems.Add($"{where}: {e.eventType} does not fold onto the state before it ({x.Message})");
            return;
        }

        Numbered(e, where, Certificate!.Sequence);
        if (Certificate.Sequence != e.sequence)
        {
            Certificate = Certificate with { Sequence = e.sequence }; // one gap is one difference: go on from the number the stream carries
        }

        AfterAmounts(e, where);
    }

    private void Numbered(C.GiftCertificateEvent e, string where, long expected)
    {
        if (e.sequence != expected)
        {
            problems.Add($"{where}: {e.eventType} carries sequence {e.sequence}, the fold expects {expected}");
        }

        Sequence = e.sequence;
    }

    private void AfterAmounts(C.GiftCertificateEvent e, string where)
    {
        (long Balance, long Held)? after = e.payload switch
        {
            C.CertificateIssued x => (x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateAuthorized x => (x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateRedeemed x => (x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateHoldReleased x => (x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateRefunded x => (x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateCancelled x => (x.balanceAfterMinor, x.heldAfterMinor),
            _ => null,
        };
        if (after is { } carried && (carried.Balance != Certificate!.BalanceMinor || carried.Held != Certificate.HeldMinor))
        {
            problems.Add($"{where}: {e.eventType} says balance {carried.Balance}, held {carried.Held}; the fold gives balance {Certificate.BalanceMinor}, held {Certificate.HeldMinor}");
        }
    }

    /// <summary>The domain event a stream record of a certificate's ledger carries; null for one that is not.</summary>
    /// <param name="e">The stream record's value.</param>
    /// <param name="sequenceBefore">The certificate's sequence before it (its reservations'), which its issue continues.</param>
    internal static CertificateEvent? ToDomain(C.GiftCertificateEvent e, long sequenceBefore)
    {
        var id = e.certificateId;
        var cause = e.causationId;
        var at = new DateTimeOffset(DateTime.SpecifyKind(e.occurredAt, DateTimeKind.Utc));
        return e.payload switch
        {
            C.CertificateIssued x => new CertificateIssued(id, cause, at,
                new CertificateIdentity(id, e.poolId ?? string.Empty, Enum<Channel>(e.channel.ToString()), x.nominalMinor, e.currency ?? string.Empty),
                x.orderId, x.clientId, x.balanceAfterMinor, CvcKeyVersion: 0, SequenceBefore: sequenceBefore),
            C.NotificationRequested x => new NotificationRequested(id, cause, at, x.notificationId, x.clientId, Enum<ContactChannel>(x.contactChannel.ToString()),
                x.nominalMinor ?? 0, x.requestedBy, x.reason),
            C.NotificationOverdue x => new NotificationOverdue(id, cause, at, x.notificationId, Utc(x.requestedAt), TimeSpan.FromSeconds(x.slaSeconds), x.clientId),
            C.CertificateAuthorized x => new PaymentAuthorized(id, cause, at, x.paymentId, x.amountMinor, x.balanceAfterMinor, x.heldAfterMinor, x.availableAfterMinor,
                x.expiresAt is { } expires ? Utc(expires) : DateTimeOffset.MaxValue),
            C.CertificateRedeemed x => new CertificateRedeemed(id, cause, at, x.paymentId, x.authorizationId, x.amountMinor, x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateHoldReleased x => new HoldReleased(id, cause, at, x.paymentId, x.authorizationId, x.amountMinor, x.balanceAfterMinor, x.heldAfterMinor, x.expired),
            C.CertificateRefunded x => new CertificateRefunded(id, cause, at, x.paymentId, x.capturePaymentId ?? x.paymentId, x.amountMinor, x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateCancelled x => new CertificateCancelled(id, cause, at, x.orderId, x.reason, x.amountMinor, x.balanceAfterMinor, x.heldAfterMinor),
            C.CertificateLocked x => new CertificateLocked(id, cause, at, x.reason, x.requestedBy),
            C.CertificateUnlocked x => new CertificateUnlocked(id, cause, at, x.reason, x.requestedBy),
            C.CvcDisclosed x => new CvcDisclosed(id, cause, at, x.requestId, Enum<DisclosureKind>(x.kind.ToString()), x.notificationId, x.supportTicket, x.reason, x.keyVersion,
                x.requestedBy, x.disclosuresSoFar, x.agent),
            C.NotificationSent x => new NotificationSent(id, cause, at, x.notificationId, Enum<ContactChannel>(x.contactChannel.ToString()), x.attempt),
            C.NotificationFailed x => new NotificationFailed(id, cause, at, x.notificationId, Enum<ContactChannel>(x.contactChannel.ToString()), x.attempt, x.reason, x.willRetry),
            _ => null,
        };
    }

    /// <summary>A contract enum symbol (<c>INTERNET_STORE</c>) as the domain's (<c>InternetStore</c>).</summary>
    internal static T Enum<T>(string symbol)
        where T : struct, System.Enum =>
        System.Enum.TryParse<T>(symbol.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var value) ? value : default;

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
