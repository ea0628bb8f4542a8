using GcpStreams.Api.Auditing;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>The read endpoints of pools (levels from the global read model); they require the <c>gc.read</c> scope.</summary>
public static class PoolsApi
{
    public static IEndpointRouteBuilder MapPoolsApi(this IEndpointRouteBuilder endpoints)
    {
        var pools = endpoints.MapGroup("/pools").WithTags("Pools").RequireAuthorization(Policies.Read).Audited();
        pools.MapGet("", GetPools)
            .WithName(nameof(GetPools))
            .WithSummary("Every pool with its levels, ordered by pool id.")
            .WithDescription("The levels of every pool known to this instance's read model: available, reserved, issued, loaded, low watermark.");
        pools.MapGet("/{id}", GetPool)
            .WithName(nameof(GetPool))
            .WithSummary("A pool's levels: available, reserved, issued, loaded, low watermark.")
            .WithDescription("isLow is true when available is below the low watermark; issueBlocked counts reservations refused because the pool was empty. "
                + "404 pool-not-found for an unknown id.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public static Ok<PoolListResponse> GetPools(CertificateReadModel model) =>
        TypedResults.Ok(new PoolListResponse(model.GetPools().Select(PoolResponse.From).ToArray()));

    public static Results<Ok<PoolResponse>, ProblemHttpResult> GetPool(string id, CertificateReadModel model, HttpContext context) =>
        model.GetPool(id) is { } pool
            ? TypedResults.Ok(PoolResponse.From(pool))
            : ApiProblems.PoolNotFound(id, context);
}
