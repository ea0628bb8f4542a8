using GcpStreams.Api.Auditing;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using GcpStreams.Client;
using GcpStreams.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The CVC disclosures. <c>GET /certificates/{id}/cvc?notificationId=</c>: for the CRM notifier (scope <c>gc.cvc.notify</c>),
/// while the notification request has no result recorded (a retry reads again; every read is audited). <c>POST /certificates/{id}/cvc/support-disclosures</c>: for support (scope
/// <c>gc.cvc.support</c>), with a grant the ticketing system signed for the certificate, the ticket, the agent and the calling
/// client (checked here by <see cref="SupportGrantValidator"/>: a bad grant is 403) and a reason; once per ticket, a configured
/// number of times per certificate and per client in 24 hours. The disclosure is decided in the topology (the client's cap by
/// the intake, the rest by the certificate's owner: an audited <c>cvc.disclosed</c> event that names the caller, the ticket,
/// the agent and the reason, never the CVC); only then does this instance derive the CVC from the configured key of the
/// certificate's key version.
/// </summary>
public static partial class CvcApi
{
    public const string CvcNotAllowedType = "https://gcpstreams.dev/problems/cvc-disclosure-not-allowed";

    public static IEndpointRouteBuilder MapCvcApi(this IEndpointRouteBuilder endpoints)
    {
        var certificates = endpoints.MapGroup("/certificates").WithTags("Certificates").Audited();
        certificates.MapGet("/{id}/cvc", GetCvc)
            .RequireAuthorization(Policies.CvcNotify)
            .RequireRateLimiting(RateLimits.NotifyCvc)
            .WithName(nameof(GetCvc))
            .WithSummary("Disclose the CVC for a notification request (?notificationId=) until its result is recorded, for the CRM notifier.")
            .WithDescription("notificationId is required (400 invalid-parameter). 200 with the CVC and Cache-Control: no-store; every read is audited (a cvc.disclosed event). "
                + "Once the notification's result (sent, or a final failure) is recorded, or for a notification id that grants none, 409 cvc-disclosure-not-allowed; a locked certificate 409 command-rejected (LOCKED); "
                + "404 certificate-not-found; 429 when the caller exceeds its rate limit; 503 while the command channel opens; 504 on no reply.")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        certificates.MapPost("/{id}/cvc/support-disclosures", DiscloseToSupport)
            .AcceptsJsonBody<SupportDisclosureRequest>()
            .RequireAuthorization(Policies.CvcSupport)
            .RequireRateLimiting(RateLimits.Cvc)
            .WithName(nameof(DiscloseToSupport))
            .WithSummary("Disclose the CVC to support: a ticketing system's grant and a reason; once per ticket, a few times per certificate and per client a day.")
            .WithDescription("Body {grant, reason} (400 invalid-field): grant is the compact JWS the ticketing system signed (typ gcp-cvc-grant+jwt, audience "
                + "gcp-streams-cvc-support, at most 15 minutes) naming the ticket (ticket_id), this certificate (certificate_id), the agent (agent_id) and the "
                + "calling client (client_id); embedded mode mints one with POST /dev/support-tickets. A grant that fails any check (signature, issuer, "
                + "audience, type, lifetime, certificate, client, claims) is 403 cvc-grant-invalid, the detail naming the check. 200 with the CVC and "
                + "Cache-Control: no-store; the disclosure is a cvc.disclosed event naming the caller, ticket, agent and reason. A ticket used already, or the "
                + "daily cap of the certificate or of the calling client reached, is 409 cvc-disclosure-not-allowed; a locked certificate 409 command-rejected "
                + "(LOCKED); 404 certificate-not-found; 429 when the caller exceeds its rate limit; 503; 504.")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        return endpoints;
    }

    public static async Task<Results<Ok<CvcResponse>, ProblemHttpResult>> GetCvc(
        string id, string? notificationId, CommandClient commands, CertificateReadModel model, IOptions<GcpOptions> gcp, HttpContext context)
    {
        if (string.IsNullOrWhiteSpace(notificationId) || notificationId.Trim().Length > CommandCalls.MaxTextLength)
        {
            return ApiProblems.InvalidParameter("notificationId",
                $"notificationId is required: the id of the notification.requested event (at most {CommandCalls.MaxTextLength} characters). "
                + "Support discloses with POST /certificates/{id}/cvc/support-disclosures.", context);
        }

        return await DiscloseAsync(id, id, new C.RevealCvc { certificateId = id, kind = C.DisclosureKind.NOTIFICATION, notificationId = notificationId.Trim() },
            commands, model, gcp, context);
    }

