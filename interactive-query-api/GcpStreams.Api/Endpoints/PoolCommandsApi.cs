using System.Globalization;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using GcpStreams.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// <c>POST /pools/{id}/certificates</c>: create a pool or add certificates to it (generated numbers of the pool's series, or
/// imported numbers), as a <c>LoadPool</c> command decided by the pool's owner in the topology. Requires <c>gc.admin</c>.
/// </summary>
public static class PoolCommandsApi
{
    public const string SeriesInUseType = "https://gcpstreams.dev/problems/series-in-use";

    /// <summary>The most certificates one call may add (the topology's load batch); larger loads are several calls.</summary>
    public const int MaxLoadCount = Domain.Pools.PoolSettings.DefaultMaxLoadBatch;

    public static IEndpointRouteBuilder MapPoolCommandsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/pools").WithTags("Pools").Audited()
            .MapPost("/{id}/certificates", LoadPool)
            .RequireAuthorization(Policies.Admin)
            .RequireRateLimiting(RateLimits.Writes)
            .WithName(nameof(LoadPool))
            .AcceptsJsonBody<LoadRequest>()
            .WithSummary("Create a pool or add certificates to it: count generated numbers of the pool's series, or the importedNumbers given.")
            .WithDescription("201 with the pool's levels after the load; 200 when an Idempotency-Key replays an earlier load (nothing is added again). "
                + "400 invalid-field (extension field) or invalid-parameter (the pool id); 409 series-in-use (another pool has this series), or command-rejected (POOL_MISMATCH: the pool holds another channel, "
                + "nominal or currency; ALREADY_EXISTS: an imported number repeats); 422 idempotency-conflict, or command-rejected (INVALID_AMOUNT, e.g. no series "
                + "for a new pool); 503 while the command channel opens; 504 on no reply (retry with the same key).")
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status422UnprocessableEntity, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        return endpoints;
    }

    public static async Task<Results<Created<PoolResponse>, Ok<PoolResponse>, ProblemHttpResult>> LoadPool(
        string id,
        JsonBody<LoadRequest> request,
        [FromHeader(Name = CommandCalls.IdempotencyKeyHeader)] string? idempotencyKey,
        CommandClient commands,
        CertificateReadModel model,
        HttpContext context)
    {
        if (Validate(id, request.Value, idempotencyKey, context, out var payload) is { } invalid)
        {
            return invalid;
        }

        // a series belongs to one pool: two pools of one series would generate the same certificate numbers. Checked against
        // this instance's read model (a guard against mistakes, not a lock: two loads racing on one series both pass it).
        if (payload.series is { } series && model.GetPools().FirstOrDefault(p => p.Series == series && p.PoolId != id) is { } owner)
        {
            return ApiProblems.Rejected(StatusCodes.Status409Conflict, SeriesInUseType, "The number series belongs to another pool", "SERIES_IN_USE",
                $"series {series} is pool {owner.PoolId}'s: give this pool a series no other pool uses (0-{CertificateNumber.MaxSeries}).", context,
                new() { ["poolId"] = id, ["series"] = series, ["seriesPoolId"] = owner.PoolId });
        }

        var (reply, failed) = await CommandCalls.SendAsync(commands, id, payload, context, idempotencyKey);
        if (failed is not null)
        {
            return failed;
        }

        if (reply!.outcome != C.ReplyOutcome.ACCEPTED)
        {
            var reason = reply.reason ?? "UNKNOWN";
            var extensions = new Dictionary<string, object?> { ["poolId"] = id };
            return reason switch
            {
                nameof(C.RejectionReason.IDEMPOTENCY_CONFLICT) => ApiProblems.Rejected(
                    StatusCodes.Status422UnprocessableEntity, ApiProblems.IdempotencyConflictType, "Idempotency-Key reused with another request", reason, reply.message, context, extensions),
                nameof(C.RejectionReason.POOL_MISMATCH) or nameof(C.RejectionReason.ALREADY_EXISTS) => ApiProblems.Rejected(
                    StatusCodes.Status409Conflict, ApiProblems.CommandRejectedType, "The pool refused the load", reason, reply.message, context, extensions),
                _ => ApiProblems.Rejected(StatusCodes.Status422UnprocessableEntity, ApiProblems.CommandRejectedType, "The pool refused the load", reason, reply.message, context, extensions),
            };
        }

        await model.WaitForEventAsync(reply.eventId, CertificateCommandsApi.ReadYourWritesTimeout, cancellationToken: context.RequestAborted);
        if (model.GetPool(id) is not { } pool)
        {
            return ApiProblems.PoolNotFound(id, context); // only if the read model has not seen the load within the wait
        }

        var levels = PoolResponse.From(pool);
        return reply.replayed ? TypedResults.Ok(levels) : TypedResults.Created($"/pools/{Uri.EscapeDataString(id)}", levels);
    }

    private static ProblemHttpResult? Validate(string poolId, LoadRequest? request, string? idempotencyKey, HttpContext context, out C.LoadPool payload)
    {
        payload = null!;
        if (!CommandCalls.PoolIdFormat().IsMatch(poolId))
        {
            return ApiProblems.InvalidParameter("id", "The pool id in the path must be 1 to 64 letters, digits, '.', '_' or '-'.", context);
        }

        if (request is null)
        {
            return ApiProblems.InvalidField("body", "A JSON body {channel, nominalMinor, currency, count | importedNumbers, lowWatermark?, series?} is required.", context);
        }

        if (CommandCalls.ValidatePoolTerms(request.Channel, request.NominalMinor, request.Currency, context, out var channel, out var nominal) is { } badTerms)
        {
            return badTerms;
        }

        var imported = request.ImportedNumbers ?? [];
        if (imported.Count > 0 && request.Count is not null)
        {
            return ApiProblems.InvalidField("count", "give either count (generate numbers) or importedNumbers (import them), not both.", context);
        }

        if (imported.Count == 0 && request.Count is not (> 0 and <= MaxLoadCount))
        {
            return ApiProblems.InvalidField("count", $"count must be from 1 to {MaxLoadCount} (got {request.Count?.ToString(CultureInfo.InvariantCulture) ?? "none"}), or give importedNumbers.", context);
        }

        if (imported.Count > MaxLoadCount)
        {
            return ApiProblems.InvalidField("importedNumbers", $"one load imports at most {MaxLoadCount} numbers (got {imported.Count}); split it into several loads.", context);
        }

        if (imported.FirstOrDefault(n => !CertificateNumber.IsValid(n)) is { } bad)
        {
            return ApiProblems.InvalidField("importedNumbers", $"'{bad}' is not a certificate number: 16 digits, prefix {CertificateNumber.Prefix}, a Luhn check digit.", context);
        }

        if (request.LowWatermark is < 0)
        {
            return ApiProblems.InvalidField("lowWatermark", $"lowWatermark must not be negative (got {request.LowWatermark}).", context);
        }

        if (request.Series is < 0 or > CertificateNumber.MaxSeries)
        {
            return ApiProblems.InvalidField("series", $"series must be from 0 to {CertificateNumber.MaxSeries} (got {request.Series}).", context);
        }

        if (CommandCalls.ValidateIdempotencyKey(idempotencyKey, context) is { } badKey)
        {
            return badKey;
        }

        payload = new C.LoadPool
        {
            poolId = poolId,
            channel = channel,
            nominalMinor = nominal,
            currency = request.Currency,
            count = imported.Count > 0 ? imported.Count : request.Count!.Value,
            lowWatermark = request.LowWatermark ?? 0,
            series = request.Series,
            importedNumbers = [.. imported],
        };
        return null;
    }
}

/// <summary>
/// The body of <c>POST /pools/{id}/certificates</c>. Give <see cref="Count"/> to generate numbers in the pool's
/// <see cref="Series"/> (required on a pool's first generating load), or <see cref="ImportedNumbers"/> to import them.
/// The low-watermark of an existing pool is kept.
/// </summary>
public sealed record LoadRequest(string? Channel, long? NominalMinor, string? Currency, int? Count, int? LowWatermark, int? Series, IReadOnlyList<string>? ImportedNumbers);
