using System.Net;
using System.Net.Http.Headers;
using System.Text;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The development token endpoint (of a service in cluster mode, <see cref="ClusterHost"/>: no broker needed) is throttled per
/// source address and audited (the client it named, never the secret); unauthenticated failures are audited one by one up to
/// a budget a minute and counted beyond it.
/// </summary>
[NonParallelizable]
public class TokenEndpointHardeningTests
{
    // the default settings; a test with settings of its own starts its own host (each stop takes a while: the cluster wait
    // is in a metadata request of up to 10 s)
    private ClusterHost host = null!;

    [OneTimeSetUp]
    public async Task StartHost() => host = await ClusterHost.StartAsync();

    [OneTimeTearDown]
    public async Task StopHost()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }

    [Test]
    public async Task The_token_endpoint_is_throttled_per_source_address_with_a_rate_limited_problem()
    {
        await using var own = await ClusterHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gcp:RateLimits:TokenBurst"] = "2",
            ["Gcp:RateLimits:TokenRequestsPerMinute"] = "1",
        });

        using (var wrong = await own.RequestTokenAsync(DevClients.Support, "guess-1"))
        {
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        await own.TokenAsync(DevClients.Support);
        using var throttled = await own.RequestTokenAsync(DevClients.Support, ClusterAuth.Secret(DevClients.Support));

        var problem = await ApiClient.AssertProblemAsync(throttled, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Multiple(() =>
        {
            Assert.That(throttled.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Gcp:RateLimits:TokenRequestsPerMinute"));
            Assert.That(problem.GetProperty("retryAfterSeconds").GetInt32(), Is.GreaterThanOrEqualTo(1));
            Assert.That(problem.GetProperty("remoteAddress").GetString(), Is.EqualTo("127.0.0.1"));
        });
        // the audit is written when the call's pipeline ends, which may be just after the client has the answer: waited for, bounded
        await Kafka.Eventually(() => own.AuditLines().Any(l => l.Contains("POST /connect/token -> 429 rate_limited", StringComparison.Ordinal)), "the refused request's audit line");
        Assert.That(own.AuditLines(), Has.One.Contains("POST /connect/token -> 429 rate_limited"), "the refused request is audited");

        // only the token endpoint is limited by address
        using var live = await own.Http.GetAsync("/health/live");
        using var pools = await own.Http.GetAsync("/pools");
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(pools.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Every_token_request_is_audited_with_the_client_it_named_and_never_the_secret()
    {
        const string guess = "guessed-secret-4711";

        using (var wrong = await host.RequestTokenAsync(DevClients.Support, guess))
        {
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        using (var basic = new HttpRequestMessage(HttpMethod.Post, "/connect/token"))
        {
            basic.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" });
            basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"crm-notifier:{guess}")));
            using var refused = await host.Http.SendAsync(basic);
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        using (var scope = await host.Http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = DevClients.PosTerminal, ["client_secret"] = ClusterAuth.Secret(DevClients.PosTerminal), ["scope"] = GcpScopes.Admin,
        })))
        {
            Assert.That(scope.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "invalid_scope");
        }

        await host.TokenAsync(DevClients.PosTerminal);

        // the audit is written when the call's pipeline ends, which may be just after the client has the answer: waited for, bounded
        await Kafka.Eventually(() => Matching(host.AuditLines(), "POST /connect/token -> 200 ok", "client pos-terminal,") >= 1, "the granted request's audit line");
        var audit = host.AuditLines();
        Assert.Multiple(() =>
        {
            Assert.That(Matching(audit, "POST /connect/token -> 401 unauthenticated", "client support,"), Is.EqualTo(1));
            Assert.That(Matching(audit, "POST /connect/token -> 401 unauthenticated", "client crm-notifier,"), Is.EqualTo(1), "HTTP Basic names the client too");
            Assert.That(Matching(audit, "POST /connect/token -> 400 invalid", "client pos-terminal,"), Is.EqualTo(1));
            Assert.That(Matching(audit, "POST /connect/token -> 200 ok", "client pos-terminal,"), Is.EqualTo(1));
            Assert.That(host.Logs.Lines, Has.None.Contains(guess), "no log line holds a secret");
            Assert.That(host.Logs.Lines, Has.None.Contains(ClusterAuth.Secret(DevClients.PosTerminal)));
        });
    }

    [Test]
    public async Task Anonymous_failures_beyond_the_budget_are_counted_not_recorded_and_the_counts_are_logged()
    {
        await using var own = await ClusterHost.StartAsync(new Dictionary<string, string?> { ["Gcp:AnonymousAuditPerMinute"] = "2" });
        var writer = own.App.Services.GetRequiredService<AuditWriter>();

        for (var i = 0; i < 5; i++)
        {
            using var anonymous = await own.Http.GetAsync("/pools");
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        // a call with a valid token is always recorded, budget or not
        var token = await own.TokenAsync(DevClients.PosTerminal);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/pools/no-such-pool"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var authenticated = await own.Http.SendAsync(request);
            Assert.That(authenticated.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        await Kafka.Eventually(() => Matching(own.AuditLines(), "GET /pools/{id} -> 404 not_found") >= 1, "the last call's audit line");
        Assert.Multiple(() =>
        {
            Assert.That(Matching(own.AuditLines(), "GET /pools -> 401"), Is.EqualTo(2), "the budget's worth, one by one");
            Assert.That(writer.AnonymousCounted, Is.EqualTo(3));
            Assert.That(Matching(own.AuditLines(), "GET /pools/{id} -> 404 not_found", "client pos-terminal,"), Is.EqualTo(1));
            Assert.That(Matching(own.AuditLines(), "POST /connect/token -> 200 ok"), Is.EqualTo(1));
        });

        await own.StopAsync();
        Assert.That(Matching(own.AuditLines(), "3 unauthenticated failed calls", "GET /pools unauthenticated: 3"), Is.EqualTo(1),
            "the counts are in the audit log at stop");
    }

    [Test]
    public async Task With_the_default_audit_log_a_call_whose_record_never_reached_the_topic_is_in_the_log_at_stop()
    {
        // no broker: the command channel never opens, so every record is still buffered when the host stops
        await using var own = await ClusterHost.StartAsync(new Dictionary<string, string?> { ["Gcp:AuditLog"] = "Fallback" });
        var token = await own.TokenAsync(DevClients.PosTerminal);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/pools/fallback-pool"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await own.Http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        Assert.That(own.AuditLines(), Is.Empty, "while the record may still reach the topic, no line");

        await own.StopAsync();
        Assert.Multiple(() =>
        {
            Assert.That(Matching(own.AuditLines(), "GET /pools/{id} -> 404 not_found", "client pos-terminal,", "pool fallback-pool,"), Is.EqualTo(1));
            Assert.That(Matching(own.AuditLines(), "POST /connect/token -> 200 ok"), Is.EqualTo(1));
            Assert.That(Matching(own.AuditLines(), "Stopping: 2 audit records are in the log but not on the audit topic"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Requests_without_a_valid_token_are_throttled_per_source_address_but_probes_and_valid_tokens_are_not()
    {
        await using var own = await ClusterHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gcp:RateLimits:AnonymousBurst"] = "3",
            ["Gcp:RateLimits:AnonymousPerMinute"] = "1",
        });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var anonymous = await own.Http.GetAsync("/pools");
            statuses.Add(anonymous.StatusCode);
        }

        using var badToken = new HttpRequestMessage(HttpMethod.Get, "/pools");
        badToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var refused = await own.Http.SendAsync(badToken);

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }),
            "a burst of 3, then 1 a minute");
        var problem = await ApiClient.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Gcp:RateLimits:AnonymousPerMinute"));
            Assert.That(problem.GetProperty("remoteAddress").GetString(), Is.EqualTo("127.0.0.1"));
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        });

        using var live = await own.Http.GetAsync("/health/live");
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the probes are never limited");
        var token = await own.TokenAsync(DevClients.Admin);
        using var authenticated = new HttpRequestMessage(HttpMethod.Get, "/pools");
        authenticated.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var ok = await own.Http.SendAsync(authenticated);
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a valid token has its client's own buckets");
    }

    [TestCase("TokenRequestsPerMinute", "Gcp:RateLimits:TokenRequestsPerMinute is 0; it must be between 1 and 1000000.")]
    [TestCase("TokenBurst", "Gcp:RateLimits:TokenBurst is 0; it must be between 1 and 1000000.")]
    [TestCase("AnonymousAuditPerMinute", "Gcp:AnonymousAuditPerMinute is 0; it must be between 1 and 1000000.")]
    [TestCase("AnonymousPerMinute", "Gcp:RateLimits:AnonymousPerMinute is 0; it must be between 1 and 1000000.")]
    [TestCase("WritesPerSecond", "Gcp:RateLimits:WritesPerSecond is 0; it must be between 1 and 1000000.")]
    public void A_limit_out_of_range_is_named(string setting, string message)
    {
        var options = new GcpOptions { NumberingKey = ServiceInstance.NumberingKey, CvcKeys = { ["1"] = ServiceInstance.CvcKey } };
        switch (setting)
        {
            case "TokenRequestsPerMinute":
                options.RateLimits.TokenRequestsPerMinute = 0;
                break;
            case "TokenBurst":
                options.RateLimits.TokenBurst = 0;
                break;
            case "AnonymousPerMinute":
                options.RateLimits.AnonymousPerMinute = 0;
                break;
            case "WritesPerSecond":
                options.RateLimits.WritesPerSecond = 0;
                break;
            default:
                options.AnonymousAuditPerMinute = 0;
                break;
        }

        var failures = new GcpOptionsValidation(Options.Create(new KafkaOptions())).Validate(null, options).Failures;
        Assert.That(failures, Is.EqualTo(new[] { message }));
    }

    [Test]
    public void The_budget_reports_each_minute_once_and_records_again_in_the_next()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        var budget = new AnonymousAuditBudget(1, clock);

        Assert.That(budget.TryRecord("GET /pools unauthenticated"), Is.True);
        Assert.That(budget.TryRecord("GET /pools unauthenticated"), Is.False);
        Assert.That(budget.TryRecord("POST /connect/token unauthenticated"), Is.False);
        Assert.That(budget.TakeSummaries(), Is.Empty, "the minute is not over");

        clock.Advance(TimeSpan.FromMinutes(1));
        var summary = budget.TakeSummaries().Single();
        Assert.That((summary.Count, summary.ByKind), Is.EqualTo((2L, "GET /pools unauthenticated: 1, POST /connect/token unauthenticated: 1")));
        Assert.That(budget.TakeSummaries(), Is.Empty, "reported once");
        Assert.That(budget.TryRecord("GET /pools unauthenticated"), Is.True, "a new minute, a new budget");
        Assert.That(budget.TryRecord("GET /pools unauthenticated"), Is.False);
        Assert.That(budget.TakeSummaries(includeCurrent: true).Single().Count, Is.EqualTo(1));
        Assert.That(budget.Counted, Is.EqualTo(3));
    }

    private static int Matching(IEnumerable<string> lines, params string[] parts) =>
        lines.Count(l => parts.All(p => l.Contains(p, StringComparison.Ordinal)));

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset now = now;

        public void Advance(TimeSpan by) => now += by;

        public override DateTimeOffset GetUtcNow() => now;
    }
}