    public static async Task<Results<Ok<CvcResponse>, ProblemHttpResult>> DiscloseToSupport(
        string id, JsonBody<SupportDisclosureRequest> body, SupportGrantValidator grants, CommandClient commands, CertificateReadModel model, IOptions<GcpOptions> gcp,
        ILoggerFactory loggers, HttpContext context)
    {
        var request = body.Value;
        var grant = request?.Grant?.Trim();
        if (string.IsNullOrEmpty(grant))
        {
            return ApiProblems.InvalidField("grant",
                "grant is required: the CVC support grant (a compact JWS) the ticketing system signed for this certificate, the support ticket, the agent and "
                + "your client; in embedded mode POST /dev/support-tickets mints one.", context);
        }

        var reason = request!.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > CommandCalls.MaxTextLength)
        {
            return ApiProblems.InvalidField("reason", $"reason is required: 1 to {CommandCalls.MaxTextLength} characters saying why support needs the CVC.", context);
        }

        // the ticket and the agent come from the verified grant only, never from free text
        var caller = CommandCalls.Caller(context.User);
        var check = await grants.ValidateAsync(grant, id, caller);
        if (check.Grant is not { } verified)
        {
            LogGrantRefused(loggers.CreateLogger(typeof(CvcApi).FullName!), caller, id, check.FailedCheck!);
            return ApiProblems.CvcGrantInvalid(check.FailedCheck!, check.Failure!, id, context);
        }

        // keyed by the caller's key: the intake counts every support disclosure of the client in one place (its daily cap)
        return await DiscloseAsync(id, SupportDisclosureKeys.RecordKey(caller),
            new C.RevealCvc { certificateId = id, kind = C.DisclosureKind.SUPPORT, supportTicket = verified.TicketId, agent = verified.AgentId, reason = reason },
            commands, model, gcp, context);
    }

    private static async Task<Results<Ok<CvcResponse>, ProblemHttpResult>> DiscloseAsync(
        string id, string recordKey, C.RevealCvc reveal, CommandClient commands, CertificateReadModel model, IOptions<GcpOptions> gcp, HttpContext context)
    {
        if (CertificatesApi.Visible(model, id, CallerAccess.Of(context)) is null)
        {
            return ApiProblems.CertificateNotFound(id, context);
        }

        var (reply, failed) = await CommandCalls.SendAsync(commands, recordKey, reveal, context);
        if (failed is not null)
        {
            return failed;
        }

        if (reply!.outcome != C.ReplyOutcome.ACCEPTED)
        {
            return reply.reason == nameof(C.RejectionReason.CVC_DISCLOSURE_NOT_ALLOWED)
                ? ApiProblems.Rejected(StatusCodes.Status409Conflict, CvcNotAllowedType, "The CVC may not be disclosed", reply.reason, reply.message, context, new() { ["certificateId"] = id })
                : ApiProblems.Rejected(StatusCodes.Status409Conflict, ApiProblems.CommandRejectedType, "The certificate refused the disclosure", reply.reason ?? "UNKNOWN", reply.message, context, new() { ["certificateId"] = id });
        }

        var version = reply.cvcKeyVersion ?? throw new InvalidOperationException("an accepted CVC disclosure names its key version");
        var key = gcp.Value.CvcKey(version) ?? throw new InvalidOperationException($"no CVC key for version {version} (Gcp:CvcKeys:{version})");
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return TypedResults.Ok(new CvcResponse(id, Cvc.Derive(key, version, id), version));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Support CVC disclosure refused: client {Client} presented a grant for certificate {CertificateId} that fails the {Check} check")]
    private static partial void LogGrantRefused(ILogger logger, string client, string certificateId, string check);
}

/// <summary>
/// The body of <c>POST /certificates/{id}/cvc/support-disclosures</c>: the ticketing system's grant (which names the ticket,
/// the certificate, the agent and the client) and why the CVC is needed.
/// </summary>
public sealed record SupportDisclosureRequest(string? Grant, string? Reason);

/// <summary>The disclosed CVC. Never logged, never cached (no-store), never in any topic, store or event.</summary>
public sealed record CvcResponse(string CertificateId, string Cvc, int KeyVersion);
