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
/// <c>GET /certificates/{id}/cvc</c>: the CVC, once per notification request (CRM) or once per support ticket. The disclosure
/// is decided by the certificate's owner in the topology (an audited <c>cvc.disclosed</c> event, never carrying the CVC);
/// only then does this instance derive the CVC from the configured key of the certificate's key version.
/// </summary>
public static class CvcApi
{
    public const string CvcNotAllowedType = "https://gcpstreams.dev/problems/cvc-disclosure-not-allowed";

    public static IEndpointRouteBuilder MapCvcApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/certificates").WithTags("Certificates").Audited()
            .MapGet("/{id}/cvc", GetCvc)
            .RequireAuthorization(Policies.Cvc)
            .RequireRateLimiting(RateLimits.Cvc)
            .WithName(nameof(GetCvc))
            .WithSummary("Disclose the CVC once per notification request (?notificationId=) or support ticket (?supportTicket=).")
            .WithDescription("Exactly one of notificationId or supportTicket (else 400 invalid-parameter). 200 with the CVC and Cache-Control: no-store; "
                + "a repeated disclosure is 409 cvc-disclosure-not-allowed, a locked certificate 409 command-rejected (LOCKED); 404 certificate-not-found; "
                + "429 when the caller exceeds its rate limit; 503 while the command channel opens; 504 on no reply.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        return endpoints;
    }

    public static async Task<Results<Ok<CvcResponse>, ProblemHttpResult>> GetCvc(
        string id, string? notificationId, string? supportTicket, CommandClient commands, CertificateReadModel model, IOptions<GcpOptions> gcp, HttpContext context)
    {
        if (string.IsNullOrWhiteSpace(notificationId) == string.IsNullOrWhiteSpace(supportTicket))
        {
            return ApiProblems.InvalidParameter("notificationId", "give exactly one of notificationId (a notification request) or supportTicket (a support request).", context);
        }

        var byTicket = string.IsNullOrWhiteSpace(notificationId);
        if ((byTicket ? supportTicket! : notificationId!).Trim().Length > CommandCalls.MaxTextLength)
        {
            var parameter = byTicket ? "supportTicket" : "notificationId";
            return ApiProblems.InvalidParameter(parameter, $"{parameter} must be at most {CommandCalls.MaxTextLength} characters.", context);
        }

        if (model.Get(id) is null)
        {
            return ApiProblems.CertificateNotFound(id, context);
        }

        var reveal = byTicket
            ? new C.RevealCvc { certificateId = id, kind = C.DisclosureKind.SUPPORT, reason = supportTicket!.Trim() }
            : new C.RevealCvc { certificateId = id, kind = C.DisclosureKind.NOTIFICATION, notificationId = notificationId!.Trim() };
        var (reply, failed) = await CommandCalls.SendAsync(commands, id, reveal, context);
        if (failed is not null)
        {
            return failed;
        }

        if (reply!.outcome != C.ReplyOutcome.ACCEPTED)
        {
            return reply.reason == nameof(C.RejectionReason.CVC_DISCLOSURE_NOT_ALLOWED)
                ? ApiProblems.Rejected(StatusCodes.Status409Conflict, CvcNotAllowedType, "The CVC may not be disclosed again", reply.reason, reply.message, context, new() { ["certificateId"] = id })
                : ApiProblems.Rejected(StatusCodes.Status409Conflict, ApiProblems.CommandRejectedType, "The certificate refused the disclosure", reply.reason ?? "UNKNOWN", reply.message, context, new() { ["certificateId"] = id });
        }

        var version = reply.cvcKeyVersion ?? throw new InvalidOperationException("an accepted CVC disclosure names its key version");
        var key = gcp.Value.CvcKey(version) ?? throw new InvalidOperationException($"no CVC key for version {version} (Gcp:CvcKeys:{version})");
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return TypedResults.Ok(new CvcResponse(id, Cvc.Derive(key, version, id), version));
    }
}

/// <summary>The disclosed CVC. Never logged, never cached (no-store), never in any topic, store or event.</summary>
public sealed record CvcResponse(string CertificateId, string Cvc, int KeyVersion);
