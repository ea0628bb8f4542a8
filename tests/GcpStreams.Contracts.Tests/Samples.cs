namespace GcpStreams.Contracts.Tests;

/// <summary>Fully populated instances of every contract type: every optional field set, every collection non-empty.</summary>
internal static class Samples
{
    public static readonly DateTime At = new(2026, 3, 1, 10, 15, 30, 123, DateTimeKind.Utc);
    public static readonly DateTime Later = At.AddMinutes(15);

    /// <summary>One payload per branch of GiftCertificateEvent.payload, with its eventType.</summary>
    public static IEnumerable<(string EventType, object Payload)> EventPayloads()
    {
        yield return ("pool.loaded", new PoolLoaded { count = 100, firstSlot = 1, lastSlot = 100, nominalMinor = 5_000, availableAfter = 100, lowWatermark = 10, series = 7 });
        yield return ("certificate.reserved", new CertificateReserved { requestId = "req-1", orderId = "order-1", nominalMinor = 5_000, reservedUntil = Later, availableAfter = 99 });
        yield return ("certificate.reservation_expired", new CertificateReservationExpired { reservedUntil = Later, availableAfter = 100, poolVersion = 7 });
        yield return ("certificate.reservation_released", new CertificateReservationReleased { orderId = "order-9", reason = "payment card-1 failed", availableAfter = 101, poolVersion = 8 });
        yield return ("certificate.issued", new CertificateIssued { orderId = "order-1", clientId = "client-1", nominalMinor = 5_000, balanceAfterMinor = 5_000 });
        yield return ("certificate.authorized", new CertificateAuthorized { paymentId = "pay-auth-1", amountMinor = 1_500, balanceAfterMinor = 5_000, heldAfterMinor = 1_500, availableAfterMinor = 3_500, expiresAt = Later });
        yield return ("certificate.redeemed", new CertificateRedeemed { paymentId = "pay-cap-1", authorizationId = "pay-auth-1", amountMinor = 1_200, balanceAfterMinor = 3_800, heldAfterMinor = 0 });
        yield return ("certificate.hold_released", new CertificateHoldReleased { paymentId = "pay-void-1", authorizationId = "pay-auth-2", amountMinor = 300, heldAfterMinor = 0 });
        yield return ("certificate.refunded", new CertificateRefunded { paymentId = "pay-ref-1", capturePaymentId = "pay-cap-1", amountMinor = 1_200, balanceAfterMinor = 5_000 });
        yield return ("certificate.cancelled", new CertificateCancelled { orderId = "order-1", reason = "order returned" });
        yield return ("certificate.locked", new CertificateLocked { reason = "suspected fraud", requestedBy = "support-ui" });
        yield return ("certificate.unlocked", new CertificateUnlocked { reason = "cleared", requestedBy = "support-ui" });
        yield return ("cvc.disclosed", new CvcDisclosed { requestId = "req-2", kind = DisclosureKind.SUPPORT, notificationId = "ntf-1", supportTicket = "TICKET-9", reason = "buyer lost the e-mail", keyVersion = 3, requestedBy = "support", disclosuresSoFar = 1, agent = "agent.ivanova" });
        yield return ("notification.requested", new NotificationRequested { notificationId = "ntf-1", clientId = "client-1", contactChannel = ContactChannel.EMAIL, nominalMinor = 5_000, requestedBy = "support", reason = "buyer lost the e-mail" });
        yield return ("notification.overdue", new NotificationOverdue { notificationId = "ntf-1", requestedAt = At, slaSeconds = 300, clientId = "client-1" });
        yield return ("notification.sent", new NotificationSent { notificationId = "ntf-1", contactChannel = ContactChannel.SMS, attempt = 2 });
        yield return ("notification.failed", new NotificationFailed { notificationId = "ntf-1", contactChannel = ContactChannel.EMAIL, attempt = 1, reason = "smtp timeout", willRetry = true });
        yield return ("issue.blocked", new IssueBlocked { requestId = "req-3", orderId = "order-2", nominalMinor = 10_000, reason = "pool empty" });
        yield return ("alert", new Alert
        {
            kind = AlertKind.POOL_LOW,
            severity = AlertSeverity.WARNING,
            message = "pool pos-5000-EUR below low-watermark",
            details = new Dictionary<string, string> { ["available"] = "9", ["lowWatermark"] = "10" },
        });
        yield return ("operation.rejected", new OperationRejected
        {
            operation = "CAPTURE",
            reason = RejectionReason.EXCEEDS_HOLD,
            message = "capture 2000 exceeds hold 1500",
            amountMinor = 2_000,
            paymentId = "pay-cap-2",
        });
    }

