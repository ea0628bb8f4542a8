using System.Net;
using System.Text.Json;
using GcpStreams.Api.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// What <c>make run</c> promises a newcomer: once <c>/health/ready</c> says ready, the demo pools are there with their
/// levels; and the banner's values stand in one column.
/// </summary>
[NonParallelizable]
public class EmbeddedReadinessIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Demo pools as appsettings.json gives them, larger (so loading them takes a while): id, channel, nominal, count, series.</summary>
    private static readonly (string PoolId, string Channel, long Nominal, int Count, int Series)[] DemoPools =
    [
        ("it-demo-pos-1000", "POS", 100_000, 10_000, 71),
        ("it-demo-pos-5000", "POS", 500_000, 10_000, 72),
        ("it-demo-web-3000", "INTERNET_STORE", 300_000, 10_000, 73),
        ("it-demo-app-2000", "MOBILE_APP", 200_000, 10_000, 74),
    ];

    [Test]
    public async Task FreshEmbeddedService_FirstReady200_IsFollowedByAPoolsListWithEveryDemoPoolAvailable()
    {
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-ready", Settings(DemoPools), untilRunning: false);
        using var api = new ApiClient(service.Url);

        // as a newcomer does right after make run: ask until ready, then list the pools
        await ReadinessAsync(api, until: _ => false);
        var served = service.ReadModel.GetPools().ToDictionary(p => p.PoolId, p => (p.Available, p.Loaded)); // what GET /pools answers at this instant
        var (status, body, response) = await api.CallAsync(HttpMethod.Get, "/pools", await api.TokenAsync("admin")); // every channel's pools
        response.Dispose();

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        var pools = body!.Value.GetProperty("items").EnumerateArray().ToDictionary(p => p.GetProperty("poolId").GetString()!, p => p);
        Assert.Multiple(() =>
        {
            foreach (var (poolId, channel, nominal, count, _) in DemoPools)
            {
                Assert.That(served.GetValueOrDefault(poolId), Is.EqualTo(((long)count, (long)count)), $"{poolId} (available, loaded) when readiness first said 200");
                Assert.That(pools.TryGetValue(poolId, out var pool), Is.True, $"{poolId} is listed");
                if (pool.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                Assert.That(pool.GetProperty("available").GetInt64(), Is.GreaterThan(0).And.EqualTo(count), $"{poolId} available");
                Assert.That(pool.GetProperty("loaded").GetInt64(), Is.EqualTo(count), $"{poolId} loaded");
                Assert.That((pool.GetProperty("channel").GetString(), pool.GetProperty("nominalMinor").GetInt64()), Is.EqualTo((channel, nominal)), poolId);
            }
        });
        Assert.That(service.Services.GetRequiredService<EmbeddedStartup>().WhenDemoPoolsVisible.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task DemoPoolThePoolRefuses_KeepsTheServiceNotReady_SayingWhy()
    {
        // one pool id twice, with another nominal: the pool refuses the second load
        var settings = Settings([("it-demo-twice", "POS", 100_000, 10, 75), ("it-demo-twice", "POS", 500_000, 10, 76)]);
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-ready-refused", settings, untilRunning: false);
        using var api = new ApiClient(service.Url);

        var detail = await ReadinessAsync(api, until: d => d.Contains("could not be loaded", StringComparison.Ordinal));

        Assert.That(detail, Does.StartWith("The demo pools (Gcp:DemoPools) could not be loaded: demo pool it-demo-twice was refused: POOL_MISMATCH"));
        Assert.That(service.Services.GetRequiredService<EmbeddedStartup>().WhenDemoPoolsVisible.IsFaulted, Is.True);
        using var ready = await api.SendAsync(HttpMethod.Get, "/health/ready", token: null);
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "it stays not ready");
    }

    [Test]
    public void Banner_PutsEveryValueInOneColumn_AfterTheLongestLabel()
    {
        var banner = EmbeddedStartup.Banner("GcpStreams is running.",
        [
            ("API", "http://127.0.0.1:8080"),
            ("Schema registry", "http://127.0.0.1:8080/schema-registry"),
            ("Kafka bootstrap servers", "127.0.0.1:39069"),
            ("Dev token (docs/api.md)", "curl -s http://127.0.0.1:8080/connect/token"),
        ], ["Ctrl+C stops."]);

        var lines = banner.Split(Environment.NewLine);
        Assert.That(lines[0], Is.Empty);
        Assert.That(lines[1], Is.EqualTo("GcpStreams is running."));
        Assert.That(lines[2..6], Is.EqualTo(new[]
        {
            "  API:                     http://127.0.0.1:8080",
            "  Schema registry:         http://127.0.0.1:8080/schema-registry",
            "  Kafka bootstrap servers: 127.0.0.1:39069",
            "  Dev token (docs/api.md): curl -s http://127.0.0.1:8080/connect/token",
        }));
        Assert.That(lines[6..], Is.EqualTo(new[] { "  Ctrl+C stops.", string.Empty }));
    }

    private static Dictionary<string, string?> Settings(IReadOnlyList<(string PoolId, string Channel, long Nominal, int Count, int Series)> pools)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < pools.Count; i++)
        {
            var (poolId, channel, nominal, count, series) = pools[i];
            settings[$"Gcp:DemoPools:{i}:PoolId"] = poolId;
            settings[$"Gcp:DemoPools:{i}:Channel"] = channel;
            settings[$"Gcp:DemoPools:{i}:NominalMinor"] = nominal.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[$"Gcp:DemoPools:{i}:Currency"] = "RUB";
            settings[$"Gcp:DemoPools:{i}:Count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[$"Gcp:DemoPools:{i}:LowWatermark"] = "5";
            settings[$"Gcp:DemoPools:{i}:Series"] = series.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>
    /// Asks <c>/health/ready</c> until it answers 200 (then null) or a 503 whose detail satisfies <paramref name="until"/> (then
    /// that detail); every 503 before is the documented not-ready problem. Bounded by <see cref="Timeout"/>.
    /// </summary>
    private static async Task<string?> ReadinessAsync(ApiClient api, Func<string, bool> until)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            using var ready = await api.SendAsync(HttpMethod.Get, "/health/ready", token: null);
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                return null;
            }

            var detail = (await ApiClient.AssertProblemAsync(ready, HttpStatusCode.ServiceUnavailable, "not-ready")).GetProperty("detail").GetString()!;
            if (until(detail))
            {
                return detail;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"readiness still says: {detail}");
            await Task.Delay(10); // the next question, not a wait for the answer
        }
    }
}
