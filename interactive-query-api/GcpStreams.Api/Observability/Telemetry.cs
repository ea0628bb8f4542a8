using System.Diagnostics;
using System.Diagnostics.Metrics;
using GcpStreams.Api.ReadModel;
using GcpStreams.Client;
using GcpStreams.Topology;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace GcpStreams.Api.Observability;

/// <summary>
/// Metrics and traces of the service (OpenTelemetry). Metrics: the meters of the topology (<see cref="TopologyMetrics"/>), the
/// read model, the stream (<see cref="StreamMetrics"/>), the pools (<see cref="PoolMetrics"/>), this host's command round trips,
/// ASP.NET Core's request durations and the .NET runtime, scraped by Prometheus at <see cref="MetricsPath"/>. Traces: the HTTP
/// request and its command round trip (<see cref="StartCommand"/>), with the correlation id as an attribute, exported over OTLP
/// only when <c>Telemetry:OtlpEndpoint</c> (or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) is set; otherwise nothing is collected.
/// </summary>
public static class Telemetry
{
    /// <summary>Where Prometheus scrapes (anonymous: counts and pool ids, never a certificate number nor a secret).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The host's own meter and activity source.</summary>
    public const string SourceName = "GcpStreams.Api";

    /// <summary>The span attribute (and metric-free tag) that carries the request's correlation id.</summary>
    public const string CorrelationIdAttribute = "gcp.correlation_id";

    public static readonly ActivitySource ActivitySource = new(SourceName);

    private static readonly Meter Meter = new(SourceName);

    private static readonly Histogram<double> CommandDuration = Meter.CreateHistogram(
        "gcp.command.duration", unit: "s", description: "API command round trip: sent on GiftCertificates.Commands until its reply (or the timeout), by command and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TopologyMetrics.LatencyBuckets });

    /// <summary>The OTLP endpoint traces go to, or null: none configured, nothing exported.</summary>
    public static Uri? OtlpEndpoint(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration["Telemetry:OtlpEndpoint"] is { Length: > 0 } configured ? configured : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        return string.IsNullOrWhiteSpace(value) ? null
            : Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
            : throw new InvalidOperationException($"Telemetry:OtlpEndpoint must be an absolute http(s) URL (got '{value}').");
    }

    public static IServiceCollection AddGcpTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = OtlpEndpoint(configuration);
        services.AddSingleton<ConsumerLagMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsumerLagMonitor>());
        services.AddSingleton<StreamMetrics>();
        services.AddSingleton<PoolMetrics>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("gcp-streams", serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics => metrics
                .AddMeter(TopologyMetrics.MeterName, CertificateReadModel.MeterName, StreamMetrics.MeterName, PoolMetrics.MeterName, SourceName, "System.Runtime")
                .AddAspNetCoreInstrumentation() // http.server.request.duration by route and status
                // three runtime gauges end in _count, which Prometheus reserves for histograms and summaries (promtool check metrics)
                .AddView("dotnet.assembly.count", "dotnet.assemblies")
                .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
                .AddView("dotnet.timer.count", "dotnet.timers")
                .AddPrometheusExporter(o =>
                {
                    o.ScrapeResponseCacheDurationMilliseconds = 0; // every scrape sees the current values
                    o.ScopeInfoEnabled = false; // no otel_scope_* labels on every series
                }));
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(SourceName)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = context => !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments(MetricsPath);
                    o.EnrichWithHttpRequest = (activity, request) => activity.SetTag(CorrelationIdAttribute, Endpoints.CommandCalls.CorrelationId(request.HttpContext));
                })
                .AddOtlpExporter(o => o.Endpoint = otlp));
        }

        return services;
    }

    /// <summary>Serves <see cref="MetricsPath"/> (Prometheus text format) and starts the observers of the stream and the pools.</summary>
    public static WebApplication MapGcpMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        _ = app.Services.GetRequiredService<StreamMetrics>();
        _ = app.Services.GetRequiredService<PoolMetrics>();
        app.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous();
        return app;
    }

    /// <summary>
    /// The span of one command round trip (child of the HTTP request's span): the command's type, its record key and the correlation id;
    /// null when nobody listens (no OTLP endpoint).
    /// </summary>
    public static Activity? StartCommand(object payload, string key, string? correlationId)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var activity = ActivitySource.StartActivity($"command {payload.GetType().Name}", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("gcp.command", payload.GetType().Name);
            activity.SetTag("gcp.command.key", key);
            activity.SetTag(CorrelationIdAttribute, correlationId);
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.destination.name", Topics.Commands.Name);
        }

        return activity;
    }

    /// <summary>Ends a command round trip: its outcome on the span and in <c>gcp_command_duration_seconds{command, outcome}</c>.</summary>
    /// <param name="activity">The span from <see cref="StartCommand"/>, or null.</param>
    /// <param name="payload">The command.</param>
    /// <param name="started">A <see cref="Stopwatch.GetTimestamp"/> taken before sending.</param>
    /// <param name="outcome"><c>accepted</c>, <c>rejected</c>, <c>timeout</c> or <c>not_ready</c>.</param>
    /// <param name="reason">The rejection reason, if any.</param>
    public static void EndCommand(Activity? activity, object payload, long started, string outcome, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        CommandDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("command", CommandName(payload)), new KeyValuePair<string, object?>("outcome", outcome));
        if (activity is not null)
        {
            activity.SetTag("gcp.reply.outcome", outcome);
            if (reason is not null)
            {
                activity.SetTag("gcp.reply.reason", reason);
            }

            if (outcome is "timeout" or "not_ready")
            {
                activity.SetStatus(ActivityStatusCode.Error, outcome);
            }
        }
    }

    /// <summary>The command label: reserve, load_pool, lock, unlock, reveal_cvc (snake case of the payload's type).</summary>
    public static string CommandName(object payload) => payload switch
    {
        Contracts.ReserveCertificate => "reserve",
        Contracts.LoadPool => "load_pool",
        Contracts.LockCertificate => "lock",
        Contracts.UnlockCertificate => "unlock",
        Contracts.RevealCvc => "reveal_cvc",
        _ => payload.GetType().Name.ToLowerInvariant(),
    };
}
