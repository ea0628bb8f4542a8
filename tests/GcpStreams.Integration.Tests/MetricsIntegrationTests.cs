using System.Diagnostics;
using Confluent.Kafka;
using GcpStreams.Api.Observability;
using GcpStreams.Client;
using GcpStreams.Deployment.Tests;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The real <c>/metrics</c> of the service after some traffic (a pool load, reservations until the pool is empty, a bad payment
/// record): it passes <c>promtool check metrics</c>, its counters moved, and it holds every metric the chart's PrometheusRule and
/// Grafana dashboard read, so neither can name a metric the service does not expose.
/// </summary>
[NonParallelizable]
public class MetricsIntegrationTests
{
    private static readonly TimeSpan Timeout = Kafka.Timeout;

    [Test]
    public async Task TheScrape_PassesPromtool_MovesWithTraffic_AndHasEveryMetricOfTheAlertsAndTheDashboard()
    {
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-metrics", new Dictionary<string, string?>
        {
            // the embedded broker keeps no transactional offset commits: the consumer lag shows only at least once there
            ["Kafka:ProcessingGuarantee"] = "AtLeastOnce",
            ["Telemetry:ConsumerLagIntervalSeconds"] = "0.5",
        });
        using var api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);

        // traffic: a pool of one certificate, two reservations (the second finds it empty), a record that cannot be decoded
        const string pool = "metrics-pool";
        var load = await service.Commands.SendAsync(pool, Pools.Load(pool, C.Channel.POS, 100_00, 1, 77), "admin", "metrics-load", null, Timeout);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        Assert.That(await service.ReadModel.WaitForEventAsync(load.eventId, Timeout), Is.True);
        var token = await api.TokenAsync("pos-terminal");
        var reserve = $"{{\"poolId\":\"{pool}\",\"channel\":\"POS\",\"nominalMinor\":10000,\"currency\":\"RUB\"}}";
        using (var first = await api.SendAsync(HttpMethod.Post, "/certificates/next", token, reserve, new Dictionary<string, string> { ["Idempotency-Key"] = "m1" }))
        using (var second = await api.SendAsync(HttpMethod.Post, "/certificates/next", token, reserve, new Dictionary<string, string> { ["Idempotency-Key"] = "m2" }))
        {
            Assert.That((int)first.StatusCode, Is.EqualTo(201), await first.Content.ReadAsStringAsync());
            Assert.That((int)second.StatusCode, Is.EqualTo(409), "the pool is empty");
        }

        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = service.Kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(Topics.Payments.Name, new Message<byte[], byte[]> { Key = "bad"u8.ToArray(), Value = "not avro"u8.ToArray() });
        }

        var manifests = Chart.Render("prod");
        var required = Chart.Alerts(manifests).SelectMany(a => Chart.MetricNames(a.Expression))
            .Concat(Chart.DashboardExpressions(Chart.Dashboard(manifests)).SelectMany(Chart.MetricNames))
            .ToHashSet(StringComparer.Ordinal);
        Assert.That(required, Has.Count.GreaterThan(10), "the expressions were read");

        using var http = new HttpClient { BaseAddress = new Uri(service.Url) };
        var scrape = string.Empty;
        await Kafka.Eventually(() =>
        {
            scrape = http.GetStringAsync(new Uri(Telemetry.MetricsPath, UriKind.Relative)).GetAwaiter().GetResult();
            return required.IsSubsetOf(Names(scrape)) && scrape.Contains("gcp_dead_letters_total{", StringComparison.Ordinal);
        }, "every metric of the alerts and the dashboard on /metrics", Timeout);

        var (code, output, error) = Chart.Run(Chart.Promtool, ["check", "metrics"], scrape);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, $"promtool check metrics: {output}{error}");
            Assert.That(output + error, Is.Empty, "no lint finding");
            Assert.That(Value(scrape, "gcp_dead_letters_total", "reason=\"UNDECODABLE\"", "source_topic=\"All_Payments\""), Is.EqualTo(1));
            Assert.That(Value(scrape, "gcp_alerts_total", "kind=\"INVALID_EVENT\""), Is.GreaterThanOrEqualTo(1));
            Assert.That(Value(scrape, "gcp_decisions_total", "outcome=\"rejected\"", "reason=\"POOL_EMPTY\"", "subtopology=\"pool-processor\""), Is.EqualTo(1));
            Assert.That(Value(scrape, "gcp_events_total", "event_type=\"certificate.reserved\""), Is.EqualTo(1));
            Assert.That(Value(scrape, "gcp_pool_issue_blocked_total", $"pool=\"{pool}\""), Is.EqualTo(1));
            Assert.That(Value(scrape, "gcp_pool_available_certificates", $"pool=\"{pool}\""), Is.Zero);
            Assert.That(Value(scrape, "gcp_stream_state", "state=\"Running\""), Is.EqualTo(1));
            Assert.That(Value(scrape, "gcp_command_duration_seconds_count", "command=\"reserve\"", "outcome=\"accepted\""), Is.EqualTo(1));
            Assert.That(Value(scrape, "http_server_request_duration_seconds_count", "http_route=\"/certificates/next\"", "http_response_status_code=\"409\""), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ACommandCall_IsOneSpanUnderItsHttpRequest_WithTheCorrelationId()
    {
        var spans = new List<Activity>();
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-traces", services: s =>
            s.AddOpenTelemetry().WithTracing(t => t.AddSource(Telemetry.SourceName).AddAspNetCoreInstrumentation().AddInMemoryExporter(spans)));
        using var api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        var load = await service.Commands.SendAsync("trace-pool", Pools.Load("trace-pool", C.Channel.POS, 100_00, 1, 78), "admin", "trace-load", null, Timeout);
        Assert.That(await service.ReadModel.WaitForEventAsync(load.eventId, Timeout), Is.True);
        var token = await api.TokenAsync("pos-terminal");
        using var response = await api.SendAsync(HttpMethod.Post, "/certificates/next", token, "{\"poolId\":\"trace-pool\",\"channel\":\"POS\",\"nominalMinor\":10000,\"currency\":\"RUB\"}",
            new Dictionary<string, string> { ["X-Correlation-Id"] = "trace-me-42", ["Idempotency-Key"] = "t1" });
        Assert.That((int)response.StatusCode, Is.EqualTo(201), await response.Content.ReadAsStringAsync());
        await Kafka.Eventually(() => { lock (spans) { return spans.Any(s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("/certificates/next", StringComparison.Ordinal)); } },
            "the HTTP span to end", Timeout);
        lock (spans)
        {
            var command = spans.Single(s => s.Source.Name == Telemetry.SourceName);
            var request = spans.Single(s => s.Kind == ActivityKind.Server && s.DisplayName.Contains("/certificates/next", StringComparison.Ordinal));
            Assert.Multiple(() =>
            {
                Assert.That(command.DisplayName, Is.EqualTo("command ReserveCertificate"));
                Assert.That(command.ParentSpanId, Is.EqualTo(request.SpanId), "HTTP -> command");
                Assert.That(command.TraceId, Is.EqualTo(request.TraceId));
                Assert.That(command.GetTagItem(Telemetry.CorrelationIdAttribute), Is.EqualTo("trace-me-42"));
                Assert.That(command.GetTagItem("gcp.reply.outcome"), Is.EqualTo("accepted"), "the reply's outcome");
            });
        }
    }

    [Test]
    public void TelemetryOtlpEndpoint_IsOptional_AndMustBeAnHttpUrl()
    {
        static IConfiguration Config(string? value) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Telemetry:OtlpEndpoint"] = value }).Build();
        Assert.Multiple(() =>
        {
            Assert.That(Telemetry.OtlpEndpoint(Config(null)), Is.Null, "no endpoint: no exporter, nothing collected");
            Assert.That(Telemetry.OtlpEndpoint(Config("http://otel:4317")), Is.EqualTo(new Uri("http://otel:4317")));
            Assert.That(() => Telemetry.OtlpEndpoint(Config("otel:4317")), Throws.InvalidOperationException.With.Message.Contains("Telemetry:OtlpEndpoint"));
        });
    }

    private static HashSet<string> Names(string scrape) =>
        scrape.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.IndexOfAny(['{', ' '])]).ToHashSet(StringComparer.Ordinal);

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Value(string scrape, string name, params string[] labels) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(x => l.Contains(x, StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
}
