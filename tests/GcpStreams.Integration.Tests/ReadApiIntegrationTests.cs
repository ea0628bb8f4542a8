using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The read endpoints of the API against the whole service on the embedded broker, with real tokens from its
/// OAuth2 token endpoint (client credentials). One service for the fixture: a pool of 5, one reservation paid by an order.
/// </summary>
[NonParallelizable]
public class ReadApiIntegrationTests
{
    private const string PoolId = "it-read-pos-2500";
    private const string OrderId = "order-it-read-1";
    private const long Nominal = 250_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceInstance service = null!;
    private ApiClient api = null!;
    private string certificateId = null!;
    private string readToken = null!;
    private string reserveOnlyToken = null!;

    /// <summary>Every read endpoint, as (name, path template); {id} is replaced by the test certificate or pool id.</summary>
    private static readonly string[] Endpoints =
    [
        "/certificates/{certificate}",
        "/certificates?poolId=" + PoolId,
        "/certificates/{certificate}/history",
        "/pools",
        "/pools/" + PoolId,
    ];

    [OneTimeSetUp]
    public async Task StartServiceAndSellOneCertificate()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-read");
        api = new ApiClient(service.Url);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout, cancel.Token);

        await using var shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        var load = await shop.SendCommandAsync(PoolId, Pools.Load(PoolId, C.Channel.POS, Nominal, count: 5, series: 11), Timeout, cancel.Token);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        var reserved = await shop.SendCommandAsync(PoolId, Pools.Reserve(PoolId, C.Channel.POS, Nominal, OrderId), Timeout, cancel.Token);
        Assert.That(reserved.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reserved.message);
        certificateId = reserved.certificateId;
        var issued = shop.WaitForEventAsync(certificateId, "certificate.issued", Timeout, cancel.Token);
        var notification = shop.WaitForEventAsync(certificateId, "notification.requested", Timeout, cancel.Token);
        await shop.ProduceAsync(Topics.SalesOrders, OrderId, Pools.PaidOrder(OrderId, certificateId, PoolId, C.Channel.POS, Nominal), cancel.Token);

        // read your writes: the read model's wait, bounded, no fixed sleep
        Assert.That(await service.ReadModel.WaitForEventAsync((await issued).eventId, Timeout, certificateId, cancel.Token), Is.True, "issue reached the read model");
        Assert.That(await service.ReadModel.WaitForEventAsync((await notification).eventId, Timeout, certificateId, cancel.Token), Is.True, "notification reached the read model");

        readToken = await TokenAsync("support", scope: "gc.read gc.backoffice"); // the back office: full numbers, buyer and order (ChannelAccessIntegrationTests: the channel clients)
        reserveOnlyToken = await TokenAsync("pos-terminal", scope: "gc.reserve");
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
    public async Task Readiness_IsReady_OnceTheStreamRunsAndTheReadModelCaughtUp()
    {
        var ready = await GetJsonAsync("/health/ready", token: null);

        Assert.That(ready.GetProperty("status").GetString(), Is.EqualTo("ready"));
        Assert.That(ready.GetProperty("stream").GetString(), Is.EqualTo("Running"));
        Assert.That(ready.GetProperty("readModel").GetString(), Is.EqualTo("CaughtUp"));
    }

    [Test]
    public async Task GetCertificate_ShowsTheIssuedCertificate_WithItsNominalBalance_AndNoCvc()
    {
        var body = await GetJsonAsync($"/certificates/{certificateId}", readToken);
        var certificate = body.Deserialize<JsonElement>();

        Assert.That(certificate.GetProperty("certificateId").GetString(), Is.EqualTo(certificateId));
        Assert.That(certificate.GetProperty("status").GetString(), Is.EqualTo("ACTIVE"));
        Assert.That(certificate.GetProperty("balanceMinor").GetInt64(), Is.EqualTo(Nominal));
        Assert.That(certificate.GetProperty("heldMinor").GetInt64(), Is.Zero);
        Assert.That(certificate.GetProperty("nominalMinor").GetInt64(), Is.EqualTo(Nominal));
        Assert.That(certificate.GetProperty("currency").GetString(), Is.EqualTo("RUB"));
        Assert.That(certificate.GetProperty("channel").GetString(), Is.EqualTo("POS"));
        Assert.That(certificate.GetProperty("poolId").GetString(), Is.EqualTo(PoolId));
        Assert.That(certificate.GetProperty("orderId").GetString(), Is.EqualTo(OrderId));
        Assert.That(certificate.GetProperty("locked").GetBoolean(), Is.False);
        Assert.That(certificate.GetProperty("issuedAt").ValueKind, Is.EqualTo(JsonValueKind.String));
        Assert.That(certificate.GetProperty("sequence").GetInt64(), Is.GreaterThanOrEqualTo(1));
        Assert.That(body.GetRawText(), Does.Not.Contain("cvc").IgnoreCase);
    }

    [Test]
    public async Task Search_ByPool_AndByStatus_FindsTheCertificate()
    {
        var byPool = await GetJsonAsync($"/certificates?poolId={PoolId}", readToken);
        var byStatus = await AllPagesAsync($"/certificates?status=active&channel=POS&pageSize=1");

        Assert.That(byPool.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("certificateId").GetString()), Is.EqualTo(new[] { certificateId }),
            "the pool's only certificate out of the pool (the 4 others are AVAILABLE and not in the state topic)");
        Assert.That(byPool.GetProperty("nextCursor").ValueKind, Is.EqualTo(JsonValueKind.Null), "one page: the end");
        Assert.That(byStatus, Does.Contain(certificateId));
    }

    [Test]
    public async Task History_ListsReservedIssuedAndNotificationRequested_InOrder()
    {
        var history = await GetJsonAsync($"/certificates/{certificateId}/history", readToken);

        var types = history.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("eventType").GetString()).ToList();
        Assert.That(types, Is.EqualTo(new[] { "certificate.reserved", "certificate.issued", "notification.requested" }));
        Assert.That(history.GetRawText(), Does.Not.Contain("cvc\"").IgnoreCase);
    }

    [Test]
    public async Task Pool_ShowsItsLevels()
    {
        var pool = await GetJsonAsync($"/pools/{PoolId}", readToken);
        var pools = await GetJsonAsync("/pools", readToken);

        Assert.That(pool.GetProperty("available").GetInt64(), Is.EqualTo(4));
        Assert.That(pool.GetProperty("reserved").GetInt32(), Is.Zero);
        Assert.That(pool.GetProperty("issued").GetInt32(), Is.EqualTo(1));
        Assert.That(pool.GetProperty("loaded").GetInt64(), Is.EqualTo(5));
        Assert.That(pool.GetProperty("lowWatermark").GetInt32(), Is.Zero);
        Assert.That(pool.GetProperty("nominalMinor").GetInt64(), Is.EqualTo(Nominal));
        Assert.That(pool.GetProperty("currency").GetString(), Is.EqualTo("RUB"));
        Assert.That(pool.GetProperty("channel").GetString(), Is.EqualTo("POS"));
        Assert.That(pools.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("poolId").GetString()), Does.Contain(PoolId));
    }

    [TestCase("/certificates/GC-NO-SUCH-ID", "GC-NO-SUCH-ID", "certificate-not-found")]
    [TestCase("/certificates/GC-NO-SUCH-ID/history", "GC-NO-SUCH-ID", "certificate-not-found")]
    [TestCase("/pools/no-such-pool", "no-such-pool", "pool-not-found")]
    public async Task UnknownId_Is404Problem_NamingTheId(string path, string id, string type)
    {
        using var response = await SendAsync(path, readToken);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("status").GetInt32(), Is.EqualTo(404));
        Assert.That(problem.GetProperty("type").GetString(), Does.EndWith(type));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain($"'{id}'"));
    }

    [TestCase("status=SOLD", "status")]
    [TestCase("status=0", "status")]
    [TestCase("channel=FAX", "channel")]
    [TestCase("pageSize=0", "pageSize")]
    [TestCase("pageSize=501", "pageSize")]
    [TestCase("pageSize=ten", "pageSize")]
    [TestCase("cursor=not-a-cursor", "cursor")]
    public async Task BadSearchParameter_Is400Problem_NamingTheParameter(string query, string parameter)
    {
        using var response = await SendAsync("/certificates?" + query, readToken);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("parameter").GetString(), Is.EqualTo(parameter));
        Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith(parameter));
    }

    [Test]
    public async Task EveryEndpoint_NoToken401_WithoutReadScope403_WithReadScope200([ValueSource(nameof(Endpoints))] string template)
    {
        var path = template.Replace("{certificate}", certificateId, StringComparison.Ordinal);

        using var anonymous = await SendAsync(path, token: null);
        using var reserveOnly = await SendAsync(path, reserveOnlyToken);
        using var reader = await SendAsync(path, readToken);

        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(anonymous.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(reserveOnly.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await reserveOnly.Content.ReadAsStringAsync(), Does.Contain("gc.read"));
        Assert.That(reader.StatusCode, Is.EqualTo(HttpStatusCode.OK), await reader.Content.ReadAsStringAsync());
    }

    private async Task<string> TokenAsync(string clientId, string? scope)
    {
        var token = await api.TokenAsync(clientId, scope);
        if (scope is not null)
        {
            // the JWT's payload carries the granted scopes (OpenIddict omits `scope` from the response when it equals the request)
            using var payload = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[1]));
            var granted = payload.RootElement.GetProperty("scope");
            var scopes = granted.ValueKind == JsonValueKind.Array ? granted.EnumerateArray().Select(s => s.GetString()).ToArray() : granted.GetString()!.Split(' ');
            Assert.That(scopes, Is.EqualTo(scope.Split(' ')));
        }

        return token;
    }

    private Task<HttpResponseMessage> SendAsync(string path, string? token) => api.SendAsync(HttpMethod.Get, path, token);

    private async Task<JsonElement> GetJsonAsync(string path, string? token)
    {
        using var response = await SendAsync(path, token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"GET {path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Follows nextCursor until it is null (short or empty pages with a cursor are not the end).</summary>
    private async Task<List<string>> AllPagesAsync(string path)
    {
        var ids = new List<string>();
        string? cursor = null;
        for (var pages = 0; pages < 1_000; pages++)
        {
            var page = await GetJsonAsync(cursor is null ? path : $"{path}&cursor={Uri.EscapeDataString(cursor)}", readToken);
            ids.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("certificateId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            if (cursor is null)
            {
                return ids;
            }
        }

        Assert.Fail("more than 1000 pages");
        return ids;
    }
}