    /// <summary>One payload per branch of GiftCertificateCommand.payload.</summary>
    public static IEnumerable<object> CommandPayloads()
    {
        yield return new ReserveCertificate { poolId = "pos-5000-EUR", channel = Channel.POS, nominalMinor = 5_000, currency = "EUR", orderId = "order-1", holdSeconds = 900 };
        yield return new LoadPool { poolId = "web-2500-EUR", channel = Channel.INTERNET_STORE, nominalMinor = 2_500, currency = "EUR", count = 2, lowWatermark = 1, series = 12, importedNumbers = ["6001000000000017", "6001000000000025"] };
        yield return new LockCertificate { certificateId = "6001000000000017", reason = "suspected fraud" };
        yield return new UnlockCertificate { certificateId = "6001000000000017", reason = "cleared" };
        yield return new RevealCvc { certificateId = "6001000000000017", kind = DisclosureKind.SUPPORT, notificationId = "ntf-1", supportTicket = "TICKET-9", reason = "client called support", agent = "agent.ivanova" };
        yield return new RequestNotification { certificateId = "6001000000000017", reason = "buyer lost the e-mail" };
    }

    public static GiftCertificateEvent Event(string eventType, object payload) => new()
    {
        eventId = "evt-" + eventType,
        eventType = eventType,
        certificateId = "6001000000000017",
        poolId = "pos-5000-EUR",
        channel = Channel.POS,
        currency = "EUR",
        occurredAt = At,
        causationId = "pay-cap-1",
        correlationId = "corr-1",
        sequence = 7,
        payload = payload,
        storeId = "store-12",
    };

    public static GiftCertificateCommand Command(object payload) => new()
    {
        requestId = "req-1",
        replyTo = "api-0",
        idempotencyKey = "idem-1",
        caller = "pos-client",
        correlationId = "corr-1",
        issuedAt = At,
        payload = payload,
    };

