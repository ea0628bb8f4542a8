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
    private string controlDay = null!;
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

        // an undecodable payment: dead-lettered, counted in the control of its day (the record's timestamp: now, in Moscow)
        using (var raw = new Confluent.Kafka.ProducerBuilder<byte[], byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = service.Kafka.BootstrapServers }).Build())
        {
            var at = DateTimeOffset.UtcNow;
            await raw.ProduceAsync(Topics.Payments.Name, new Confluent.Kafka.Message<byte[], byte[]>
            {
                Key = "pay-it-garbage"u8.ToArray(), Value = [0xFF, 1, 2], Timestamp = new Confluent.Kafka.Timestamp(at),
            }, cancel.Token);
            controlDay = BusinessDay.Format(BusinessDay.Of(at, TimeZoneInfo.FindSystemTimeZoneById(ReportSettings.DefaultTimeZoneId)));
        }

        // the mart is visible once the view read it: a bounded wait on the view, no fixed sleep
        Assert.That(await view.WaitForAsync(v => v.Get(day, C.Channel.POS) is { IssuedCount: 1 }, Timeout, cancel.Token), Is.True, "the day's mart reached the view");
        Assert.That(await view.WaitForAsync(v => v.Get(controlDay, C.Channel.UNKNOWN) is { } control && control.DeadLetters.Any(d => d.SourceTopic == Topics.Payments.Name),
            Timeout, cancel.Token), Is.True, "the dead letter reached the day's control record");
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
        var rub = report.GetProperty("currencies").EnumerateArray().Single();
        Assert.That(rub.GetProperty("currency").GetString(), Is.EqualTo("RUB"));
        Assert.That((rub.GetProperty("issuedMinor").GetInt64(), rub.GetProperty("liabilityMinor").GetInt64()), Is.EqualTo((Nominal, Nominal)));
        Assert.That(rub.GetProperty("reconciliationMismatches").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task DailyReport_Control_ShowsTheDaysDeadLettersBySourceTopicAndReason_AndTheAlertsByKind()
    {
        var (status, body, _) = await api.CallAsync(HttpMethod.Get, $"/reports/daily?from={controlDay}&to={controlDay}", biToken);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body?.ToString());
        var control = body!.Value.GetProperty("control").EnumerateArray().Single();
        Assert.That(control.GetProperty("day").GetString(), Is.EqualTo(controlDay));
        var letter = control.GetProperty("deadLetters").EnumerateArray().Single(d => d.GetProperty("sourceTopic").GetString() == Topics.Payments.Name);
        Assert.That((letter.GetProperty("reason").GetString(), letter.GetProperty("count").GetInt64()), Is.EqualTo(("UNDECODABLE", 1L)));
        Assert.That(control.GetProperty("deadLettersCount").GetInt64(), Is.GreaterThanOrEqualTo(1));
        Assert.That(control.GetProperty("alerts").EnumerateArray().Single(a => a.GetProperty("kind").GetString() == "INVALID_EVENT").GetProperty("count").GetInt64(),
            Is.GreaterThanOrEqualTo(1));

        using var response = await api.SendAsync(HttpMethod.Get, $"/reports/daily?from={controlDay}&to={controlDay}&part=control", biToken,
            headers: new Dictionary<string, string> { ["Accept"] = "text/csv" });
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("day,item,sourceTopic,reason,kind,count"));
        Assert.That(lines, Has.Some.EqualTo($"{controlDay},deadLetter,{Topics.Payments.Name},UNDECODABLE,,1"));
        Assert.That(lines, Has.Some.StartsWith($"{controlDay},alert,,,INVALID_EVENT,"));
    }

    [Test]
    public async Task DailyReport_CurrenciesAsCsv_OneLinePerDayChannelAndCurrency()
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/reports/daily?from={day}&to={day}&channel=POS&part=currencies", biToken,
            headers: new Dictionary<string, string> { ["Accept"] = "text/csv" });
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.That(header[..3], Is.EqualTo(new[] { "day", "channel", "currency" }));
        var rub = lines.Skip(1).Select(l => l.Split(',')).Single();
        Assert.That((rub[0], rub[1], rub[2]), Is.EqualTo((day, "POS", "RUB")));
        Assert.That(rub[Array.IndexOf(header, "liabilityMinor")], Is.EqualTo(Nominal.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task TheTrafficGeneratorsCustomers_PayWithTheirCertificatesAsShopsDo_SoOrdersAndPaymentsReconcile()
    {
        // gap of the demo: captures on All_Payments without the shop's order naming the certificate as a tender showed a false
        // capture mismatch. The generator's customers now record both; the report of their channel agrees in every check.
        const string poolId = "it-report-web-3000";
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        var load = await shop.SendCommandAsync(poolId, Pools.Load(poolId, C.Channel.INTERNET_STORE, 300_000, count: 20, series: 13), Timeout, cancel.Token);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        using var web = new GcpApi(new Uri(service.Url));
        await web.WarmUpAsync([DevClient.InternetStore, DevClient.Support], cancel.Token);
        var pool = new PoolChoice(poolId, C.Channel.INTERNET_STORE, 300_000, "RUB");
        var tally = new Tally();
        var random = new Random(13);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(ReportSettings.DefaultTimeZoneId)).DateTime);
        var query = $"/reports/daily?from={BusinessDay.Format(today.AddDays(-1))}&to={BusinessDay.Format(today.AddDays(1))}&channel=INTERNET_STORE";
        var (_, before, _) = await api.CallAsync(HttpMethod.Get, query, biToken); // a body the instance may keep for the same question
        Assert.That(before!.Value.GetProperty("days").GetArrayLength(), Is.Zero);

        await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => new Customer(shop, web, pool, new Random(random.Next()), tally)).Select(c => c.RunAsync(cancel.Token)));

        Assert.That(tally["paid with the certificate"], Is.GreaterThan(0), string.Join(", ", tally.Snapshot()));
        var view = service.Services.GetRequiredService<DailyReportView>();
        IReadOnlyList<Api.Endpoints.DailyReportResponse> Web(DailyReportView v) => v.Range(today.AddDays(-1), today.AddDays(1), C.Channel.INTERNET_STORE);
        var complete = await view.WaitForAsync(v => Web(v).Sum(d => d.OrdersTendersCount) == tally["paid with the certificate"]
            && Web(v).Sum(d => d.PaymentsCapturesCount) == tally["paid with the certificate"] && Web(v).Sum(d => d.IssuedCount) == tally["issued"]
            && Web(v).Sum(d => d.CancelledCount) == tally["returned unused"], Timeout, cancel.Token);

        var days = Web(view);
        Assert.That(complete, Is.True, $"the generator's records reached the report: {string.Join(", ", tally.Snapshot())}; report: "
            + string.Join("; ", days.Select(d => $"{d.Day} tenders {d.OrdersTendersCount} captures {d.PaymentsCapturesCount} issued {d.IssuedCount}")));
        Assert.That(days.SelectMany(d => d.ReconciliationMismatches), Is.Empty, "no false mismatch: tenders match captures, lines match issues, returns match cancellations");
        Assert.That(days.SelectMany(d => d.Currencies).Select(c => (c.OrdersTendersMinor, c.OrdersCertificatesMinor, c.OrdersReturnsMinor)),
            Is.EqualTo(days.SelectMany(d => d.Currencies).Select(c => (c.PaymentsCapturesMinor, c.IssuedMinor, c.CancelledMinor))));

        // the same question again through the endpoint: answered from the records read since, not from the body made before them
        var (status, after, _) = await api.CallAsync(HttpMethod.Get, query, biToken);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        var served = after!.Value.GetProperty("days").EnumerateArray().ToList();
        Assert.That(served.Sum(d => d.GetProperty("ordersTendersCount").GetInt64()), Is.EqualTo(tally["paid with the certificate"]));
        Assert.That(served.SelectMany(d => d.GetProperty("reconciliationMismatches").EnumerateArray()), Is.Empty);
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
    [TestCase("from=2026-11-27&to=2026-11-27&part=stores", "part", "'stores' is not a part of the report")]
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
