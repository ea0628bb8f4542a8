using GcpStreams.Api.ReadModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// What <c>/health/ready</c> checks, as ASP.NET health checks (tag <see cref="Tag"/>), in the order their reasons are given when
/// more than one fails: the stream never failed to write a record, the stream is RUNNING, the read model caught up, the command
/// channel is open, and (embedded mode) every demo pool is visible.
/// </summary>
public static class ReadinessChecks
{
    /// <summary>The tag of the checks <c>/health/ready</c> runs.</summary>
    public const string Tag = "ready";

    /// <summary>The checks' names, in the order their reasons are given.</summary>
    public static readonly IReadOnlyList<string> Order = ["production", "stream", "read-model", "command-channel", "demo-pools"];

    /// <summary>The state of the stream and the read model, and the failed write if any: every check's data carries them.</summary>
    public const string StreamKey = "stream";
    public const string ReadModelKey = "readModel";
    public const string ProductionFailureKey = "productionFailure";

    public static IServiceCollection AddReadinessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<NoProductionFailure>(Order[0], tags: [Tag])
            .AddCheck<StreamRunning>(Order[1], tags: [Tag])
            .AddCheck<ReadModelCaughtUp>(Order[2], tags: [Tag])
            .AddCheck<CommandChannelOpen>(Order[3], tags: [Tag])
            .AddCheck<DemoPoolsVisible>(Order[4], tags: [Tag]);
        return services;
    }

    /// <summary>The read model's state as <c>/health/ready</c> names it.</summary>
    public static string ReadModelState(CertificateReadModel readModel) =>
        readModel.IsCaughtUp ? "CaughtUp"
        : readModel.WhenCaughtUp.IsFaulted ? "Failed"
        : readModel.WhenCaughtUp.IsCanceled ? "Stopped"
        : "CatchingUp";

    private static Task<HealthCheckResult> Result(bool healthy, string reason, IReadOnlyDictionary<string, object>? data = null) =>
        Task.FromResult(healthy ? HealthCheckResult.Healthy(data: data) : HealthCheckResult.Unhealthy(reason, data: data));

    /// <summary>Once the stream could not write a record, the instance is not ready until it is restarted.</summary>
    private sealed class NoProductionFailure(ProductionFailures failures) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            failures.First is not { } failed
                ? Result(true, string.Empty)
                : Result(false,
                    $"The stream could not write a record to {failed.Topic} (partition {failed.Partition}): {failed.Reason} ({failed.Error}). Its task stopped there, so the "
                    + "commands and events of its keys are not processed; fix the cause (e.g. the topic's max.message.bytes or Kafka:Settings:message.max.bytes) and restart the instance.",
                    new Dictionary<string, object> { [ProductionFailureKey] = failed });
    }

    private sealed class StreamRunning(StreamService stream) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Result(stream.State == ServiceState.Running && stream.Supervisor.GaveUp is null,
                stream.Supervisor.GaveUp is { } reason
                    ? $"The stream supervisor gave up: {reason}."
                    : $"The stream is {stream.State}; the service answers once it is Running and the read model has caught up.",
                new Dictionary<string, object> { [StreamKey] = stream.State.ToString() });
    }

    private sealed class ReadModelCaughtUp(CertificateReadModel readModel) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Result(readModel.IsCaughtUp,
                readModel.WhenCaughtUp.IsFaulted
                    ? $"The stream is Running but the read model failed: {readModel.WhenCaughtUp.Exception?.GetBaseException().Message}"
                    : "The stream is Running; the read model is still reading GiftCertificates.State and GiftCertificates.Stream up to their end offsets.",
                new Dictionary<string, object> { [ReadModelKey] = ReadModelState(readModel) });
    }

    private sealed class CommandChannelOpen(CommandClient commands) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Result(commands.IsOpen, "The stream is Running and the read model caught up; the command channel (GiftCertificates.Replies) is still opening.");
    }

    private sealed class DemoPoolsVisible(EmbeddedStartup startup) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var demoPools = startup.WhenDemoPoolsVisible;
            return Result(demoPools.IsCompletedSuccessfully,
                demoPools.IsFaulted
                    ? $"The demo pools (Gcp:DemoPools) could not be loaded: {demoPools.Exception?.GetBaseException().Message}"
                    : "The stream is Running, the read model caught up and the command channel is open; the demo pools (Gcp:DemoPools) are "
                        + "being loaded: ready once GET /pools shows every one.");
        }
    }
}
