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

    public static IReadOnlyList<CertificateEvent> Decide(CertificateCommand command, Certificate? state)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (state is not null && state.Seen.Contains(command.CausationId))
        {
            return Nothing; // the same input delivered again
        }

        return command switch
        {
            IssueCertificate c => Issue(c, state),
            AuthorizePayment c => WithActive(c, state, a => Authorize(c, a)),
            CapturePayment c => WithActive(c, state, a => Capture(c, a)),
            VoidAuthorization c => WithActive(c, state, a => Void(c, a)),
            RefundPayment c => WithActive(c, state, a => Refund(c, a)),
            CancelCertificate c => Cancel(c, state),
            LockCertificate c => WithActive(c, state, a => Lock(c, a)),
            UnlockCertificate c => WithActive(c, state, a => Unlock(c, a)),
            RevealCvc c => WithActive(c, state, a => Reveal(c, a)),
            RecordNotificationResult c => WithActive(c, state, a => NotificationResult(c, a)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown certificate command."),
        };
    }

    private static IReadOnlyList<CertificateEvent> Issue(IssueCertificate c, Certificate? state)
    {
        switch (state)
        {
            case Certificate.Active a when a.OrderId == c.OrderId:
                return Nothing; // this order already issued it: a re-sent order event
            case not null:
                return Reject(c, RejectionReason.AlreadyExists, $"certificate is {Describe(state)} (order {OrderOf(state)})",
                    alert: (AlertKind.ReconciliationMismatch, AlertSeverity.Critical, $"order {c.OrderId} tried to issue certificate {c.CertificateId}, already {Describe(state)} by order {OrderOf(state)}"));
        }

        if (c.Identity.CertificateId != c.CertificateId || c.Identity.NominalMinor <= 0)
        {
            return Reject(c, RejectionReason.InvalidAmount, $"issue of {c.CertificateId} carries identity {c.Identity}");
        }

        var notificationId = DeterministicId.Derive("notification", c.CertificateId, c.CausationId);
        return
        [
            new CertificateIssued(c.CertificateId, c.CausationId, c.At, c.Identity, c.OrderId, c.ClientId, c.Identity.NominalMinor, c.CvcKeyVersion),
            new NotificationRequested(c.CertificateId, c.CausationId, c.At, notificationId, c.ClientId, c.Contact),
        ];
    }

    private static string OrderOf(Certificate state) => state switch
    {
        Certificate.Active a => a.OrderId,
        Certificate.Cancelled x => x.OrderId,
        _ => "unknown",
    };

    private static IReadOnlyList<CertificateEvent> Authorize(AuthorizePayment c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentKey(c.Operation, c.PaymentId)))
        {
            return Nothing;
        }

        if (CheckDebit(c, a, c.AmountMinor, c.Channel, c.Currency, c.PaymentId) is { } refused)
        {
            return refused;
        }

        if (c.AmountMinor > a.AvailableMinor)
        {
            return InsufficientFunds(c, a, c.AmountMinor, c.PaymentId);
        }

        return [new PaymentAuthorized(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.AmountMinor, a.HeldMinor + c.AmountMinor, a.AvailableMinor - c.AmountMinor)];
    }

    private static IReadOnlyList<CertificateEvent> Capture(CapturePayment c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentKey(c.Operation, c.PaymentId)))
        {
            return Nothing;
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
        else if (!a.Holds.TryGetValue(c.AuthorizationId, out var held))
        {
            return Reject(c, RejectionReason.UnknownAuthorization, $"no open authorization {c.AuthorizationId}", c.AmountMinor, c.PaymentId);
        }
        else if (c.AmountMinor > held)
        {
            return Reject(c, RejectionReason.ExceedsHold, $"capture of {c.AmountMinor} exceeds the {held} held by {c.AuthorizationId}", c.AmountMinor, c.PaymentId);
        }
        else
        {
            heldAfter -= c.AmountMinor;
        }

        return [new CertificateRedeemed(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.AuthorizationId, c.AmountMinor, a.BalanceMinor - c.AmountMinor, heldAfter)];
    }

    private static IReadOnlyList<CertificateEvent> Void(VoidAuthorization c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentKey(c.Operation, c.PaymentId)))
        {
            return Nothing;
        }

        if (CheckChannelAndCurrency(c, a, c.Channel, a.Identity.Currency, null, c.PaymentId) is { } refused)
        {
            return refused;
        }

        if (!a.Holds.TryGetValue(c.AuthorizationId, out var held))
        {
            return Reject(c, RejectionReason.UnknownAuthorization, $"no open authorization {c.AuthorizationId}", paymentId: c.PaymentId);
        }

        return [new HoldReleased(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.AuthorizationId, held, a.HeldMinor - held)];
    }

    private static IReadOnlyList<CertificateEvent> Refund(RefundPayment c, Certificate.Active a)
    {
        if (a.AppliedPayments.Contains(PaymentKey(c.Operation, c.PaymentId)))
        {
            return Nothing;
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

        return [new CertificateRefunded(c.CertificateId, c.CausationId, c.At, c.PaymentId, c.CapturePaymentId, c.AmountMinor, a.BalanceMinor + c.AmountMinor)];
    }

    private static IReadOnlyList<CertificateEvent> Cancel(CancelCertificate c, Certificate? state) => state switch
    {
        null => Reject(c, RejectionReason.NotFound, "unknown certificate"),
        Certificate.Cancelled => Nothing, // returned already
        Certificate.Active a when a.OrderId != c.OrderId => Reject(c, RejectionReason.OrderMismatch, $"certificate was sold by order {a.OrderId}"),
        Certificate.Active a when a.Captures.Count > 0 || a.Holds.Count > 0 =>
            Reject(c, RejectionReason.InvalidStatus, "certificate has been used and cannot be returned"),
        _ => [new CertificateCancelled(c.CertificateId, c.CausationId, c.At, c.OrderId, c.Reason)],
    };

    private static IReadOnlyList<CertificateEvent> Lock(LockCertificate c, Certificate.Active a) =>
        a.Locked
            ? Reject(c, RejectionReason.Locked, $"certificate is already locked ({a.LockReason})")
            : [new CertificateLocked(c.CertificateId, c.CausationId, c.At, c.Reason, c.RequestedBy)];

    private static IReadOnlyList<CertificateEvent> Unlock(UnlockCertificate c, Certificate.Active a) =>
        a.Locked
            ? [new CertificateUnlocked(c.CertificateId, c.CausationId, c.At, c.Reason, c.RequestedBy)]
            : Reject(c, RejectionReason.InvalidStatus, "certificate is not locked");

    private static IReadOnlyList<CertificateEvent> Reveal(RevealCvc c, Certificate.Active a)
    {
        if (a.Locked)
        {
            return Reject(c, RejectionReason.Locked, $"certificate is locked ({a.LockReason})",
                alert: (AlertKind.LockedCertificateUse, AlertSeverity.Warning, $"{c.RequestedBy} asked for the CVC of locked certificate {c.CertificateId}"));
        }

        string? ticket = null;
        switch (c.Kind)
        {
            case DisclosureKind.Notification when c.NotificationId is null || !a.PendingCvcGrants.Contains(c.NotificationId):
                return Reject(c, RejectionReason.CvcDisclosureNotAllowed, $"no open notification request {c.NotificationId ?? "(none given)"} allows a disclosure");
            case DisclosureKind.Support when string.IsNullOrWhiteSpace(c.Reason):
                return Reject(c, RejectionReason.CvcDisclosureNotAllowed, "a support disclosure needs a reason naming the support ticket");
            case DisclosureKind.Support:
                ticket = c.Reason!.Trim();
                if (a.SupportDisclosures.Contains(ticket))
                {
                    return Reject(c, RejectionReason.CvcDisclosureNotAllowed, $"the CVC was already disclosed for support ticket '{ticket}'");
                }

                break;
            case DisclosureKind.Notification:
                break;
            default:
                return Reject(c, RejectionReason.CvcDisclosureNotAllowed, $"unknown disclosure kind {c.Kind}");
        }

        return [new CvcDisclosed(c.CertificateId, c.CausationId, c.At, c.RequestId, c.Kind, c.Kind == DisclosureKind.Notification ? c.NotificationId : null, ticket, a.CvcKeyVersion, c.RequestedBy, a.CvcDisclosures + 1)];
    }

    private static IReadOnlyList<CertificateEvent> NotificationResult(RecordNotificationResult c, Certificate.Active a) => c.Outcome switch
    {
        NotificationOutcome.Sent => [new NotificationSent(c.CertificateId, c.CausationId, c.At, c.NotificationId, c.Contact, c.Attempt)],
        _ => [new NotificationFailed(c.CertificateId, c.CausationId, c.At, c.NotificationId, c.Contact, c.Attempt, c.Reason ?? "unspecified", c.WillRetry)],
    };

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

    internal static string PaymentKey(string operation, string paymentId) => string.Create(CultureInfo.InvariantCulture, $"{operation}:{paymentId}");

    /// <summary>Folds one event into the state. Total: every event of <see cref="Decide"/> is accepted for any state it was decided on.</summary>
    public static Certificate? Evolve(Certificate? state, CertificateEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var next = @event switch
        {
            CertificateIssued e => new Certificate.Active
            {
                Identity = e.Identity,
                Sequence = state?.Sequence ?? 0,
                Seen = state?.Seen ?? RecentIds.Empty,
                OrderId = e.OrderId,
                ClientId = e.ClientId,
                IssuedAt = e.At,
                CvcKeyVersion = e.CvcKeyVersion,
            },
            NotificationRequested e => Active(state) with
            {
                PendingCvcGrants = Active(state).PendingCvcGrants.Add(e.NotificationId),
                CvcDisclosuresAllowed = Active(state).CvcDisclosuresAllowed + 1,
            },
            PaymentAuthorized e => Active(state) with
            {
                Holds = Active(state).Holds.SetItem(e.PaymentId, e.AmountMinor),
                AppliedPayments = Active(state).AppliedPayments.Add(PaymentKey("authorize", e.PaymentId)),
            },
            CertificateRedeemed e => Redeem(Active(state), e),
            HoldReleased e => Active(state) with
            {
                Holds = Active(state).Holds.Remove(e.AuthorizationId),
                AppliedPayments = Active(state).AppliedPayments.Add(PaymentKey("void", e.PaymentId)),
            },
            CertificateRefunded e => Refund(Active(state), e),
            CertificateCancelled e => new Certificate.Cancelled { Identity = Required(state).Identity, Sequence = state!.Sequence, Seen = state.Seen, OrderId = e.OrderId, Reason = e.Reason },
            CertificateLocked e => Active(state) with { Locked = true, LockReason = e.Reason },
            CertificateUnlocked => Active(state) with { Locked = false, LockReason = null },
            CvcDisclosed e => Disclose(Active(state), e),
            NotificationSent or NotificationFailed => Active(state),
            CertificateOperationRejected or CertificateAlert => state,
            _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown certificate event."),
        };

        return next is null ? null : next with { Sequence = next.Sequence + 1, Seen = next.Seen.Add(@event.CausationId) };
    }

    /// <summary>Folds a whole history, as a replay does.</summary>
    public static Certificate? Fold(IEnumerable<CertificateEvent> events, Certificate? initial = null) => events.Aggregate(initial, Evolve);

    private static Certificate.Active Redeem(Certificate.Active a, CertificateRedeemed e)
    {
        var holds = e.AuthorizationId is null ? a.Holds : a.Holds.SetItem(e.AuthorizationId, a.Holds[e.AuthorizationId] - e.AmountMinor);
        return a with
        {
            Holds = e.AuthorizationId is not null && holds[e.AuthorizationId] == 0 ? holds.Remove(e.AuthorizationId) : holds,
            Captures = a.Captures.SetItem(e.PaymentId, new Capture(e.AmountMinor, 0)),
            AppliedPayments = a.AppliedPayments.Add(PaymentKey("capture", e.PaymentId)),
        };
    }

    private static Certificate.Active Refund(Certificate.Active a, CertificateRefunded e)
    {
        var capture = a.Captures[e.CapturePaymentId];
        return a with
        {
            Captures = a.Captures.SetItem(e.CapturePaymentId, capture with { RefundedMinor = capture.RefundedMinor + e.AmountMinor }),
            AppliedPayments = a.AppliedPayments.Add(PaymentKey("refund", e.PaymentId)),
        };
    }

    private static Certificate.Active Disclose(Certificate.Active a, CvcDisclosed e) => a with
    {
        CvcDisclosures = e.DisclosuresSoFar,
        PendingCvcGrants = e.NotificationId is null ? a.PendingCvcGrants : a.PendingCvcGrants.Remove(e.NotificationId),
        SupportDisclosures = e.SupportTicket is null ? a.SupportDisclosures : a.SupportDisclosures.Add(e.SupportTicket),
        CvcDisclosuresAllowed = e.SupportTicket is null ? a.CvcDisclosuresAllowed : a.CvcDisclosuresAllowed + 1,
    };

    private static Certificate Required(Certificate? state) =>
        state ?? throw new InvalidOperationException("event applies to a certificate that has no state");

    private static Certificate.Active Active(Certificate? state) =>
        state as Certificate.Active ?? throw new InvalidOperationException($"event applies to an issued certificate, state is {Describe(state)}");
}
