using GcpStreams.Api.Reporting;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Observability;
using GcpStreams.Api.OperatorConsole;
using GcpStreams.Api.Security;
using GcpStreams.SchemaRegistry;
using GcpStreams.SchemaRegistry.Http;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api;

/// <summary>Builds the whole service; <c>Program</c> runs it, integration tests and benchmarks host it with their own settings.</summary>
public static class GcpStreamsApp
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl); // ASPNETCORE_URLS (or --urls) wins when set
        }

        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ApiProblems.Complete); // every problem has detail and instance
        builder.Services.AddGcpJsonBodies();
        builder.Services.AddGcpStreams();
        builder.Services.AddGcpReadModel();
        builder.Services.AddGcpReports(); // this instance's copy of the BI daily reports (GiftCertificates.DailyReport)
        builder.Services.AddGcpCommandClient();
        builder.Services.AddGcpSupportGrants(); // the CVC support grants' validator; in embedded mode their development signer
        builder.Services.AddGcpAudit(); // after the command client: it stops (and drains) first
        builder.Services.AddGcpRateLimits();
        builder.Services.AddGcpOpenApi();
        builder.Services.AddGcpLiveTails(); // Server-Sent Events tails of the stream from the read model (Gcp:LiveTail)
        builder.Services.AddGcpConsole(); // the support and POS console at /console (section Console)
        builder.Services.AddGcpTelemetry(builder.Configuration); // metrics at /metrics; traces over OTLP when Telemetry:OtlpEndpoint is set
        configure?.Invoke(builder);
        builder.Services.AddGcpAuthentication(builder.Configuration); // after configure: it reads Auth:Mode now

        var app = builder.Build();
        WarnOfTheDevelopmentTokenEndpointInCluster(app);
        app.UseGcpSecurityHeaders(); // first: every response, problems of the handlers below included
        app.UseExceptionHandler();
        app.UseGcpConsole(); // the console's static files: public, no data, so before the audit, authentication and rate limits
        app.UseStatusCodePages();
        app.UseMiddleware<AuditMiddleware>(); // before authentication: it records 401s and 403s too
        app.UseTokenEndpointRateLimit(); // per source address, before authentication: the token server answers there
        app.UseAuthentication();
        app.UseAnonymousRateLimit(); // per source address, before authorization answers 401/403
        app.UseAuthorization();
        app.UseRateLimiter(); // after authorization: limits are per authenticated client
        app.MapHealthEndpoints();
        app.MapGcpMetrics(); // GET /metrics, anonymous (Prometheus)
        app.MapDevTokenEndpoint(token => token.Audited()); // embedded auth mode only: POST /connect/token (client credentials)
        app.MapCertificatesApi();
        app.MapPoolsApi();
        app.MapCertificateCommandsApi();
        app.MapPoolCommandsApi();
        app.MapCvcApi();
        app.MapDevSupportTicketsApi(); // embedded mode only: POST /dev/support-tickets mints CVC support grants
        app.MapReportsApi(); // GET /reports/daily: the BI daily marts, JSON or CSV
        app.MapLiveTailApi(); // GET /certificates/{id}/events, /pools/{id}/events: Server-Sent Events from the read model
        app.MapGcpConsole(); // GET /console/config.json: how the console signs in
        app.MapGcpOpenApi(); // GET /openapi/v1.json and Swagger UI at /swagger, anonymous (by default in embedded mode only)
        if (app.Services.GetRequiredService<IOptions<KafkaOptions>>().Value.Mode == KafkaMode.Embedded)
        {
            // other processes encode and decode with the same schema ids through Confluent's REST API
            app.MapSchemaRegistryApi(app.Services.GetRequiredService<InProcessSchemaRegistry>(), EmbeddedStartup.SchemaRegistryPath);
        }

        return app;
    }

    /// <summary>Cluster mode on the development token endpoint (<c>Auth:AllowEmbeddedInCluster</c>, test clusters only) is said at every start.</summary>
    private static void WarnOfTheDevelopmentTokenEndpointInCluster(WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<KafkaOptions>>().Value.Mode == KafkaMode.Cluster
            && app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Mode == AuthMode.Embedded)
        {
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GcpStreams.Api.Security").LogWarning(
                "Kafka:Mode is Cluster and this service issues its own tokens (Auth:Mode=Embedded, Auth:AllowEmbeddedInCluster=true): "
                + "POST {TokenPath} is for test clusters only; production uses Auth:Mode=Authority", GcpAuthenticationExtensions.TokenPath);
        }
    }
}
