using GcpStreams.Api.Endpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using CheckStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;

namespace GcpStreams.Api.Hosting;

public static class HealthEndpoints
{
    /// <summary>
    /// <c>/health/live</c>: the process answers, unless the stream supervisor gave up on a stuck stream (503: the orchestrator
    /// restarts the pod). <c>/health/ready</c>: the readiness health checks (<see cref="ReadinessChecks"/>)
    /// pass — the stream is RUNNING, the read model has read the start-up backlog, the command channel is open and, in embedded
    /// mode, every demo pool shows in the read model with its levels, and the stream never failed to write a record (else 503 with
    /// Retry-After and the reason; a failed write names its topic and error, and lasts until the instance is restarted).
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var health = endpoints.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", Live)
            .WithName("Live")
            .WithSummary("Liveness: the process answers and its stream is not stuck beyond repair.")
            .WithDescription("200 {\"status\":\"alive\"}; 503 once the stream supervisor gave up (the stream threads made no progress "
                + "for Kafka:StreamStallSeconds after Kafka:StreamStallRestarts restarts in a row), with the reason: the instance needs a restart. Anonymous.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        health.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("Readiness: the stream is RUNNING, the read model caught up, the command channel is open and the demo pools (embedded mode) are visible.")
            .WithDescription("200 {\"status\":\"ready\",\"stream\":\"Running\",\"readModel\":\"CaughtUp\"}: every endpoint works, and in embedded mode "
                + "GET /pools lists every demo pool with its levels. Otherwise 503 not-ready with Retry-After: 5, a detail saying why and the extensions "
                + "stream and readModel; once the stream could not write a record it stays 503 until restarted, naming the topic and the error "
                + "(extension productionFailure). Anonymous.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    /// <summary>Alive unless the stream supervisor gave up on the stream (<see cref="StreamSupervisor"/>).</summary>
    private static Results<Ok<HealthStatus>, ProblemHttpResult> Live(StreamSupervisor supervisor, HttpContext context) =>
        supervisor.GaveUp is not { } reason
            ? TypedResults.Ok(new HealthStatus("alive", null, null))
            : TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Not alive",
                detail: $"The stream supervisor gave up: {reason}.",
                type: ApiProblems.NotReadyType,
                instance: context.Request.Path);

    /// <summary>Runs the readiness checks (<see cref="ReadinessChecks"/>) and answers with the first failing one's reason.</summary>
    private static async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> Ready(HealthCheckService health, HttpContext context)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadinessChecks.Tag), context.RequestAborted);
        var data = report.Entries.Values.SelectMany(e => e.Data).ToDictionary(d => d.Key, d => (object?)d.Value, StringComparer.Ordinal);
        var stream = data.GetValueOrDefault(ReadinessChecks.StreamKey) as string;
        var readModel = data.GetValueOrDefault(ReadinessChecks.ReadModelKey) as string;
        if (report.Status == CheckStatus.Healthy)
        {
            return TypedResults.Ok(new HealthStatus("ready", stream, readModel));
        }

        var reason = ReadinessChecks.Order.Select(name => report.Entries.GetValueOrDefault(name)).First(e => e.Status != CheckStatus.Healthy).Description;
        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: reason,
            type: ApiProblems.NotReadyType,
            instance: context.Request.Path,
            extensions: data);
    }
}

/// <summary>The health answer: overall status, the stream's state and the read model's (null on <c>/health/live</c>).</summary>
public sealed record HealthStatus(string Status, string? Stream, string? ReadModel);
