using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Domain.Reporting;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Reporting;

/// <summary>
/// The facts of the daily marts: the certificate events and dead letters the topology's processors write (taken from their outputs,
/// so the reporting never reads a topic the topology writes: no topic cycle), and Orders' and Payments' own records for the
/// reconciliation. Each fact is
/// keyed by its channel (the partition of the marts: one owner per channel keeps its liability chain across days).
/// </summary>
internal sealed class ReportFacts(Codec codec)
{
    /// <summary>The channel of what belongs to none (dead letters, invalid-event alerts).</summary>
    public const string NoChannel = "UNKNOWN";

    private static readonly IEnumerable<KeyValuePair<string, ReportFact>> None = [];

    /// <summary>
    /// The facts of what a processor of the topology writes (its <see cref="Outgoing"/> records, before they reach their topics): the
    /// events it publishes on <c>GiftCertificates.Stream</c> and the dead letters it writes; nothing for its other outputs.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, ReportFact>> FromOutput(Outgoing output, long timestampMs) => output switch
    {
        { Contract: C.GiftCertificateEvent e } when output.Topic == Topics.Stream.Name => FromEvent(e, timestampMs),
        { Contract: C.DeadLetter letter } when output.Topic == Topics.DeadLetter.Name => FromDeadLetter(letter, timestampMs),
        _ => None,
    };

    /// <summary>The facts of one event of <c>GiftCertificates.Stream</c>.</summary>
    public static IEnumerable<KeyValuePair<string, ReportFact>> FromEvent(C.GiftCertificateEvent e, long timestampMs)
    {
        Delta? delta = e.payload switch
        {
            C.CertificateIssued x => new Delta(Measure.Issued, 1, x.nominalMinor),
            C.CertificateRedeemed x => new Delta(Measure.Redeemed, 1, x.amountMinor),
            C.CertificateRefunded x => new Delta(Measure.Refunded, 1, x.amountMinor),
            C.CertificateHoldReleased { expired: false } x => new Delta(Measure.Voided, 1, x.amountMinor),
            C.CertificateCancelled x => new Delta(Measure.Cancelled, 1, x.amountMinor),
            C.CertificateLocked => new Delta(Measure.Locked, 1),
            C.CertificateUnlocked => new Delta(Measure.Unlocked, 1),
            C.CvcDisclosed => new Delta(Measure.CvcDisclosed, 1),
            C.NotificationSent => new Delta(Measure.NotificationSent, 1),
            C.NotificationFailed => new Delta(Measure.NotificationFailed, 1),
            C.NotificationOverdue => new Delta(Measure.NotificationOverdue, 1),
            C.IssueBlocked => new Delta(Measure.IssueBlocked, 1),
            C.CertificateReservationExpired => new Delta(Measure.ReservationExpired, 1),
            C.Alert x => new Delta(Measure.Alert, 1, 0, x.kind.ToString()),
            _ => null,
        };
        return delta is null
            ? None
            : One(new ReportFact
            {
                Channel = e.channel.ToString(),
                OccurredAt = At(e.occurredAt),
                RecordedAt = DateTimeOffset.FromUnixTimeMilliseconds(timestampMs),
                Deltas = [delta],
                Currency = Blank(e.currency) ? null : e.currency,
                PoolId = e.poolId,
                StoreId = e.storeId,
            });
    }

    /// <summary>A dead letter, counted per source topic and reason on the day of the original record (channel UNKNOWN).</summary>
    public static IEnumerable<KeyValuePair<string, ReportFact>> FromDeadLetter(C.DeadLetter letter, long timestampMs) =>
        One(new ReportFact
        {
            Channel = NoChannel,
            OccurredAt = At(letter.recordTimestamp),
            RecordedAt = DateTimeOffset.FromUnixTimeMilliseconds(timestampMs),
            Deltas = [new Delta(Measure.DeadLetter, 1, 0, $"{letter.sourceTopic}|{letter.reason}")],
        });

