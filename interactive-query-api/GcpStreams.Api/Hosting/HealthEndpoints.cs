using GcpStreams.Api.Endpoints;
using GcpStreams.Api.ReadModel;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Hosting;

public static class HealthEndpoints
{
    /// <summary>
    /// <c>/health/live</c>: the process answers. <c>/health/ready</c>: the stream is RUNNING, the read model has read
    /// the start-up backlog, the command channel is open and, in embedded mode, every demo pool shows in the read model
    /// with its levels, and the stream never failed to write a record (else 503 with Retry-After and the reason; a failed
    /// write names its topic and error, and lasts until the instance is restarted).
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var health = endpoints.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", () => TypedResults.Ok(new HealthStatus("alive", null, null)))
            .WithName("Live")
            .WithSummary("Liveness: the process answers.")
            .WithDescription("Always 200 {\"status\":\"alive\"}; anonymous.");
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

    private static Results<Ok<HealthStatus>, ProblemHttpResult> Ready(
        StreamService stream, CertificateReadModel readModel, CommandClient commands, EmbeddedStartup startup, ProductionFailures productionFailures, HttpContext context)
    {
        var readModelState = ReadModelState(readModel);
        var demoPools = startup.WhenDemoPoolsVisible;
        var failed = productionFailures.First;
        if (failed is null && stream.State == ServiceState.Running && readModel.IsCaughtUp && commands.IsOpen && demoPools.IsCompletedSuccessfully)
        {
            return TypedResults.Ok(new HealthStatus("ready", stream.State.ToString(), readModelState));
        }

        var extensions = new Dictionary<string, object?> { ["stream"] = stream.State.ToString(), ["readModel"] = readModelState };
        if (failed is not null)
        {
            extensions["productionFailure"] = failed;
        }

        var detail = failed is not null
            ? $"The stream could not write a record to {failed.Topic} (partition {failed.Partition}): {failed.Reason} ({failed.Error}). Its task stopped there, so the "
                + "commands and events of its keys are not processed; fix the cause (e.g. the topic's max.message.bytes or Kafka:Settings:message.max.bytes) and restart the instance."
            : stream.State != ServiceState.Running
            ? $"The stream is {stream.State}; the service answers once it is Running and the read model has caught up."
            : readModel.WhenCaughtUp.IsFaulted
                ? $"The stream is Running but the read model failed: {readModel.WhenCaughtUp.Exception?.GetBaseException().Message}"
                : !readModel.IsCaughtUp
                    ? "The stream is Running; the read model is still reading GiftCertificates.State and GiftCertificates.Stream up to their end offsets."
                    : !commands.IsOpen
                        ? "The stream is Running and the read model caught up; the command channel (GiftCertificates.Replies) is still opening."
                        : demoPools.IsFaulted
                            ? $"The demo pools (Gcp:DemoPools) could not be loaded: {demoPools.Exception?.GetBaseException().Message}"
                            : "The stream is Running, the read model caught up and the command channel is open; the demo pools (Gcp:DemoPools) are "
                                + "being loaded: ready once GET /pools shows every one.";
        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: detail,
            type: ApiProblems.NotReadyType,
            instance: context.Request.Path,
            extensions: extensions);
    }

    private static string ReadModelState(CertificateReadModel readModel) =>
        readModel.IsCaughtUp ? "CaughtUp"
        : readModel.WhenCaughtUp.IsFaulted ? "Failed"
        : readModel.WhenCaughtUp.IsCanceled ? "Stopped"
        : "CatchingUp";
}

/// <summary>The health answer: overall status, the stream's state and the read model's (null on <c>/health/live</c>).</summary>
public sealed record HealthStatus(string Status, string? Stream, string? ReadModel);
