using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Hosting;

public static class HealthEndpoints
{
    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: the stream is RUNNING (else 503 with Retry-After).</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var health = endpoints.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", () => TypedResults.Ok(new HealthStatus("alive", null)));
        health.MapGet("/ready", Ready);
        return endpoints;
    }

    private static Results<Ok<HealthStatus>, ProblemHttpResult> Ready(StreamService stream, HttpContext context)
    {
        if (stream.State == ServiceState.Running)
        {
            return TypedResults.Ok(new HealthStatus("ready", stream.State.ToString()));
        }

        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: $"The stream is {stream.State}; the service answers once it is Running.",
            type: "https://gcpstreams.dev/problems/not-ready");
    }
}

public sealed record HealthStatus(string Status, string? Stream);
