using GcpStreams.Api.Auditing;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The read endpoints of pools (levels from the global read model); they require the <c>gc.read</c> scope. A client bound to a
/// channel sees only that channel's pools (<see cref="CallerAccess"/>).
/// </summary>
public static class PoolsApi
{
    public static IEndpointRouteBuilder MapPoolsApi(this IEndpointRouteBuilder endpoints)
    {
        var pools = endpoints.MapGroup("/pools").WithTags("Pools").RequireAuthorization(Policies.Read).Audited();
        pools.MapGet("", GetPools)
            .WithName(nameof(GetPools))
            .WithSummary("Every pool with its levels, ordered by pool id.")
            .WithDescription("The levels of every pool known to this instance's read model: available, reserved, issued, loaded, low watermark. "
                + "A client bound to a channel sees only its channel's pools.");
        pools.MapGet("/{id}", GetPool)
            .WithName(nameof(GetPool))
            .WithSummary("A pool's levels: available, reserved, issued, loaded, low watermark.")
            .WithDescription("isLow is true when available is below the low watermark; issueBlocked counts reservations refused because the pool was empty. "
                + "404 pool-not-found for an unknown id, or a pool of another channel than the caller's.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public static Ok<PoolListResponse> GetPools(CertificateReadModel model, HttpContext context)
    {
        var access = CallerAccess.Of(context);
        return TypedResults.Ok(new PoolListResponse(model.GetPools().Where(p => access.Sees(p.Channel)).Select(PoolResponse.From).ToArray()));
    }

    public static Results<Ok<PoolResponse>, ProblemHttpResult> GetPool(string id, CertificateReadModel model, HttpContext context) =>
        model.GetPool(id) is { } pool && CallerAccess.Of(context).Sees(pool.Channel)
            ? TypedResults.Ok(PoolResponse.From(pool))
            : ApiProblems.PoolNotFound(id, context);
}