    /// <summary>
    /// Orders' side of the reconciliation: the certificate lines and tenders of a PAID order, the returned lines of a RETURNED
    /// one. One record per transaction state: the identity is the transaction id and the status, so a second record of both is a
    /// duplicate. Records the intake dead-letters (undecodable, no channel, missing ids, non-positive amounts) count nothing here:
    /// their dead letter counts them.
    /// </summary>
    public IEnumerable<KeyValuePair<string, ReportFact>> FromOrder(byte[]? value, long timestampMs)
    {
        C.SalesOrder? order;
        try
        {
            order = value is { Length: > 0 } ? codec.Decode(Topics.SalesOrders, value) : null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return None; // dead-lettered (and counted) by the intake
        }

        if (order is null)
        {
            return None; // a tombstone: dead-lettered (and counted) by the intake
        }

        if (order.channel == C.Channel.UNKNOWN || order.certificateLines is null || order.certificateTenders is null || order.returnedLineIds is null || Blank(order.eventId) || Blank(order.orderId) || Blank(order.transactionId)
            || order.certificateLines.Any(l => l.nominalMinor <= 0 || Blank(l.certificateId) || Blank(l.lineId)) || order.certificateTenders.Any(t => t.amountMinor <= 0))
        {
            return None;
        }

        List<Delta> deltas = [];
        switch (order.status)
        {
            case C.OrderStatus.PAID:
                if (order.certificateLines.Count > 0)
                {
                    deltas.Add(new Delta(Measure.OrderCertificates, order.certificateLines.Count, order.certificateLines.Sum(l => l.nominalMinor)));
                }

                if (order.certificateTenders.Count > 0)
                {
                    deltas.Add(new Delta(Measure.OrderTenders, order.certificateTenders.Count, order.certificateTenders.Sum(t => t.amountMinor)));
                }

                break;
            case C.OrderStatus.RETURNED:
                var returned = order.returnedLineIds.Count == 0 ? order.certificateLines : [.. order.certificateLines.Where(l => order.returnedLineIds.Contains(l.lineId))];
                if (returned.Count > 0)
                {
                    deltas.Add(new Delta(Measure.OrderReturns, returned.Count, returned.Sum(l => l.nominalMinor)));
                }

                break;
        }

        return deltas.Count == 0
            ? None
            : One(new ReportFact
            {
                Channel = order.channel.ToString(),
                OccurredAt = At(order.occurredAt),
                RecordedAt = DateTimeOffset.FromUnixTimeMilliseconds(timestampMs),
                Deltas = deltas,
                Currency = Blank(order.currency) ? null : order.currency,
                StoreId = Blank(order.storeId) ? null : order.storeId,
                DedupKey = $"order/{order.transactionId}/{order.status}",
                DuplicateOf = DuplicateSource.Orders,
            });
    }

    /// <summary>Payments' side: a SUCCEEDED GIFT_CERTIFICATE CAPTURE, once per payment id.</summary>
    public IEnumerable<KeyValuePair<string, ReportFact>> FromPayment(byte[]? value, long timestampMs)
    {
        C.Payment? payment;
        try
        {
            payment = value is { Length: > 0 } ? codec.Decode(Topics.Payments, value) : null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return None; // dead-lettered (and counted) by the intake
        }

        if (payment is null)
        {
            return None; // a tombstone: dead-lettered (and counted) by the intake
        }

        if (payment is not { method: C.PaymentMethod.GIFT_CERTIFICATE, operation: C.PaymentOperation.CAPTURE, status: C.PaymentStatus.SUCCEEDED }
            || payment.channel == C.Channel.UNKNOWN || payment.amountMinor <= 0 || Blank(payment.paymentId) || Blank(payment.certificateId))
        {
            return None;
        }

        return One(new ReportFact
        {
            Channel = payment.channel.ToString(),
            OccurredAt = At(payment.occurredAt),
            RecordedAt = DateTimeOffset.FromUnixTimeMilliseconds(timestampMs),
            Deltas = [new Delta(Measure.PaymentCaptures, 1, payment.amountMinor)],
            Currency = Blank(payment.currency) ? null : payment.currency,
            StoreId = Blank(payment.storeId) ? null : payment.storeId,
            DedupKey = $"payment/{payment.paymentId}",
            DuplicateOf = DuplicateSource.Payments,
        });
    }

    private static IEnumerable<KeyValuePair<string, ReportFact>> One(ReportFact fact) => [KeyValuePair.Create(fact.Channel, fact)];

    private static DateTimeOffset At(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private static bool Blank(string? s) => string.IsNullOrWhiteSpace(s);
}
