using System.Net;
using System.Text.Json;
using GcpStreams.Api.Reporting;
using GcpStreams.Client;
using GcpStreams.Domain.Reporting;
using GcpStreams.Traffic;
using Microsoft.Extensions.DependencyInjection;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// <c>GET /reports/daily</c> against the whole service on the embedded broker: a certificate sold, its day's mart read as JSON and
/// CSV with a real token of the dev client <c>bi</c>; 401 without a token, 403 without <c>gc.report</c>, 400 problems for a bad query.
/// </summary>
[NonParallelizable]
public class ReportsApiIntegrationTests
{
    private const string PoolId = "it-report-pos-2500";
    private const string OrderId = "order-it-report-1";
    private const long Nominal = 250_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceInstance service = null!;
    private ApiClient api = null!;
    private string day = null!;
    private string biToken = null!;

    [OneTimeSetUp]
    public async Task StartServiceAndSellOneCertificate()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-report");
        api = new ApiClient(service.Url);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var view = service.Services.GetRequiredService<DailyReportView>();
        await view.WhenCaughtUp.WaitAsync(Timeout, cancel.Token);

        await using var shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        var load = await shop.SendCommandAsync(PoolId, Pools.Load(PoolId, C.Channel.POS, Nominal, count: 5, series: 12), Timeout, cancel.Token);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        var reserved = await shop.SendCommandAsync(PoolId, Pools.Reserve(PoolId, C.Channel.POS, Nominal, OrderId), Timeout, cancel.Token);
        Assert.That(reserved.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reserved.message);
        var issued = shop.WaitForEventAsync(reserved.certificateId, "certificate.issued", Timeout, cancel.Token);
        await shop.ProduceAsync(Topics.SalesOrders, OrderId, Pools.PaidOrder(OrderId, reserved.certificateId, PoolId, C.Channel.POS, Nominal), cancel.Token);
        var occurredAt = new DateTimeOffset(DateTime.SpecifyKind((await issued).occurredAt, DateTimeKind.Utc));
        day = BusinessDay.Format(BusinessDay.Of(occurredAt, TimeZoneInfo.FindSystemTimeZoneById(ReportSettings.DefaultTimeZoneId)));

        // the mart is visible once the view read it: a bounded wait on the view, no fixed sleep
        Assert.That(await view.WaitForAsync(v => v.Get(day, C.Channel.POS) is { IssuedCount: 1 }, Timeout, cancel.Token), Is.True, "the day's mart reached the view");
        biToken = await api.TokenAsync("bi");
    }

    [OneTimeTearDown]
    public async Task StopService()
    {
        api?.Dispose();
        if (service is not null)
        {
            await service.DisposeAsync();
        }
    }

    [Test]
    public async Task DailyReport_AsJson_WithTheBiClientsToken_ShowsTheDaysIssueAndLiability()
    {
        var (status, body, _) = await api.CallAsync(HttpMethod.Get, $"/reports/daily?from={day}&to={day}&channel=POS", biToken);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body?.ToString());
        var report = body!.Value.GetProperty("days").EnumerateArray().Single();
        Assert.That(report.GetProperty("day").GetString(), Is.EqualTo(day));
        Assert.That(report.GetProperty("channel").GetString(), Is.EqualTo("POS"));
        Assert.That(report.GetProperty("issuedCount").GetInt64(), Is.EqualTo(1));
        Assert.That(report.GetProperty("issuedMinor").GetInt64(), Is.EqualTo(Nominal));
        Assert.That(report.GetProperty("liabilityMinor").GetInt64(), Is.EqualTo(Nominal));
        Assert.That(report.GetProperty("ordersCertificatesCount").GetInt64(), Is.EqualTo(1));
        Assert.That(report.GetProperty("timeZone").GetString(), Is.EqualTo("Europe/Moscow"));
        Assert.That(report.GetProperty("final").GetBoolean(), Is.False, "today is not final yet");
    }

    [Test]
    public async Task DailyReport_AsCsv_WhenAcceptIsTextCsv_HasAHeaderAndOneLinePerDayAndChannel()
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/reports/daily?from={day}&to={day}", biToken, headers: new Dictionary<string, string> { ["Accept"] = "text/csv" });
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/csv"));
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.That(header[..3], Is.EqualTo(new[] { "day", "channel", "final" }));
        var pos = lines.Skip(1).Select(l => l.Split(',')).Single(f => f[1] == "POS");
        Assert.That(pos[0], Is.EqualTo(day));
        Assert.That(pos[Array.IndexOf(header, "issuedCount")], Is.EqualTo("1"));
        Assert.That(pos[Array.IndexOf(header, "liabilityMinor")], Is.EqualTo(Nominal.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task DailyReport_WithoutAToken_Is401_AndWithoutTheReportScope_Is403()
    {
        using var anonymous = await api.SendAsync(HttpMethod.Get, $"/reports/daily?from={day}&to={day}", token: null);
        using var wrongScope = await api.SendAsync(HttpMethod.Get, $"/reports/daily?from={day}&to={day}", await api.TokenAsync("support"));

        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(anonymous.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(wrongScope.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(wrongScope.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [TestCase("to=2026-11-27", "from", "'from' is required")]
    [TestCase("from=2026-13-01&to=2026-11-27", "from", "'2026-13-01' is not a day as yyyy-MM-dd")]
    [TestCase("from=2026-11-27&to=2026-11-26", "to", "'to' (2026-11-26) is before 'from' (2026-11-27)")]
    [TestCase("from=2025-01-01&to=2026-11-27", "to", "at most 366 may be asked")]
    [TestCase("from=2026-11-27&to=2026-11-27&channel=SHOP", "channel", "'SHOP' is not a channel")]
    public async Task DailyReport_WithABadQuery_Is400_NamingTheParameter(string query, string parameter, string detail)
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/reports/daily?" + query, biToken);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-parameter");
        Assert.That(problem.GetProperty("parameter").GetString(), Is.EqualTo(parameter));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(detail));
    }

    [TestCase("ReportTimeZone", "Gcp:ReportTimeZone 'Mars/Olympus' is not a time zone of this machine (an IANA id such as Europe/Moscow).")]
    [TestCase("ReportGraceMinutes", "Gcp:ReportGraceMinutes")]
    [TestCase("ReconciliationToleranceMinutes", "Gcp:ReconciliationToleranceMinutes")]
    public void ReportSettings_OutOfRange_StopTheStart_NamingTheSetting(string setting, string message)
    {
        var options = new Api.Hosting.GcpOptions();
        switch (setting)
        {
            case "ReportTimeZone":
                options.ReportTimeZone = "Mars/Olympus";
                break;
            case "ReportGraceMinutes":
                options.ReportGraceMinutes = -1;
                break;
            default:
                options.ReconciliationToleranceMinutes = 0;
                break;
        }

        var failures = new Api.Hosting.GcpOptionsValidation(Microsoft.Extensions.Options.Options.Create(new Api.Hosting.KafkaOptions())).Validate(null, options).Failures;

        Assert.That(failures, Has.One.StartsWith(message));
        var defaults = new Api.Hosting.GcpOptionsValidation(Microsoft.Extensions.Options.Options.Create(new Api.Hosting.KafkaOptions())).Validate(null, new Api.Hosting.GcpOptions()).Failures ?? [];
        Assert.That(defaults, Has.None.Contains("Report").And.None.Contains("Reconciliation"), "the defaults are valid");
    }
}
