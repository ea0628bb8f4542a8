using System.Text.RegularExpressions;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// Embedded mode only (<c>Kafka:Mode=Embedded</c>, <c>make run</c>): <c>POST /dev/support-tickets</c> stands in for the
/// ticketing system and mints a CVC support grant (<see cref="DevSupportGrantSigner"/>) for the calling client, which needs
/// the scope <c>gc.cvc.support</c>, so the demo and the tests can disclose a CVC to support. Cluster mode does not map it:
/// there the ticketing system signs the grants.
/// </summary>
public static partial class DevSupportTicketsApi
{
    /// <summary>The path of the development signer.</summary>
    public const string Path = "/dev/support-tickets";

    public static IEndpointRouteBuilder MapDevSupportTicketsApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (!SupportGrantsHosting.HasDevSigner(endpoints.ServiceProvider))
        {
            return endpoints;
        }

        endpoints.MapPost(Path, MintSupportGrant)
            .WithTags("Development")
            .Audited()
            .AcceptsJsonBody<DevSupportTicketRequest>()
            .RequireAuthorization(Policies.CvcSupport)
            .WithName(nameof(MintSupportGrant))
            .WithSummary("Embedded mode only: mint a CVC support grant for the calling client, as the ticketing system would.")
            .WithDescription("Body {certificateId, ticketId, agentId} (400 invalid-field). 200 with the grant (a compact JWS, typ gcp-cvc-grant+jwt, "
                + "Gcp:SupportTickets:DevGrantLifetimeMinutes, 5 by default) for the calling client (client_id of the access token): pass it as `grant` to "
                + "POST /certificates/{id}/cvc/support-disclosures with the same token. Not mapped in cluster mode, where the ticketing system signs the grants "
                + "with the key of Gcp:SupportTickets:SigningKeysPem.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return endpoints;
    }

    public static Results<Ok<DevSupportTicketResponse>, ProblemHttpResult> MintSupportGrant(JsonBody<DevSupportTicketRequest> body, DevSupportGrantSigner signer, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var request = body.Value;
        var certificateId = request?.CertificateId?.Trim();
        if (certificateId is null || !IdFormat().IsMatch(certificateId))
        {
            return ApiProblems.InvalidField("certificateId", "certificateId is required: the certificate whose CVC support may see (1 to 64 letters, digits, '.', '_', ':' or '-').", context);
        }

        var ticketId = request!.TicketId?.Trim();
        if (ticketId is null || !IdFormat().IsMatch(ticketId))
        {
            return ApiProblems.InvalidField("ticketId", "ticketId is required: 1 to 64 letters, digits, '.', '_', ':' or '-' (e.g. TICKET-123).", context);
        }

        var agentId = request.AgentId?.Trim();
        if (agentId is null || !AgentFormat().IsMatch(agentId))
        {
            return ApiProblems.InvalidField("agentId", "agentId is required: the support agent working the ticket, 1 to 64 letters, digits, '.', '_', ':', '@' or '-'.", context);
        }

        var client = CommandCalls.Caller(context.User);
        var (grant, grantId, expiresAt) = signer.Mint(certificateId, ticketId, agentId, client);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new DevSupportTicketResponse(grant, grantId, certificateId, ticketId, agentId, client, expiresAt));
    }

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,64}\z")]
    private static partial Regex IdFormat();

    [GeneratedRegex(@"^[A-Za-z0-9._:@-]{1,64}\z")]
    private static partial Regex AgentFormat();
}

/// <summary>The body of <c>POST /dev/support-tickets</c>: the certificate, the ticket and the agent the grant is for.</summary>
public sealed record DevSupportTicketRequest(string? CertificateId, string? TicketId, string? AgentId);

/// <summary>A minted CVC support grant: the compact JWS and what it says, for the calling client.</summary>
public sealed record DevSupportTicketResponse(string Grant, string GrantId, string CertificateId, string TicketId, string AgentId, string ClientId, DateTimeOffset ExpiresAt);
