using System.Globalization;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The write endpoints of certificates: each travels as a command on <c>GiftCertificates.Commands</c> through
/// <see cref="CommandClient"/> and waits for its reply; before answering an accepted write, the endpoint waits (bounded)
/// until this instance's read model shows it, so a read right after by the same caller sees the write.
/// </summary>
public static class CertificateCommandsApi
{
    public const string ReservationLimitType = "https://gcpstreams.dev/problems/reservation-limit";

    /// <summary>How long an accepted write waits for the read model to show it (read-your-writes) before answering anyway.</summary>
    public static readonly TimeSpan ReadYourWritesTimeout = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapCertificateCommandsApi(this IEndpointRouteBuilder endpoints)
    {
        var certificates = endpoints.MapGroup("/certificates").WithTags("Certificates").RequireRateLimiting(RateLimits.Writes).Audited();
        certificates.MapPost("/next", ReserveNext)
            .RequireAuthorization(Policies.Reserve)
            .WithName(nameof(ReserveNext))
            .AcceptsJsonBody<ReserveRequest>()
            .WithSummary("Reserve the next certificate of a pool (idempotent with an Idempotency-Key header).")
            .WithDescription("201 with the reserved certificate (its full number: the caller hands it to the buyer's order); 200 when an Idempotency-Key replays an earlier reservation; 400 invalid-field (extension field); "
                + "403 not-allowed-for-caller when a client bound to a channel asks for another channel (a pool of another channel is 404 for it); "
                + "404 pool-not-found (a pool never loaded; nothing is created); 409 pool-empty (reason POOL_EMPTY), reservation-limit (RESERVATION_LIMIT: the client holds "
                + "Gcp:MaxOpenReservationsPerClient open reservations in the pool) or command-rejected; 422 idempotency-conflict, or command-rejected when the request contradicts "
                + "the pool (CHANNEL_MISMATCH, CURRENCY_MISMATCH, NOMINAL_MISMATCH, ...); 503 while the command channel opens; 504 on no reply (retry with the same key).")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status422UnprocessableEntity, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        certificates.MapPost("/{id}/lock", Lock)
            .RequireAuthorization(Policies.Lock)
            .WithName(nameof(Lock))
            .AcceptsJsonBody<LockRequest>()
            .WithSummary("Lock an issued certificate (no debit or CVC disclosure while locked), with a reason.")
            .WithDescription("200 with the certificate, already locked. 400 invalid-field (reason); 404 certificate-not-found; 409 command-rejected "
                + "(LOCKED: already locked, INVALID_STATUS or NOT_FOUND: not issued); 503 while the command channel opens; 504 on no reply.")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        certificates.MapPost("/{id}/unlock", Unlock)
            .RequireAuthorization(Policies.Lock)
            .WithName(nameof(Unlock))
            .AcceptsJsonBody<LockRequest>()
            .WithSummary("Unlock a locked certificate, with a reason.")
            .WithDescription("200 with the certificate, already unlocked. 400 invalid-field (reason); 404 certificate-not-found; 409 command-rejected "
                + "(INVALID_STATUS: not locked or not issued); 503 while the command channel opens; 504 on no reply.")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        certificates.MapPost("/{id}/notifications", RequestNotification)
            .RequireAuthorization(Policies.CvcSupport)
            .WithName(nameof(RequestNotification))
            .AcceptsJsonBody<LockRequest>()
            .WithSummary("Send the certificate and its CVC to the buyer again (support), with a reason: a new notification.requested with a new notification id.")
            .WithDescription("202 with the new notification id: the CRM notifier sends it to the buyer's contact (All_Clients) and may read the CVC for it until its "
                + "result is recorded. 400 invalid-field (reason); 404 certificate-not-found; 409 command-rejected (LOCKED: unlock first; INVALID_STATUS: not issued "
                + "or cancelled; NOT_FOUND: reserved but not issued); 429 over the write rate limit; 503 while the command channel opens; 504 on no reply "
                + "(it may still be carried out: look at the certificate's history before asking again).")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        return endpoints;
    }

    /// <summary>
    /// Support asks for the notification again: the certificate's owner emits a new <c>notification.requested</c> (new id, the
    /// caller and the reason in it), which grants the CRM notifier CVC reads until its result is recorded.
    /// </summary>
    public static async Task<Results<Accepted<NotificationRequestResponse>, ProblemHttpResult>> RequestNotification(
        string id, JsonBody<LockRequest> request, CommandClient commands, CertificateReadModel model, HttpContext context)
    {
        var reason = request.Value?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > CommandCalls.MaxTextLength)
        {
            return ApiProblems.InvalidField("reason", $"reason is required: 1 to {CommandCalls.MaxTextLength} characters saying why the buyer gets the certificate again.", context);
        }

        var (reply, problem) = await SendToCertificateAsync(id, new C.RequestNotification { certificateId = id, reason = reason }, "The certificate refused the notification",
            CallerAccess.Of(context), commands, model, context);
        if (problem is not null)
        {
            return problem;
        }

