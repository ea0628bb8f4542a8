using System.Collections.Immutable;
using System.Globalization;

namespace GcpStreams.Domain.Certificates;

/// <summary>
/// The certificate ledger's rules as two pure functions: <see cref="Decide"/> turns a command and the current state
/// into events (refusals are events too), <see cref="Evolve"/> folds an event into the state.
/// One certificate is decided by one single-threaded owner (its partition), so these never race.
/// </summary>
public static class CertificateDecider
{
    private static readonly IReadOnlyList<CertificateEvent> Nothing = [];

    public static IReadOnlyList<CertificateEvent> Decide(CertificateCommand command, Certificate? state, CertificateSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        settings ??= CertificateSettings.Default;
        if (state is not null && state.Seen.Contains(command.CausationId))
        {
            return command is Certificates.ExpireHold or CheckNotificationOverdue ? Nothing : Duplicate(command, $"input {command.CausationId} was delivered again");
        }

        return command switch
        {
            IssueCertificate c => Issue(c, state),
            AuthorizePayment c => WithActive(c, state, a => Authorize(c, a, settings)),
            CapturePayment c => WithActive(c, state, a => Capture(c, a)),
            VoidAuthorization c => WithActive(c, state, a => Void(c, a)),
            ExpireHold c => state is Certificate.Active a ? ExpireHold(c, a) : Nothing, // a timer: nothing to refuse to anyone
            RefundPayment c => WithActive(c, state, a => Refund(c, a)),
            CancelCertificate c => Cancel(c, state),
            LockCertificate c => WithActive(c, state, a => Lock(c, a)),
            UnlockCertificate c => WithActive(c, state, a => Unlock(c, a)),
            RevealCvc c => WithActive(c, state, a => Reveal(c, a, settings)),
            RecordNotificationResult c => WithActive(c, state, a => NotificationResult(c, a)),
            RequestNotification c => WithActive(c, state, a => RequestAgain(c, a)),
            CheckNotificationOverdue c => state is Certificate.Active a ? Overdue(c, a, settings) : Nothing, // a timer: nothing to refuse to anyone
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown certificate command."),
        };
    }

    private static IReadOnlyList<CertificateEvent> Issue(IssueCertificate c, Certificate? state)
    {
        switch (state)
        {
            case Certificate.Active a when a.OrderId == c.OrderId:
                return Duplicate(c, $"order {c.OrderId} issued this certificate already"); // a re-sent order event
            case not null:
                return Reject(c, RejectionReason.AlreadyExists, $"certificate is {Describe(state)} (order {state.OrderId})",
                    alert: (AlertKind.ReconciliationMismatch, AlertSeverity.Critical, $"order {c.OrderId} tried to issue certificate {c.CertificateId}, already {Describe(state)} by order {state.OrderId}"));
        }

        if (c.Identity.CertificateId != c.CertificateId || c.Identity.NominalMinor <= 0)
        {
            return Reject(c, RejectionReason.InvalidAmount, $"issue of {c.CertificateId} carries identity {c.Identity}");
        }

        var notificationId = DeterministicId.Derive("notification", c.CertificateId, c.CausationId);
        return
        [
            new CertificateIssued(c.CertificateId, c.CausationId, c.At, c.Identity, c.OrderId, c.ClientId, c.Identity.NominalMinor, c.CvcKeyVersion, c.SequenceBefore),
            new NotificationRequested(c.CertificateId, c.CausationId, c.At, notificationId, c.ClientId, c.Contact, c.Identity.NominalMinor),
        ];
    }

    private static IReadOnlyList<CertificateEvent> Authorize(AuthorizePayment c, Certificate.Active a, CertificateSettings settings)
    {
        if (a.AppliedPayments.Contains(PaymentOperations.Key(c.Operation, c.PaymentId)))
        {
            return Duplicate(c, $"payment {c.PaymentId} was applied already");
        }

        if (CheckDebit(c, a, c.AmountMinor, c.Channel, c.Currency, c.PaymentId) is { } refused)
        {
            return refused;
        }

        if (c.AmountMinor > a.AvailableMinor)
        {
            return InsufficientFunds(c, a, c.AmountMinor, c.PaymentId);
        }

        return [new PaymentAuthorized(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.AmountMinor, a.BalanceMinor, a.HeldMinor + c.AmountMinor, a.AvailableMinor - c.AmountMinor, c.At + settings.HoldExpiry)];
    }

