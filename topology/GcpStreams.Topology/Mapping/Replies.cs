using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Mapping;

/// <summary>
/// The reply to an API command (key: its request id), read by the API instance named in <c>replyTo</c>.
/// The first event of the decision says how it went: a refusal (or a blocked issue) is REJECTED with the reason.
/// </summary>
public static class Replies
{
    public static C.CommandReply ForPool(PoolCommand command, IReadOnlyList<PoolEvent> events, IReadOnlyList<string> eventIds, string replyTo)
    {
        var reply = Base(command.CausationId, replyTo, command.At, eventIds[0]);
        reply.poolId = command.PoolId;
        switch (events[0])
        {
            case PoolCertificateReserved r:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                reply.certificateId = r.CertificateId;
                reply.reservedUntil = r.ReservedUntil.UtcDateTime;
                break;
            case ReservationReplayed r:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                reply.replayed = true;
                reply.certificateId = r.CertificateId;
                reply.reservedUntil = r.ReservedUntil.UtcDateTime;
                reply.eventId = StreamEvents.EventId(r.CertificateId, r.OriginalRequestId, 0);
                break;
            case PoolLoadReplayed l:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                reply.replayed = true;
                reply.eventId = StreamEvents.EventId(l.PoolId, l.OriginalRequestId, 0);
                break;
            case Domain.Pools.IssueBlocked b:
                Reject(reply, b.Reason, b.Message);
                break;
            case PoolOperationRejected x:
                Reject(reply, x.Reason, x.Message);
                reply.certificateId = x.CertificateId;
                break;
            default:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                reply.certificateId = StreamEvents.CertificateOf(events[0]);
                break;
        }

        return reply;
    }

    public static C.CommandReply ForCertificate(CertificateCommand command, IReadOnlyList<CertificateEvent> events, IReadOnlyList<string> eventIds, string replyTo)
    {
        var reply = Base(command.CausationId, replyTo, command.At, eventIds[0]);
        reply.certificateId = command.CertificateId;
        switch (events[0])
        {
            case CertificateOperationRejected x:
                Reject(reply, x.Reason, x.Message);
                break;
            case Domain.Certificates.CvcDisclosed d:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                reply.cvcKeyVersion = d.KeyVersion;
                break;
            case Domain.Certificates.NotificationRequested n:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                reply.notificationId = n.NotificationId;
                break;
            default:
                reply.outcome = C.ReplyOutcome.ACCEPTED;
                break;
        }

        return reply;
    }

    /// <summary>
    /// The REJECTED reply to an API command the intake refuses before any owner decides it (an invalid command, an
    /// Idempotency-Key used for another request): <paramref name="reason"/> is a <c>RejectionReason</c> symbol name.
    /// </summary>
    public static C.CommandReply Refused(C.GiftCertificateCommand command, string reason, string message, string? poolId = null) => new()
    {
        requestId = command.requestId,
        replyTo = command.replyTo,
        outcome = C.ReplyOutcome.REJECTED,
        reason = reason,
        message = message,
        poolId = poolId,
        occurredAt = command.issuedAt,
    };

    private static void Reject(C.CommandReply reply, RejectionReason reason, string message)
    {
        reply.outcome = C.ReplyOutcome.REJECTED;
        reply.reason = EnumMap.Convert<RejectionReason, C.RejectionReason>(reason).ToString();
        reply.message = message;
    }

    private static C.CommandReply Base(string requestId, string replyTo, DateTimeOffset at, string eventId) => new()
    {
        requestId = requestId,
        replyTo = replyTo,
        eventId = eventId,
        occurredAt = at.UtcDateTime,
    };
}