        return TypedResults.Accepted((string?)null, new NotificationRequestResponse(id, reply!.notificationId ?? string.Empty, CertificateResponse.Utc(reply.occurredAt)));
    }

    public static async Task<Results<Created<ReservationResponse>, Ok<ReservationResponse>, ProblemHttpResult>> ReserveNext(
        JsonBody<ReserveRequest> request,
        [FromHeader(Name = CommandCalls.IdempotencyKeyHeader)] string? idempotencyKey,
        CommandClient commands,
        CertificateReadModel model,
        IOptions<GcpOptions> gcp,
        HttpContext context)
    {
        if (Validate(request.Value, idempotencyKey, gcp.Value.MaxReservationHoldSeconds, context, out var payload) is { } invalid)
        {
            return invalid;
        }

        AuditTrail.SetPool(context, payload.poolId);
        var access = CallerAccess.Of(context);
        if (access.Channel is { } bound && payload.channel != bound)
        {
            return ApiProblems.NotAllowed("channel", $"This client is bound to the {bound} channel and may reserve only its certificates (got channel '{payload.channel}').", context);
        }

        if (model.GetPool(payload.poolId) is { } pool && !access.Sees(pool.Channel))
        {
            return ApiProblems.PoolNotFound(payload.poolId, context); // another channel's pool does not exist for a bound client
        }

        var (reply, failed) = await CommandCalls.SendAsync(commands, payload.poolId, payload, context, idempotencyKey);
        if (failed is not null)
        {
            return failed;
        }

        if (reply!.outcome != C.ReplyOutcome.ACCEPTED)
        {
            return ReserveRejected(reply, payload.poolId, context);
        }

        var certificateId = reply.certificateId;
        AuditTrail.SetCertificate(context, certificateId);
        var answer = new ReservationResponse(certificateId, payload.poolId, CertificateResponse.Utc(reply.reservedUntil));

        await model.WaitForEventAsync(reply.eventId, ReadYourWritesTimeout, certificateId, context.RequestAborted);
        return reply.replayed // the same Idempotency-Key and body: the first reservation again
            ? TypedResults.Ok(answer)
            : TypedResults.Created($"/certificates/{Uri.EscapeDataString(certificateId)}", answer);
    }

    public static Task<Results<Ok<CertificateResponse>, ProblemHttpResult>> Lock(string id, JsonBody<LockRequest> request, CommandClient commands, CertificateReadModel model, HttpContext context) =>
        LockOrUnlock(id, request.Value, commands, model, context, reason => new C.LockCertificate { certificateId = id, reason = reason });

    public static Task<Results<Ok<CertificateResponse>, ProblemHttpResult>> Unlock(string id, JsonBody<LockRequest> request, CommandClient commands, CertificateReadModel model, HttpContext context) =>
        LockOrUnlock(id, request.Value, commands, model, context, reason => new C.UnlockCertificate { certificateId = id, reason = reason });

    private static async Task<Results<Ok<CertificateResponse>, ProblemHttpResult>> LockOrUnlock(
        string id, LockRequest? request, CommandClient commands, CertificateReadModel model, HttpContext context, Func<string, object> command)
    {
        var reason = request?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > CommandCalls.MaxTextLength)
        {
            return ApiProblems.InvalidField("reason", $"reason is required: 1 to {CommandCalls.MaxTextLength} characters saying why.", context);
        }

        var access = CallerAccess.Of(context);
        var (_, problem) = await SendToCertificateAsync(id, command(reason), "The certificate refused the command", access, commands, model, context);
        if (problem is not null)
        {
            return problem;
        }

        return model.Get(id) is { } state ? TypedResults.Ok(CertificateResponse.From(state, access)) : ApiProblems.CertificateNotFound(id, context);
    }

    /// <summary>
    /// A command to one certificate the caller may see (another channel's is 404, as an unknown one): sent, and once accepted,
    /// waited for in the read model (read-your-writes). A refusal is a 409 command-rejected titled <paramref name="refusedTitle"/>.
    /// </summary>
    /// <returns>The accepted reply, or the problem to answer.</returns>
    private static async Task<(C.CommandReply? Reply, ProblemHttpResult? Problem)> SendToCertificateAsync(
        string id, object payload, string refusedTitle, CallerAccess access, CommandClient commands, CertificateReadModel model, HttpContext context)
    {
        if (CertificatesApi.Visible(model, id, access) is null)
        {
            return (null, ApiProblems.CertificateNotFound(id, context));
        }

        var (reply, failed) = await CommandCalls.SendAsync(commands, id, payload, context);
        if (failed is not null)
        {
            return (null, failed);
        }

        if (reply!.outcome != C.ReplyOutcome.ACCEPTED)
        {
            var detail = reply.reason == nameof(C.RejectionReason.NOT_FOUND) ? $"certificate {id} is not issued ({reply.message})" : reply.message;
            return (null, ApiProblems.Rejected(StatusCodes.Status409Conflict, ApiProblems.CommandRejectedType, refusedTitle, reply.reason ?? "UNKNOWN",
                detail, context, new() { ["certificateId"] = id }));
        }

        await model.WaitForEventAsync(reply.eventId, ReadYourWritesTimeout, id, context.RequestAborted);
        return (reply, null);
    }

    private static ProblemHttpResult ReserveRejected(C.CommandReply reply, string poolId, HttpContext context)
    {
        var reason = reply.reason ?? "UNKNOWN";
        var extensions = new Dictionary<string, object?> { ["poolId"] = poolId };
        return reason switch
        {
            nameof(C.RejectionReason.POOL_EMPTY) => ApiProblems.Rejected(
                StatusCodes.Status409Conflict, ApiProblems.PoolEmptyType, "No certificate left in the pool", reason, reply.message, context, extensions),
            nameof(C.RejectionReason.NOT_FOUND) => ApiProblems.Rejected(
                StatusCodes.Status404NotFound, ApiProblems.PoolNotFoundType, "Pool not found", reason, reply.message, context, extensions),
            nameof(C.RejectionReason.IDEMPOTENCY_CONFLICT) => ApiProblems.Rejected(
                StatusCodes.Status422UnprocessableEntity, ApiProblems.IdempotencyConflictType, "Idempotency-Key reused with another request", reason, reply.message, context, extensions),
            nameof(C.RejectionReason.RESERVATION_LIMIT) => ApiProblems.Rejected(
                StatusCodes.Status409Conflict, ReservationLimitType, "Too many open reservations", reason, reply.message, context, extensions),
            nameof(C.RejectionReason.CHANNEL_MISMATCH) or nameof(C.RejectionReason.CURRENCY_MISMATCH) or nameof(C.RejectionReason.NOMINAL_MISMATCH)
                or nameof(C.RejectionReason.POOL_MISMATCH) or nameof(C.RejectionReason.INVALID_AMOUNT) or nameof(C.RejectionReason.UNKNOWN) => ApiProblems.Rejected(
                StatusCodes.Status422UnprocessableEntity, ApiProblems.CommandRejectedType, "The pool refused the request", reason, reply.message, context, extensions),
            _ => ApiProblems.Rejected(StatusCodes.Status409Conflict, ApiProblems.CommandRejectedType, "The pool refused the request", reason, reply.message, context, extensions),
        };
    }

    private static ProblemHttpResult? Validate(ReserveRequest? request, string? idempotencyKey, int maxHoldSeconds, HttpContext context, out C.ReserveCertificate payload)
    {
        payload = null!;
        if (request is null)
        {
            return ApiProblems.InvalidField("body", "A JSON body {poolId, channel, nominalMinor, currency, orderId?, holdSeconds?} is required.", context);
        }

        if (request.PoolId is null || !CommandCalls.PoolIdFormat().IsMatch(request.PoolId))
        {
            return ApiProblems.InvalidField("poolId", "poolId is required: 1 to 64 letters, digits, '.', '_' or '-'.", context);
        }

        if (CommandCalls.ValidatePoolTerms(request.Channel, request.NominalMinor, request.Currency, context, out var channel, out var nominal) is { } badTerms)
        {
            return badTerms;
        }

        if (request.OrderId is { } orderId && (orderId.Length == 0 || orderId.Length > CommandCalls.MaxTextLength))
        {
            return ApiProblems.InvalidField("orderId", $"orderId, when given, must be 1 to {CommandCalls.MaxTextLength} characters.", context);
        }

        if (request.HoldSeconds is { } hold && (hold < 1 || hold > maxHoldSeconds))
        {
            return ApiProblems.InvalidField("holdSeconds", $"holdSeconds, when given, must be from 1 to {maxHoldSeconds} (Gcp:MaxReservationHoldSeconds).", context);
        }

        if (CommandCalls.ValidateIdempotencyKey(idempotencyKey, context) is { } badKey)
        {
            return badKey;
        }

        payload = new C.ReserveCertificate
        {
            poolId = request.PoolId,
            channel = channel,
            nominalMinor = nominal,
            currency = request.Currency,
            orderId = request.OrderId,
            holdSeconds = request.HoldSeconds ?? 0, // 0: the service's default hold
        };
        return null;
    }

}

/// <summary>The body of <c>POST /certificates/next</c>; amounts in minor units; holdSeconds defaults to the service's hold.</summary>
public sealed record ReserveRequest(string? PoolId, string? Channel, long? NominalMinor, string? Currency, string? OrderId, int? HoldSeconds);

/// <summary>A reserved certificate: held for the order until <see cref="ReservedUntil"/>.</summary>
public sealed record ReservationResponse(string CertificateId, string PoolId, DateTimeOffset? ReservedUntil);

/// <summary>The body of <c>POST /certificates/{id}/lock</c>, <c>/unlock</c> and <c>/notifications</c>: why.</summary>
public sealed record LockRequest(string? Reason);

/// <summary>A notification requested again: its id (as on the stream's <c>notification.requested</c>) and when.</summary>
public sealed record NotificationRequestResponse(string CertificateId, string NotificationId, DateTimeOffset? RequestedAt);