    private static IReadOnlyList<CertificateEvent> Capture(CapturePayment c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentOperations.Key(c.Operation, c.PaymentId)))
        {
            return Duplicate(c, $"payment {c.PaymentId} was applied already");
        }

        if (CheckDebit(c, a, c.AmountMinor, c.Channel, c.Currency, c.PaymentId) is { } refused)
        {
            return refused;
        }

        long heldAfter = a.HeldMinor;
        if (c.AuthorizationId is null)
        {
            if (c.AmountMinor > a.AvailableMinor)
            {
                return InsufficientFunds(c, a, c.AmountMinor, c.PaymentId);
            }
        }
        else if (!a.Holds.TryGetValue(c.AuthorizationId, out var hold))
        {
            return Reject(c, RejectionReason.UnknownAuthorization, $"no open authorization {c.AuthorizationId}", c.AmountMinor, c.PaymentId);
        }
        else if (c.At > hold.ExpiresAt)
        {
            return Reject(c, RejectionReason.UnknownAuthorization, $"authorization {c.AuthorizationId} expired at {hold.ExpiresAt:O}", c.AmountMinor, c.PaymentId);
        }
        else if (c.AmountMinor > hold.AmountMinor)
        {
            return Reject(c, RejectionReason.ExceedsHold, $"capture of {c.AmountMinor} exceeds the {hold.AmountMinor} held by {c.AuthorizationId}", c.AmountMinor, c.PaymentId);
        }
        else
        {
            heldAfter -= c.AmountMinor;
        }

        return [new CertificateRedeemed(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.AuthorizationId, c.AmountMinor, a.BalanceMinor - c.AmountMinor, heldAfter)];
    }

    private static IReadOnlyList<CertificateEvent> Void(VoidAuthorization c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentOperations.Key(c.Operation, c.PaymentId)))
        {
            return Duplicate(c, $"payment {c.PaymentId} was applied already");
        }

        if (CheckChannelAndCurrency(c, a, c.Channel, a.Identity.Currency, null, c.PaymentId) is { } refused)
        {
            return refused;
        }

        if (!a.Holds.TryGetValue(c.AuthorizationId, out var hold))
        {
            return Reject(c, RejectionReason.UnknownAuthorization, $"no open authorization {c.AuthorizationId}", paymentId: c.PaymentId);
        }

        return [new HoldReleased(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.AuthorizationId, hold.AmountMinor, a.BalanceMinor, a.HeldMinor - hold.AmountMinor)];
    }

    private static IReadOnlyList<CertificateEvent> ExpireHold(ExpireHold c, Certificate.Active a) =>
        a.Holds.TryGetValue(c.AuthorizationId, out var hold) && c.At >= hold.ExpiresAt
            ? [new HoldReleased(c.CertificateId, c.CausationId, c.At, null, c.AuthorizationId, hold.AmountMinor, a.BalanceMinor, a.HeldMinor - hold.AmountMinor, Expired: true)]
            : Nothing; // captured, voided, or not due yet: the timer has nothing to do

    private static IReadOnlyList<CertificateEvent> Refund(RefundPayment c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentOperations.Key(c.Operation, c.PaymentId)))
        {
            return Duplicate(c, $"payment {c.PaymentId} was applied already");
        }

        if (c.AmountMinor <= 0)
        {
            return Reject(c, RejectionReason.InvalidAmount, $"amount must be positive, was {c.AmountMinor}", c.AmountMinor, c.PaymentId);
        }

        if (CheckChannelAndCurrency(c, a, c.Channel, c.Currency, c.AmountMinor, c.PaymentId) is { } refused)
        {
            return refused;
        }

        if (c.CapturePaymentId is null || !a.Captures.TryGetValue(c.CapturePaymentId, out var capture))
        {
            return Reject(c, RejectionReason.UnknownCapture, $"refund must name a capture of this certificate, got {c.CapturePaymentId ?? "none"}", c.AmountMinor, c.PaymentId);
        }

        if (c.AmountMinor > capture.RefundableMinor)
        {
            return Reject(c, RejectionReason.ExceedsCaptured, $"refund of {c.AmountMinor} exceeds the {capture.RefundableMinor} still refundable on capture {c.CapturePaymentId}", c.AmountMinor, c.PaymentId);
        }

        return [new CertificateRefunded(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.CapturePaymentId, c.AmountMinor, a.BalanceMinor + c.AmountMinor, a.HeldMinor)];
    }

    private static IReadOnlyList<CertificateEvent> Cancel(CancelCertificate c, Certificate? state) => state switch
    {
        null => Reject(c, RejectionReason.NotFound, "unknown certificate"),
        Certificate.Cancelled x when x.OrderId == c.OrderId => Duplicate(c, $"the return of order {c.OrderId} was applied already"),
        Certificate.Cancelled => Reject(c, RejectionReason.OrderMismatch, $"certificate was sold by order {state.OrderId}"),
        Certificate.Active a when a.OrderId != c.OrderId => Reject(c, RejectionReason.OrderMismatch, $"certificate was sold by order {a.OrderId}"),
        Certificate.Active a when a.CapturedMinor > 0 || a.Holds.Count > 0 =>
            Reject(c, RejectionReason.InvalidStatus, "certificate has been used and cannot be returned"),
        _ => [new CertificateCancelled(c.CertificateId, c.CausationId, c.At, c.OrderId, c.Reason, state.BalanceMinor, 0, 0)],
    };

    private static IReadOnlyList<CertificateEvent> Lock(LockCertificate c, Certificate.Active a) =>
        a.Locked
            ? Reject(c, RejectionReason.Locked, $"certificate is already locked ({a.LockReason})")
            : [new CertificateLocked(c.CertificateId, c.CausationId, c.At, c.Reason, c.RequestedBy)];

    private static IReadOnlyList<CertificateEvent> Unlock(UnlockCertificate c, Certificate.Active a) =>
        a.Locked
            ? [new CertificateUnlocked(c.CertificateId, c.CausationId, c.At, c.Reason, c.RequestedBy)]
            : Reject(c, RejectionReason.InvalidStatus, "certificate is not locked");

    private static IReadOnlyList<CertificateEvent> Reveal(RevealCvc c, Certificate.Active a, CertificateSettings settings)
    {
        if (a.Locked)
        {
            return Reject(c, RejectionReason.Locked, $"certificate is locked ({a.LockReason})",
                alert: (AlertKind.LockedCertificateUse, AlertSeverity.Warning, $"{c.RequestedBy} asked for the CVC of locked certificate {c.CertificateId}"));
        }

        switch (c.Kind)
        {
            case DisclosureKind.Notification when a.Pending(c.NotificationId) is null:
                return Reject(c, RejectionReason.CvcDisclosureNotAllowed,
                    $"no open notification request {c.NotificationId ?? "(none given)"} allows a disclosure (its result is recorded, or it was never requested)");
            case DisclosureKind.Notification:
                return [new CvcDisclosed(c.CertificateId, c.CausationId, c.At, c.RequestId, c.Kind, c.NotificationId, null, null, a.CvcKeyVersion, c.RequestedBy, a.CvcDisclosures + 1)];
            case DisclosureKind.Support:
                return DiscloseToSupport(c, a, settings);
            default:
                return Reject(c, RejectionReason.CvcDisclosureNotAllowed, $"unknown disclosure kind {c.Kind}");
        }
    }

    /// <summary>A support disclosure needs a ticket and a reason, once per ticket, and at most the daily cap within any 24 hours.</summary>
    private static IReadOnlyList<CertificateEvent> DiscloseToSupport(RevealCvc c, Certificate.Active a, CertificateSettings settings)
    {
        if (string.IsNullOrWhiteSpace(c.SupportTicket) || string.IsNullOrWhiteSpace(c.Reason))
        {
            return Reject(c, RejectionReason.CvcDisclosureNotAllowed, "a support disclosure needs a support ticket and a reason");
        }

        var ticket = c.SupportTicket.Trim();
        if (a.SupportDisclosures.Any(d => d.TicketDigest == SupportDisclosure.Digest(ticket)))
        {
            return Reject(c, RejectionReason.CvcDisclosureNotAllowed, $"the CVC was already disclosed for support ticket '{ticket}'");
        }

        var lastDay = a.SupportDisclosures.Count(d => d.At > c.At - TimeSpan.FromDays(1));
        if (lastDay >= settings.SupportDisclosuresPerDay)
        {
            return Reject(c, RejectionReason.CvcDisclosureNotAllowed,
                $"the CVC of this certificate was disclosed to support {lastDay} times in the last 24 hours, the most allowed",
                alert: (AlertKind.CvcDisclosureLimit, AlertSeverity.Warning, $"{c.RequestedBy}{(c.Agent is null ? string.Empty : $" (agent {c.Agent})")} asked for the CVC of certificate {c.CertificateId} beyond its {settings.SupportDisclosuresPerDay} support disclosures a day (ticket {ticket})"));
        }

        return [new CvcDisclosed(c.CertificateId, c.CausationId, c.At, c.RequestId, c.Kind, null, ticket, c.Reason.Trim(), a.CvcKeyVersion, c.RequestedBy, a.CvcDisclosures + 1, c.Agent)];
    }

    /// <summary>Support asks for the notification again: a new request (new id) with the caller and the reason; not while locked.</summary>
    private static IReadOnlyList<CertificateEvent> RequestAgain(RequestNotification c, Certificate.Active a)
    {
        if (a.Locked)
        {
            return Reject(c, RejectionReason.Locked, $"certificate is locked ({a.LockReason}): unlock it before sending its CVC again");
        }

        if (string.IsNullOrWhiteSpace(c.Reason))
        {
            return Reject(c, RejectionReason.InvalidStatus, "a notification requested again needs a reason");
        }

        var notificationId = DeterministicId.Derive("notification", c.CertificateId, c.CausationId);
        return [new NotificationRequested(c.CertificateId, c.CausationId, c.At, notificationId, a.ClientId, c.Contact, a.Identity.NominalMinor, c.RequestedBy, c.Reason.Trim())];
    }

    /// <summary>The SLA timer of a notification: still pending and not reported yet, it is overdue (once).</summary>
    private static IReadOnlyList<CertificateEvent> Overdue(CheckNotificationOverdue c, Certificate.Active a, CertificateSettings settings) =>
        a.Pending(c.NotificationId) is { Overdue: false } pending
            ? [new NotificationOverdue(c.CertificateId, c.CausationId, c.At, pending.NotificationId, pending.RequestedAt, settings.NotificationOverdueAfter, a.ClientId)]
            : Nothing; // sent, finally failed, dropped or reported already

    private static IReadOnlyList<CertificateEvent> NotificationResult(RecordNotificationResult c, Certificate.Active a) => c.Outcome switch
    {
        NotificationOutcome.Sent => [new NotificationSent(c.CertificateId, c.CausationId, c.At, c.NotificationId, c.Contact, c.Attempt)],
        _ => [new NotificationFailed(c.CertificateId, c.CausationId, c.At, c.NotificationId, c.Contact, c.Attempt, c.Reason ?? "unspecified", c.WillRetry)],
    };

    /// <summary>
    /// An input that was applied already (the same event delivered again, or the same payment operation re-sent under another
    /// event id): nothing changes; an Info alert says it was ignored, so BI and the sender can count what they re-sent.
    /// </summary>
    private static IReadOnlyList<CertificateEvent> Duplicate(CertificateCommand c, string message) =>
        [new CertificateAlert(c.CertificateId, c.CausationId, c.At, AlertKind.DuplicateEvent, AlertSeverity.Info, $"{c.Operation} ignored: {message}")];

    /// <summary>Whether an event is the alert of an ignored duplicate input (it repeats its input's causation id).</summary>
    public static bool IsDuplicate(CertificateEvent e) => e is CertificateAlert { Kind: AlertKind.DuplicateEvent };

    /// <summary>Runs a rule that needs an issued certificate; anything else is refused with the reason.</summary>
    private static IReadOnlyList<CertificateEvent> WithActive(CertificateCommand c, Certificate? state, Func<Certificate.Active, IReadOnlyList<CertificateEvent>> rule) => state switch
    {
        Certificate.Active a => rule(a),
        null => Reject(c, RejectionReason.NotFound, "unknown certificate"),
        _ => Reject(c, RejectionReason.InvalidStatus, $"certificate is {Describe(state)}, not issued"),
    };

    /// <summary>The checks every debit passes: a positive amount, the certificate's own channel and currency, not locked.</summary>
    private static IReadOnlyList<CertificateEvent>? CheckDebit(CertificateCommand c, Certificate.Active a, long amount, Channel channel, string currency, string paymentId)
    {
        if (amount <= 0)
        {
            return Reject(c, RejectionReason.InvalidAmount, $"amount must be positive, was {amount}", amount, paymentId);
        }

        if (CheckChannelAndCurrency(c, a, channel, currency, amount, paymentId) is { } refused)
        {
            return refused;
        }

        return a.Locked
            ? Reject(c, RejectionReason.Locked, $"certificate is locked ({a.LockReason})", amount, paymentId,
                (AlertKind.LockedCertificateUse, AlertSeverity.Warning, $"{c.Operation} of {amount} attempted on locked certificate {c.CertificateId}"))
            : null;
    }

    /// <summary>A payment in another channel or currency than the certificate's is refused, naming the payment and its amount.</summary>
    private static IReadOnlyList<CertificateEvent>? CheckChannelAndCurrency(CertificateCommand c, Certificate state, Channel channel, string currency, long? amount, string paymentId)
    {
        if (channel != state.Identity.Channel)
        {
            return Reject(c, RejectionReason.ChannelMismatch, $"certificate belongs to channel {state.Identity.Channel}, not {channel}", amount, paymentId,
                (AlertKind.ChannelMismatch, AlertSeverity.Warning, $"{c.Operation} from channel {channel} on certificate {c.CertificateId} of channel {state.Identity.Channel}"));
        }

        return !string.Equals(currency, state.Identity.Currency, StringComparison.Ordinal)
            ? Reject(c, RejectionReason.CurrencyMismatch, $"certificate is in {state.Identity.Currency}, not {currency}", amount, paymentId,
                (AlertKind.CurrencyMismatch, AlertSeverity.Warning, $"{c.Operation} in {currency} on certificate {c.CertificateId} in {state.Identity.Currency}"))
            : null;
    }

    private static IReadOnlyList<CertificateEvent> InsufficientFunds(CertificateCommand c, Certificate.Active a, long amount, string paymentId) =>
        Reject(c, RejectionReason.InsufficientFunds, $"{c.Operation} of {amount} exceeds the available {a.AvailableMinor}", amount, paymentId,
            (AlertKind.InsufficientFunds, AlertSeverity.Info, $"{c.Operation} of {amount} on certificate {c.CertificateId} with {a.AvailableMinor} available"));

    private static IReadOnlyList<CertificateEvent> Reject(
        CertificateCommand c, RejectionReason reason, string message, long? amount = null, string? paymentId = null,
        (AlertKind Kind, AlertSeverity Severity, string Message)? alert = null)
    {
        var rejected = new CertificateOperationRejected(c.CertificateId, c.CausationId, c.At, c.Operation, reason, message, amount, paymentId);
        return alert is { } a
            ? [rejected, new CertificateAlert(c.CertificateId, c.CausationId, c.At, a.Kind, a.Severity, a.Message)]
            : [rejected];
    }

    private static string Describe(Certificate? state) => state switch
    {
        null => "unknown",
        Certificate.Active { Locked: true } a => $"{a.Status} and locked".ToLowerInvariant(),
        _ => state.Status.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// The payments whose history (<see cref="Certificate.Active.AppliedPayments"/> under their id, and their
    /// <see cref="Certificate.Active.Captures"/> entry) a decision on <paramref name="command"/> reads or changes: its own payment
    /// (applied already?) and, for a refund, the capture it names. The ledger's owner loads the history of these (and only these)
    /// before deciding, and every history entry the decision's events change is one of theirs.
    /// </summary>
    public static IReadOnlyList<string> HistoryNeededBy(CertificateCommand command) => command switch
    {
        AuthorizePayment c => [c.PaymentId],
        CapturePayment c => [c.PaymentId],
        VoidAuthorization c => [c.PaymentId],
        RefundPayment { CapturePaymentId: { } capture } c when capture != c.PaymentId => [c.PaymentId, capture],
        RefundPayment c => [c.PaymentId],
        _ => [],
    };

    /// <summary>Folds one event into the state. Total: every event of <see cref="Decide"/> is accepted for any state it was decided on.</summary>
    public static Certificate? Evolve(Certificate? state, CertificateEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var next = @event switch
        {
            CertificateIssued e => new Certificate.Active
            {
                Identity = e.Identity,
                Sequence = state?.Sequence ?? e.SequenceBefore,
                Seen = state?.Seen ?? RecentIds.Empty,
                OrderId = e.OrderId,
                ClientId = e.ClientId,
                IssuedAt = e.At,
                CvcKeyVersion = e.CvcKeyVersion,
            },
            NotificationRequested e => Active(state) with
            {
                PendingNotifications = Open(Active(state).PendingNotifications, new PendingNotification(e.NotificationId, e.At)),
                CvcDisclosuresAllowed = Active(state).CvcDisclosuresAllowed + 1,
            },
            NotificationOverdue e => Active(state) with
            {
                PendingNotifications = Active(state).PendingNotifications.ConvertAll(p => p.NotificationId == e.NotificationId ? p with { Overdue = true } : p),
            },
            PaymentAuthorized e => Active(state) with
            {
                Holds = Active(state).Holds.SetItem(e.PaymentId, new Hold(e.AmountMinor, e.ExpiresAt)),
                AppliedPayments = Active(state).AppliedPayments.Add(PaymentOperations.Key(PaymentOperations.Authorize, e.PaymentId)),
            },
            CertificateRedeemed e => Redeem(Active(state), e),
            HoldReleased e => Active(state) with
            {
                Holds = Active(state).Holds.Remove(e.AuthorizationId),
                AppliedPayments = e.PaymentId is null ? Active(state).AppliedPayments : Active(state).AppliedPayments.Add(PaymentOperations.Key(PaymentOperations.Void, e.PaymentId)),
            },
            CertificateRefunded e => Refund(Active(state), e),
            CertificateCancelled e => Cancel(Required(state), e),
            CertificateLocked e => Active(state) with { Locked = true, LockReason = e.Reason },
            CertificateUnlocked => Active(state) with { Locked = false, LockReason = null },
            CvcDisclosed e => Disclose(Active(state), e),
            NotificationSent e => Close(Active(state), e.NotificationId),
            NotificationFailed e => e.WillRetry ? Active(state) : Close(Active(state), e.NotificationId),
            CertificateOperationRejected or CertificateAlert => state,
            _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown certificate event."),
        };

        return next is null ? null : next with { Sequence = ChangesState(@event) ? next.Sequence + 1 : next.Sequence, Seen = next.Seen.Add(@event.CausationId) };
    }

    /// <summary>
    /// Whether an event changes the certificate and so takes the next sequence number: every event but refusals and alerts,
    /// which carry the number of the state they were decided on. So a certificate's numbered events run 1, 2, 3… without a gap.
    /// </summary>
    public static bool ChangesState(CertificateEvent e) => e is not (CertificateOperationRejected or CertificateAlert);

    /// <summary>Folds a whole history, as a replay does.</summary>
    public static Certificate? Fold(IEnumerable<CertificateEvent> events, Certificate? initial = null) => events.Aggregate(initial, Evolve);

    private static Certificate.Active Redeem(Certificate.Active a, CertificateRedeemed e)
    {
        var holds = e.AuthorizationId is null ? a.Holds : a.Holds.SetItem(e.AuthorizationId, a.Holds[e.AuthorizationId] with { AmountMinor = a.Holds[e.AuthorizationId].AmountMinor - e.AmountMinor });
        return a with
        {
            Holds = e.AuthorizationId is not null && holds[e.AuthorizationId].AmountMinor == 0 ? holds.Remove(e.AuthorizationId) : holds,
            Captures = a.Captures.SetItem(e.PaymentId, new Capture(e.AmountMinor, 0)),
            CapturedMinor = a.CapturedMinor + e.AmountMinor,
            AppliedPayments = a.AppliedPayments.Add(PaymentOperations.Key(PaymentOperations.Capture, e.PaymentId)),
        };
    }

    private static Certificate.Active Refund(Certificate.Active a, CertificateRefunded e)
    {
        var capture = a.Captures[e.CapturePaymentId];
        return a with
        {
            Captures = a.Captures.SetItem(e.CapturePaymentId, capture with { RefundedMinor = capture.RefundedMinor + e.AmountMinor }),
            RefundedMinor = a.RefundedMinor + e.AmountMinor,
            AppliedPayments = a.AppliedPayments.Add(PaymentOperations.Key(PaymentOperations.Refund, e.PaymentId)),
        };
    }

    /// <summary>A new pending notification (a repeated id changes nothing); beyond <see cref="PendingNotification.MaxPending"/> the oldest is dropped.</summary>
    private static ImmutableList<PendingNotification> Open(ImmutableList<PendingNotification> pending, PendingNotification added)
    {
        if (pending.Exists(p => p.NotificationId == added.NotificationId))
        {
            return pending;
        }

        var kept = pending.Add(added);
        return kept.Count > PendingNotification.MaxPending ? kept.RemoveRange(0, kept.Count - PendingNotification.MaxPending) : kept;
    }

    /// <summary>The result of a notification is recorded: its CVC grant closes.</summary>
    private static Certificate.Active Close(Certificate.Active a, string notificationId) =>
        a with { PendingNotifications = a.PendingNotifications.RemoveAll(p => p.NotificationId == notificationId) };

    private static Certificate.Active Disclose(Certificate.Active a, CvcDisclosed e) => a with
    {
        CvcDisclosures = e.DisclosuresSoFar,
        SupportDisclosures = e.SupportTicket is null ? a.SupportDisclosures : Remember(a.SupportDisclosures, new SupportDisclosure(SupportDisclosure.Digest(e.SupportTicket), e.At)),
        CvcDisclosuresAllowed = e.SupportTicket is null ? a.CvcDisclosuresAllowed : a.CvcDisclosuresAllowed + 1,
    };

    /// <summary>Adds a support disclosure and forgets those older than <see cref="SupportDisclosure.Memory"/> or beyond <see cref="SupportDisclosure.MaxRemembered"/>.</summary>
    private static ImmutableList<SupportDisclosure> Remember(ImmutableList<SupportDisclosure> remembered, SupportDisclosure disclosure)
    {
        var kept = remembered.RemoveAll(d => d.At <= disclosure.At - SupportDisclosure.Memory).Add(disclosure);
        return kept.Count > SupportDisclosure.MaxRemembered ? kept.RemoveRange(0, kept.Count - SupportDisclosure.MaxRemembered) : kept;
    }

    /// <summary>A cancellation keeps everything known of the certificate (buyer, order, lock, CVC counters); only the status and amounts change.</summary>
    private static Certificate.Cancelled Cancel(Certificate state, CertificateCancelled e) => new()
    {
        Identity = state.Identity,
        Sequence = state.Sequence,
        Seen = state.Seen,
        OrderId = e.OrderId,
        ClientId = state.ClientId,
        IssuedAt = state.IssuedAt,
        CvcKeyVersion = state.CvcKeyVersion,
        Locked = state.Locked,
        LockReason = state.LockReason,
        CvcDisclosures = state.CvcDisclosures,
        CvcDisclosuresAllowed = state.CvcDisclosuresAllowed,
        Reason = e.Reason,
        CancelledMinor = e.AmountMinor,
    };

    private static Certificate Required(Certificate? state) =>
        state ?? throw new InvalidOperationException("event applies to a certificate that has no state");

    private static Certificate.Active Active(Certificate? state) =>
        state as Certificate.Active ?? throw new InvalidOperationException($"event applies to an issued certificate, state is {Describe(state)}");
}
