using GcpStreams.Domain.Reporting;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Reporting;

/// <summary>A daily mart as the record BI reads on <c>GiftCertificates.DailyReport</c>.</summary>
public static class ReportRecords
{
    /// <summary>The record key of a mart: <c>{day}|{channel}</c>.</summary>
    public static string Key(DateOnly day, string channel) => $"{BusinessDay.Format(day)}|{channel}";

    public static C.DailyReport ToRecord(DailyMart m, string timeZone)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new C.DailyReport
        {
            day = BusinessDay.Format(m.Day),
            channel = Enum.TryParse<C.Channel>(m.Channel, out var channel) ? channel : C.Channel.UNKNOWN,
            timeZone = timeZone,
            finalAt = m.FinalAt.UtcDateTime,
            revision = m.Revision,
            issuedCount = m.Issued.Count,
            issuedMinor = m.Issued.AmountMinor,
            redeemedCount = m.Redeemed.Count,
            redeemedMinor = m.Redeemed.AmountMinor,
            refundedCount = m.Refunded.Count,
            refundedMinor = m.Refunded.AmountMinor,
            voidedCount = m.Voided.Count,
            voidedMinor = m.Voided.AmountMinor,
            cancelledCount = m.Cancelled.Count,
            cancelledMinor = m.Cancelled.AmountMinor,
            lockedCount = m.Locked,
            unlockedCount = m.Unlocked,
            cvcDisclosuresCount = m.CvcDisclosures,
            notificationsSentCount = m.NotificationsSent,
            notificationsFailedCount = m.NotificationsFailed,
            notificationsOverdueCount = m.NotificationsOverdue,
            issueBlockedCount = m.IssueBlocked,
            reservationsExpiredCount = m.ReservationsExpired,
            balanceChangeMinor = m.BalanceChangeMinor,
            liabilityMinor = m.LiabilityMinor,
            ordersCertificatesCount = m.OrderCertificates.Count,
            ordersCertificatesMinor = m.OrderCertificates.AmountMinor,
            ordersTendersCount = m.OrderTenders.Count,
            ordersTendersMinor = m.OrderTenders.AmountMinor,
            ordersReturnsCount = m.OrderReturns.Count,
            ordersReturnsMinor = m.OrderReturns.AmountMinor,
            paymentsCapturesCount = m.PaymentCaptures.Count,
            paymentsCapturesMinor = m.PaymentCaptures.AmountMinor,
            duplicateOrderRecordsCount = m.DuplicateOrderRecords,
            duplicatePaymentRecordsCount = m.DuplicatePaymentRecords,
            reconciliationMismatches = [.. m.Mismatches],
            mismatchDetectedAt = m.MismatchSince?.UtcDateTime,
            mismatchAlertsCount = m.MismatchAlerts,
            correctionsCount = m.Corrections,
            pools = [.. m.Pools.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new C.DailyPoolFigures
            {
                poolId = p.Key,
                issuedCount = p.Value.Issued.Count,
                issuedMinor = p.Value.Issued.AmountMinor,
                redeemedCount = p.Value.Redeemed.Count,
                redeemedMinor = p.Value.Redeemed.AmountMinor,
                issueBlockedCount = p.Value.IssueBlocked,
                reservationsExpiredCount = p.Value.ReservationsExpired,
            })],
            stores = [.. m.Stores.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new C.DailyStoreFigures
            {
                storeId = s.Key,
                redeemedCount = s.Value.Redeemed.Count,
                redeemedMinor = s.Value.Redeemed.AmountMinor,
                refundedCount = s.Value.Refunded.Count,
                refundedMinor = s.Value.Refunded.AmountMinor,
                voidedCount = s.Value.Voided.Count,
                voidedMinor = s.Value.Voided.AmountMinor,
                ordersCertificatesCount = s.Value.OrderCertificates.Count,
                ordersCertificatesMinor = s.Value.OrderCertificates.AmountMinor,
            })],
            deadLetters = [.. m.DeadLetters.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new C.DailyDeadLetterCount
            {
                sourceTopic = d.Key[..d.Key.LastIndexOf('|')],
                reason = d.Key[(d.Key.LastIndexOf('|') + 1)..],
                count = d.Value,
            })],
            alerts = [.. m.Alerts.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new C.DailyAlertCount { kind = a.Key, count = a.Value })],
            final = m.Final,
            currencies = [.. m.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => Currency(c.Key, c.Value))],
        };
    }

    private static C.DailyCurrencyFigures Currency(string currency, MoneyFigures f) => new()
    {
        currency = currency,
        issuedCount = f.Issued.Count,
        issuedMinor = f.Issued.AmountMinor,
        redeemedCount = f.Redeemed.Count,
        redeemedMinor = f.Redeemed.AmountMinor,
        refundedCount = f.Refunded.Count,
        refundedMinor = f.Refunded.AmountMinor,
        voidedCount = f.Voided.Count,
        voidedMinor = f.Voided.AmountMinor,
        cancelledCount = f.Cancelled.Count,
        cancelledMinor = f.Cancelled.AmountMinor,
        balanceChangeMinor = f.BalanceChangeMinor,
        liabilityMinor = f.LiabilityMinor,
        ordersCertificatesCount = f.OrderCertificates.Count,
        ordersCertificatesMinor = f.OrderCertificates.AmountMinor,
        ordersTendersCount = f.OrderTenders.Count,
        ordersTendersMinor = f.OrderTenders.AmountMinor,
        ordersReturnsCount = f.OrderReturns.Count,
        ordersReturnsMinor = f.OrderReturns.AmountMinor,
        paymentsCapturesCount = f.PaymentCaptures.Count,
        paymentsCapturesMinor = f.PaymentCaptures.AmountMinor,
        reconciliationMismatches = [.. Reconciliation.Disagreeing(Reconciliation.Checks(currency, f))],
    };
}