    /// <summary>Every top-level contract except the two unions above, fully populated.</summary>
    public static IEnumerable<Avro.Specific.ISpecificRecord> OtherContracts()
    {
        yield return new SalesOrder
        {
            eventId = "so-evt-1",
            orderId = "order-1",
            transactionId = "tx-1",
            channel = Channel.INTERNET_STORE,
            storeId = "store-7",
            clientId = "client-1",
            status = OrderStatus.RETURNED,
            currency = "EUR",
            totalMinor = 7_500,
            certificateLines = [new CertificateOrderLine { lineId = "l1", certificateId = "6001000000000017", poolId = "web-5000-EUR", nominalMinor = 5_000, recipientClientId = "client-2" }],
            returnedLineIds = ["l1"],
            certificateTenders = [new CertificateTender { certificateId = "6001000000000025", amountMinor = 2_500, paymentId = "pay-cap-1" }],
            occurredAt = At,
            correlationId = "corr-1",
        };
        yield return new Payment
        {
            eventId = "pay-evt-1",
            paymentId = "pay-ref-1",
            orderId = "order-1",
            correlationId = "corr-1",
            operation = PaymentOperation.REFUND,
            method = PaymentMethod.GIFT_CERTIFICATE,
            certificateId = "6001000000000017",
            parentPaymentId = "pay-cap-1",
            amountMinor = 1_200,
            currency = "EUR",
            status = PaymentStatus.SUCCEEDED,
            channel = Channel.POS,
            storeId = "store-7",
            occurredAt = At,
        };
        yield return new DailyReport
        {
            day = "2026-11-27", channel = Channel.POS, timeZone = "Europe/Moscow", finalAt = Later, revision = 7,
            issuedCount = 2, issuedMinor = 10_000, redeemedCount = 1, redeemedMinor = 1_000, refundedCount = 1, refundedMinor = 300,
            voidedCount = 1, voidedMinor = 500, cancelledCount = 1, cancelledMinor = 5_000, lockedCount = 1, unlockedCount = 1,
            cvcDisclosuresCount = 2, notificationsSentCount = 2, notificationsFailedCount = 1, notificationsOverdueCount = 1,
            issueBlockedCount = 1, reservationsExpiredCount = 1, balanceChangeMinor = 4_300, liabilityMinor = 14_300,
            ordersCertificatesCount = 2, ordersCertificatesMinor = 10_000, ordersTendersCount = 1, ordersTendersMinor = 1_000,
            ordersReturnsCount = 1, ordersReturnsMinor = 5_000, paymentsCapturesCount = 1, paymentsCapturesMinor = 1_000,
            duplicateOrderRecordsCount = 1, duplicatePaymentRecordsCount = 1, reconciliationMismatches = ["issue"], mismatchDetectedAt = At,
            mismatchAlertsCount = 1, correctionsCount = 1,
            pools = [new DailyPoolFigures { poolId = "pos-5000-EUR", issuedCount = 2, issuedMinor = 10_000, redeemedCount = 1, redeemedMinor = 1_000, issueBlockedCount = 1, reservationsExpiredCount = 1 }],
            stores = [new DailyStoreFigures { storeId = "store-7", redeemedCount = 1, redeemedMinor = 1_000, refundedCount = 1, refundedMinor = 300, voidedCount = 1, voidedMinor = 500, ordersCertificatesCount = 2, ordersCertificatesMinor = 10_000 }],
            deadLetters = [new DailyDeadLetterCount { sourceTopic = "All_Payments", reason = "UNDECODABLE", count = 3 }],
            alerts = [new DailyAlertCount { kind = "INVALID_EVENT", count = 3 }],
            final = true,
            currencies =
            [
                new DailyCurrencyFigures
                {
                    currency = "RUB", issuedCount = 2, issuedMinor = 10_000_00, redeemedCount = 1, redeemedMinor = 2_500, refundedCount = 1, refundedMinor = 500,
                    voidedCount = 1, voidedMinor = 100, cancelledCount = 1, cancelledMinor = 5_000_00, balanceChangeMinor = 4_998_000, liabilityMinor = 14_998_000,
                    ordersCertificatesCount = 2, ordersCertificatesMinor = 10_000_00, ordersTendersCount = 1, ordersTendersMinor = 2_500, ordersReturnsCount = 1,
                    ordersReturnsMinor = 5_000_00, paymentsCapturesCount = 1, paymentsCapturesMinor = 2_500, reconciliationMismatches = ["capture"],
                },
            ],
        };
        yield return new Client
        {
            clientId = "client-1",
            fullName = "Ada Lovelace",
            email = "ada@example.org",
            phone = "+441234567890",
            preferredContact = ContactChannel.SMS,
            locale = "en-GB",
            lastNotification = new ClientNotificationStatus { certificateId = "6001000000000017", notificationId = "ntf-1", outcome = NotificationOutcome.SENT, contactChannel = ContactChannel.SMS, at = At },
            updatedAt = Later,
        };
        yield return new CertificateState
        {
            certificateId = "6001000000000017",
            poolId = "pos-5000-EUR",
            channel = Channel.POS,
            status = CertificateStatus.PARTIALLY_REDEEMED,
            locked = true,
            lockReason = "suspected fraud",
            nominalMinor = 5_000,
            currency = "EUR",
            balanceMinor = 3_800,
            heldMinor = 300,
            orderId = "order-1",
            clientId = "client-1",
            reservedUntil = Later,
            issuedAt = At,
            cvcDisclosures = 1,
            cvcDisclosuresAllowed = 1,
            lastEventId = "evt-9",
            sequence = 9,
            updatedAt = Later,
        };
        yield return new CommandReply
        {
            requestId = "req-1",
            replyTo = "api-0",
            outcome = ReplyOutcome.REJECTED,
            reason = nameof(RejectionReason.POOL_EMPTY),
            message = "pool pos-5000-EUR is empty",
            certificateId = "6001000000000017",
            poolId = "pos-5000-EUR",
            eventId = "evt-1",
            reservedUntil = Later,
            cvcKeyVersion = 3,
            notificationId = "ntf-2",
            replayed = true,
            occurredAt = At,
        };
        yield return new DeadLetter
        {
            sourceTopic = "All_Payments",
            partition = 2,
            offset = 12_345,
            key = [0x70, 0x61, 0x79],
            value = [0x00, 0x00, 0x00, 0x00, 0x01, 0xFF],
            reason = DeadLetterReason.UNDECODABLE,
            message = "unknown magic byte",
            headers = new Dictionary<string, string> { ["event-type"] = "payment" },
            recordTimestamp = At,
        };
        yield return new NotificationResult
        {
            eventId = "nr-1",
            notificationId = "ntf-1",
            certificateId = "6001000000000017",
            clientId = "client-1",
            contactChannel = ContactChannel.EMAIL,
            outcome = NotificationOutcome.FAILED,
            attempt = 2,
            reason = "mailbox full",
            willRetry = true,
            occurredAt = At,
        };
        yield return new AuditRecord
        {
            auditId = "audit-1",
            caller = "support-ui",
            clientId = "support-ui",
            method = "GET",
            endpoint = "/certificates/{id}/cvc",
            certificateId = "6001000000000017",
            poolId = "pos-1000-rub",
            statusCode = 409,
            outcome = "rejected",
            latencyMs = 12.5,
            correlationId = "corr-1",
            occurredAt = At,
        };
    }
}
