using System.Text.RegularExpressions;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using GcpStreams.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The CVC disclosures. <c>GET /certificates/{id}/cvc?notificationId=</c>: once per notification request, for the CRM
/// notifier (scope <c>gc.cvc.notify</c>). <c>POST /certificates/{id}/cvc/support-disclosures</c>: for support (scope
/// <c>gc.cvc.support</c>), with a ticket and a reason, once per ticket and a configured number of times per certificate in 24
/// hours. The disclosure is decided by the certificate's owner in the topology (an audited <c>cvc.disclosed</c> event that
/// names the caller, the grant and the reason, never the CVC); only then does this instance derive the CVC from the
/// configured key of the certificate's key version.
/// </summary>
public static partial class CvcApi
{
    public const string CvcNotAllowedType = "https://gcpstreams.dev/problems/cvc-disclosure-not-allowed";

    /// <summary>Longest support ticket id.</summary>
    public const int MaxTicketLength = 64;

    public static IEndpointRouteBuilder MapCvcApi(this IEndpointRouteBuilder endpoints)
    {
        var certificates = endpoints.MapGroup("/certificates").WithTags("Certificates").Audited();
        certificates.MapGet("/{id}/cvc", GetCvc)
            .RequireAuthorization(Policies.CvcNotify)
            .RequireRateLimiting(RateLimits.Cvc)
            .WithName(nameof(GetCvc))
            .WithSummary("Disclose the CVC once per notification request (?notificationId=), for the CRM notifier.")
            .WithDescription("notificationId is required (400 invalid-parameter). 200 with the CVC and Cache-Control: no-store; "
                + "a repeated disclosure, or a notification id that grants none, is 409 cvc-disclosure-not-allowed; a locked certificate 409 command-rejected (LOCKED); "
                + "404 certificate-not-found; 429 when the caller exceeds its rate limit; 503 while the command channel opens; 504 on no reply.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        certificates.MapPost("/{id}/cvc/support-disclosures", DiscloseToSupport)
            .AcceptsJsonBody<SupportDisclosureRequest>()
            .RequireAuthorization(Policies.CvcSupport)
            .RequireRateLimiting(RateLimits.Cvc)
            .WithName(nameof(DiscloseToSupport))
            .WithSummary("Disclose the CVC to support: a ticket and a reason, once per ticket, a few times per certificate a day.")
            .WithDescription("Body {supportTicket, reason} (400 invalid-field). 200 with the CVC and Cache-Control: no-store; the disclosure is a cvc.disclosed "
                + "event naming the caller, ticket and reason. A ticket used already, or the daily cap of the certificate reached, is 409 cvc-disclosure-not-allowed; "
                + "a locked certificate 409 command-rejected (LOCKED); 404 certificate-not-found; 429 when the caller exceeds its rate limit; 503; 504.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
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

        return await DiscloseAsync(id, new C.RevealCvc { certificateId = id, kind = C.DisclosureKind.NOTIFICATION, notificationId = notificationId.Trim() },
            commands, model, gcp, context);
    }

    public static async Task<Results<Ok<CvcResponse>, ProblemHttpResult>> DiscloseToSupport(
        string id, JsonBody<SupportDisclosureRequest> body, CommandClient commands, CertificateReadModel model, IOptions<GcpOptions> gcp, HttpContext context)
    {
        var request = body.Value;
        var ticket = request?.SupportTicket?.Trim();
        if (ticket is null || !TicketFormat().IsMatch(ticket))
        {
            return ApiProblems.InvalidField("supportTicket", $"supportTicket is required: 1 to {MaxTicketLength} letters, digits, '.', '_', ':' or '-' (e.g. TICKET-123).", context);
        }

        var reason = request!.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > CommandCalls.MaxTextLength)
        {
            return ApiProblems.InvalidField("reason", $"reason is required: 1 to {CommandCalls.MaxTextLength} characters saying why support needs the CVC.", context);
        }

        return await DiscloseAsync(id, new C.RevealCvc { certificateId = id, kind = C.DisclosureKind.SUPPORT, supportTicket = ticket, reason = reason },
            commands, model, gcp, context);
    }

    private static async Task<Results<Ok<CvcResponse>, ProblemHttpResult>> DiscloseAsync(
        string id, C.RevealCvc reveal, CommandClient commands, CertificateReadModel model, IOptions<GcpOptions> gcp, HttpContext context)
    {
        if (CertificatesApi.Visible(model, id, CallerAccess.Of(context)) is null)
        {
            return ApiProblems.CertificateNotFound(id, context);
        }

        var (reply, failed) = await CommandCalls.SendAsync(commands, id, reveal, context);
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

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,64}\z")]
    private static partial Regex TicketFormat();
}

/// <summary>The body of <c>POST /certificates/{id}/cvc/support-disclosures</c>: the support ticket and why the CVC is needed.</summary>
public sealed record SupportDisclosureRequest(string? SupportTicket, string? Reason);

/// <summary>The disclosed CVC. Never logged, never cached (no-store), never in any topic, store or event.</summary>
public sealed record CvcResponse(string CertificateId, string Cvc, int KeyVersion);
