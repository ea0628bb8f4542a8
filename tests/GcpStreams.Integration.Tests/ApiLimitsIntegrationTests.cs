using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GcpStreams.Api.Endpoints;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Per-client rate limits against the whole service with small limits
/// (lookups: a burst of 3, then 1 a second; CVC: a burst of 2, then 1 a minute; writes: a burst of 2, then 1 a second).
/// </summary>
[NonParallelizable]
public class ApiLimitsIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ServiceInstance service = null!;
    private ApiClient api = null!;

    [OneTimeSetUp]
    public async Task StartService()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-limits", new Dictionary<string, string?>
        {
            ["Gcp:RateLimits:LookupBurst"] = "3",
            ["Gcp:RateLimits:LookupsPerSecond"] = "1",
            ["Gcp:RateLimits:CvcBurst"] = "2",
            ["Gcp:RateLimits:CvcPerMinute"] = "1",
            ["Gcp:RateLimits:WriteBurst"] = "2",
            ["Gcp:RateLimits:WritesPerSecond"] = "1",
        });
        api = new ApiClient(service.Url);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
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
    public async Task Lookups_OverTheClientsLimit_Are429WithRetryAfter_AndOtherClientsAreNotSlowedDown()
    {
        var store = await api.TokenAsync("internet-store");
        var elapsed = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => api.SendAsync(HttpMethod.Get, $"/certificates/GC-ENUM-{i}", store)));
        var seconds = elapsed.Elapsed.TotalSeconds;

        var notFound = responses.Count(r => r.StatusCode == HttpStatusCode.NotFound);
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.That(notFound + limited.Count, Is.EqualTo(20), "each lookup is answered or limited");
        Assert.That(notFound, Is.InRange(3, 3 + (int)Math.Ceiling(seconds) + 1), $"a burst of 3, then 1 a second ({seconds:0.0} s)");
        var problem = await ApiClient.AssertProblemAsync(limited[0], HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.That(problem.GetProperty("clientId").GetString(), Is.EqualTo("internet-store"));
        Assert.That(limited[0].Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));

        // isolation: another client has its own bucket
        using var other = await api.SendAsync(HttpMethod.Get, "/certificates/GC-ENUM-0", await api.TokenAsync("pos-terminal"));
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task Writes_OverTheClientsLimit_Are429_PerClient()
    {
        var support = await api.TokenAsync("support");
        var elapsed = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            api.SendAsync(HttpMethod.Post, "/certificates/7700000000000000/lock", support, """{"reason":"write limit test"}""")));
        var seconds = elapsed.Elapsed.TotalSeconds;

        var answered = responses.Count(r => r.StatusCode == HttpStatusCode.NotFound);
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.That(answered + limited.Count, Is.EqualTo(8), "each write is answered or limited");
        Assert.That(answered, Is.InRange(2, 2 + (int)Math.Ceiling(seconds) + 1), $"a burst of 2, then 1 a second ({seconds:0.0} s)");
        var problem = await ApiClient.AssertProblemAsync(limited[0], HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.That(problem.GetProperty("clientId").GetString(), Is.EqualTo("support"));

        using var other = await api.SendAsync(HttpMethod.Post, "/certificates/7700000000000000/lock", await api.TokenAsync("admin"), """{"reason":"another client"}""");
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "another client has its own bucket");
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task CvcDisclosures_OverTheClientsLimit_Are429()
    {
        var support = await api.TokenAsync("support");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            var grant = await api.MintAsync(support, "7700000000000000", $"T-{i}");
            using var response = await api.SendAsync(HttpMethod.Post, "/certificates/7700000000000000/cvc/support-disclosures", support, SupportGrants.Disclosure(grant, "rate limit test"));
            statuses.Add(response.StatusCode);
        }

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests }), "a burst of 2, then 1 a minute");
    }
}

/// <summary>A write whose command gets no reply in time (the stream is stopped, the command channel is open).</summary>
[NonParallelizable]
public class CommandTimeoutIntegrationTests
{
    [Test]
    public async Task AWriteWithNoReplyInTime_Is504Problem_WithRetryAfter()
    {
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-timeout", new Dictionary<string, string?> { ["Gcp:CommandTimeoutSeconds"] = "1" });
        using var api = new ApiClient(service.Url);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", TimeSpan.FromSeconds(60));
        await service.Stream.StopAsync(CancellationToken.None); // the command channel stays open; nobody answers now
        var pos = await api.TokenAsync("pos-terminal");

        using var response = await api.SendAsync(HttpMethod.Post, "/certificates/next", pos,
            JsonSerializer.Serialize(new { poolId = "it-limits-pool", channel = "POS", nominalMinor = 100_000, currency = "RUB" }), new Dictionary<string, string> { ["Idempotency-Key"] = "k-504" });

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.GatewayTimeout, "command-timeout");
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Idempotency-Key"));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(ApiProblems.RetryAfterSeconds)));
    }
}
