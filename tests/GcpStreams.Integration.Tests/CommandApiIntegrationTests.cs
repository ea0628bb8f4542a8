using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The write endpoints of the API (reserve, lock, unlock) against the whole service on the embedded broker, with real
/// tokens: each write travels as a command through the topology and waits for its reply. One service for the fixture;
/// each test uses its own pool.
/// </summary>
[NonParallelizable]
public class CommandApiIntegrationTests
{
    private const long Nominal = 100_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceInstance service = null!;
    private Shop shop = null!;
    private ApiClient api = null!;
    private string posToken = null!;
    private string supportToken = null!;
    private string crmToken = null!;
    private string adminToken = null!;

    [OneTimeSetUp]
    public async Task StartService()
    {
        // the rush and phantom-pool tests send hundreds of writes as one client: its write and open-reservation limits are
        // lifted here (ApiLimitsIntegrationTests and ChannelAccessIntegrationTests test them)
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-commands", new Dictionary<string, string?>
        {
            ["Gcp:RateLimits:WriteBurst"] = "100000",
            ["Gcp:RateLimits:WritesPerSecond"] = "100000",
            ["Gcp:MaxOpenReservationsPerClient"] = "100000",
        });
        api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        posToken = await api.TokenAsync("pos-terminal");
        supportToken = await api.TokenAsync("support");
        crmToken = await api.TokenAsync("crm-notifier");
        adminToken = await api.TokenAsync("admin");
    }

    [OneTimeTearDown]
    public async Task StopService()
    {
        api?.Dispose();
        if (shop is not null)
        {
            await shop.DisposeAsync();
        }

        if (service is not null)
        {
            await service.DisposeAsync();
        }
    }

    [Test]
    public async Task Readiness_IncludesTheCommandChannel()
    {
        var (status, ready, response) = await api.CallAsync(HttpMethod.Get, "/health/ready", token: null);
        response.Dispose();
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));

        Assert.That(ready!.Value.GetProperty("status").GetString(), Is.EqualTo("ready"));
        Assert.That(service.Commands.InstanceId, Does.StartWith("api-"));
    }

    [Test]
    public async Task Reserve_Returns201WithACertificateOfThePool_AndAReadRightAfterSeesIt()
    {
        const string pool = "it-cmd-reserve";
        await LoadAsync(pool, C.Channel.POS, count: 3, series: 21);

        using var response = await ReserveAsync(posToken, Body(pool, "order-cmd-1"));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), body.ToString());
        var id = body.GetProperty("certificateId").GetString()!;
        Assert.That(body.GetProperty("poolId").GetString(), Is.EqualTo(pool));
        Assert.That(body.GetProperty("reservedUntil").GetDateTimeOffset(), Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(9)));
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/certificates/{id}"));

        // read-your-writes: no wait between the write and the read; the POS client sees its number masked and no order
        var certificate = await GetJsonAsync($"/certificates/{id}", posToken);
        Assert.That(certificate.GetProperty("status").GetString(), Is.EqualTo("RESERVED"));
        Assert.That(certificate.GetProperty("poolId").GetString(), Is.EqualTo(pool));
        Assert.That(certificate.GetProperty("certificateId").GetString(), Is.EqualTo(new string('*', 12) + id[^4..]));
        Assert.That(certificate.GetProperty("orderId").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That((await GetJsonAsync($"/certificates/{id}", supportToken)).GetProperty("orderId").GetString(), Is.EqualTo("order-cmd-1"), "the back office sees the order");
    }

    [Test]
    public async Task IdempotentRetry_SameKeyAndBody_SameCertificate_SameKeyOtherBody_Is422()
    {
        const string pool = "it-cmd-idem";
        await LoadAsync(pool, C.Channel.POS, count: 3, series: 22);

        using var first = await ReserveAsync(posToken, Body(pool, "order-idem-1"), "key-1");
        using var retry = await ReserveAsync(posToken, Body(pool, "order-idem-1"), "key-1");
        using var other = await ReserveAsync(posToken, Body(pool, "order-idem-2"), "key-1");

        var firstBody = await first.Content.ReadFromJsonAsync<JsonElement>();
        var retryBody = await retry.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created), firstBody.ToString());
        Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.OK), retryBody.ToString());
        Assert.That(retryBody.GetProperty("certificateId").GetString(), Is.EqualTo(firstBody.GetProperty("certificateId").GetString()));
        var problem = await ApiClient.AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity, "idempotency-conflict");
        Assert.That(problem.GetProperty("reason").GetString(), Is.EqualTo("IDEMPOTENCY_CONFLICT"));
        var levels = await GetJsonAsync($"/pools/{pool}", posToken);
        Assert.That(levels.GetProperty("reserved").GetInt32(), Is.EqualTo(1), "the retry reserved nothing more");
    }

    [Test]
    public async Task EmptyPool_Is409PoolEmptyProblem_AndIssueBlockedOnTheStream_AnUnknownPoolIs404AndCreatesNothing()
    {
        const string pool = "it-cmd-empty";
        await LoadAsync(pool, C.Channel.POS, count: 1, series: 23);

        using var first = await ReserveAsync(posToken, Body(pool, null));
        using var second = await ReserveAsync(posToken, Body(pool, null));
        using var neverLoaded = await ReserveAsync(posToken, Body("it-cmd-never-loaded", null));

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var problem = await ApiClient.AssertProblemAsync(second, HttpStatusCode.Conflict, "pool-empty");
        Assert.That(problem.GetProperty("reason").GetString(), Is.EqualTo("POOL_EMPTY"));
        Assert.That(problem.GetProperty("poolId").GetString(), Is.EqualTo(pool));
        Assert.That((await ApiClient.AssertProblemAsync(neverLoaded, HttpStatusCode.NotFound, "pool-not-found")).GetProperty("poolId").GetString(), Is.EqualTo("it-cmd-never-loaded"));
        var stream = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry);
        Assert.That(stream.Where(r => r.Key == pool && r.Event.eventType == "issue.blocked").ToList(), Has.Count.EqualTo(1));
        Assert.That(stream.Where(r => r.Event.poolId == "it-cmd-never-loaded"), Is.Empty, "an unknown pool is not an issue.blocked and leaves nothing on the stream");
        using var pools = await api.SendAsync(HttpMethod.Get, "/pools/it-cmd-never-loaded", posToken);
        Assert.That(pools.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "nor in the read model");
    }

    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB"}""", "poolId")]
    [TestCase("""{"poolId":"bad pool id","channel":"POS","nominalMinor":100000,"currency":"RUB"}""", "poolId")]
    [TestCase("""{"poolId":"it-cmd-x\n","channel":"POS","nominalMinor":100000,"currency":"RUB"}""", "poolId")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"POS","nominalMinor":100000,"currency":"RUB\n"}""", "currency")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"FAX","nominalMinor":100000,"currency":"RUB"}""", "channel")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"UNKNOWN","nominalMinor":100000,"currency":"RUB"}""", "channel")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"POS","nominalMinor":0,"currency":"RUB"}""", "nominalMinor")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"POS","nominalMinor":-5,"currency":"RUB"}""", "nominalMinor")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"POS","nominalMinor":100000,"currency":"rub"}""", "currency")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"POS","nominalMinor":100000,"currency":"RUB","holdSeconds":0}""", "holdSeconds")]
    [TestCase("""{"poolId":"it-cmd-x","channel":"POS","nominalMinor":100000,"currency":"RUB","holdSeconds":1801}""", "holdSeconds")]
    public async Task InvalidReservation_Is400Problem_NamingTheField(string json, string field)
    {
        using var response = await ReserveAsync(posToken, json);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-field");
        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo(field));
    }

    [Test]
    public async Task Lock_ThenCaptureIsRejectedLocked_Unlock_ThenCaptureSucceeds()
    {
        const string pool = "it-cmd-lock";
        await LoadAsync(pool, C.Channel.POS, count: 2, series: 24);
        using var reserved = await ReserveAsync(posToken, Body(pool, "order-lock-1"));
        Assert.That(reserved.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var id = (await reserved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificateId").GetString()!;
        var issued = shop.WaitForEventAsync(id, "certificate.issued", Timeout, CancellationToken.None);
        await shop.ProduceAsync(Topics.SalesOrders, "order-lock-1", Pools.PaidOrder("order-lock-1", id, pool, C.Channel.POS, Nominal), CancellationToken.None);
        Assert.That(await service.ReadModel.WaitForEventAsync((await issued).eventId, Timeout, id), Is.True);

        using var unlockedTooEarly = await PostAsync($"/certificates/{id}/unlock", supportToken, """{"reason":"not locked yet"}""");
        using var locked = await PostAsync($"/certificates/{id}/lock", supportToken, """{"reason":"customer reported loss"}""");
        using var lockedTwice = await PostAsync($"/certificates/{id}/lock", supportToken, """{"reason":"again"}""");

        Assert.That((await ApiClient.AssertProblemAsync(unlockedTooEarly, HttpStatusCode.Conflict, "command-rejected")).GetProperty("reason").GetString(), Is.EqualTo("INVALID_STATUS"));
        var lockedView = await locked.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(locked.StatusCode, Is.EqualTo(HttpStatusCode.OK), lockedView.ToString());
        Assert.That(lockedView.GetProperty("locked").GetBoolean(), Is.True, "the answer shows the write (read-your-writes)");
        Assert.That(lockedView.GetProperty("lockReason").GetString(), Is.EqualTo("customer reported loss"));
        Assert.That((await ApiClient.AssertProblemAsync(lockedTwice, HttpStatusCode.Conflict, "command-rejected")).GetProperty("reason").GetString(), Is.EqualTo("LOCKED"));

        var refused = await CaptureAsync(id, 10_000);
        Assert.That(refused.eventType, Is.EqualTo("operation.rejected"));
        Assert.That(((C.OperationRejected)refused.payload).reason, Is.EqualTo(C.RejectionReason.LOCKED));

        using var unlocked = await PostAsync($"/certificates/{id}/unlock", supportToken, """{"reason":"card found"}""");
        var unlockedView = await unlocked.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(unlocked.StatusCode, Is.EqualTo(HttpStatusCode.OK), unlockedView.ToString());
        Assert.That(unlockedView.GetProperty("locked").GetBoolean(), Is.False);

        var redeemed = await CaptureAsync(id, 10_000);
        Assert.That(redeemed.eventType, Is.EqualTo("certificate.redeemed"));
        Assert.That(((C.CertificateRedeemed)redeemed.payload).balanceAfterMinor, Is.EqualTo(Nominal - 10_000));
    }

    [TestCase("lock")]
    [TestCase("unlock")]
    public async Task LockOrUnlock_UnknownCertificate_Is404_MissingReason_Is400(string action)
    {
        using var unknown = await PostAsync($"/certificates/GC-NO-SUCH-ID/{action}", supportToken, """{"reason":"x"}""");
        using var noReason = await PostAsync($"/certificates/GC-NO-SUCH-ID/{action}", supportToken, "{}");

        Assert.That((await ApiClient.AssertProblemAsync(unknown, HttpStatusCode.NotFound, "certificate-not-found")).GetProperty("certificateId").GetString(), Is.EqualTo("GC-NO-SUCH-ID"));
        Assert.That((await ApiClient.AssertProblemAsync(noReason, HttpStatusCode.BadRequest, "invalid-field")).GetProperty("field").GetString(), Is.EqualTo("reason"));
    }

    [TestCase("/certificates/next", "gc.reserve")]
    [TestCase("/certificates/GC-ANY/lock", "gc.lock")]
    [TestCase("/certificates/GC-ANY/unlock", "gc.lock")]
    [TestCase("/pools/it-cmd-x/certificates", "gc.admin")]
    public async Task EveryWriteEndpoint_NoToken401_WrongScope403(string path, string scope)
    {
        var wrongScope = scope == "gc.reserve" ? supportToken : posToken; // support has no gc.reserve, the POS no gc.lock or gc.admin
        const string body = """{"poolId":"it-cmd-x","channel":"POS","nominalMinor":100000,"currency":"RUB","reason":"x"}""";

        using var anonymous = await PostAsync(path, token: null, body);
        using var badlySigned = await PostAsync(path, posToken[..^4] + "AAAA", body);
        using var forbidden = await PostAsync(path, wrongScope, body);
        using var crm = await PostAsync(path, crmToken, body);

        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(anonymous.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(badlySigned.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await forbidden.Content.ReadAsStringAsync(), Does.Contain(scope));
        Assert.That(crm.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task LoadOverHttp_Is201WithLevels_ReplayIs200AndAddsNothing_SameKeyOtherBodyIs422_ThenReservable()
    {
        const string pool = "it-cmd-load";
        var body = LoadBody(count: 4, series: 28, lowWatermark: 1);

        using var first = await PostAsync($"/pools/{pool}/certificates", adminToken, body, "load-key-1");
        using var replay = await PostAsync($"/pools/{pool}/certificates", adminToken, body, "load-key-1");
        using var other = await PostAsync($"/pools/{pool}/certificates", adminToken, LoadBody(count: 5, series: 28), "load-key-1");
        using var mismatch = await PostAsync($"/pools/{pool}/certificates", adminToken, LoadBody(count: 1, series: 28, channel: "INTERNET_STORE"), "load-key-2");

        var created = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created), created.ToString());
        Assert.That(first.Headers.Location?.ToString(), Is.EqualTo($"/pools/{pool}"));
        Assert.That((created.GetProperty("available").GetInt64(), created.GetProperty("loaded").GetInt64(), created.GetProperty("lowWatermark").GetInt32()), Is.EqualTo((4L, 4L, 1)));
        var replayed = await replay.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.OK), replayed.ToString());
        Assert.That(replayed.GetProperty("loaded").GetInt64(), Is.EqualTo(4), "the replay added nothing");
        Assert.That((await ApiClient.AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity, "idempotency-conflict")).GetProperty("reason").GetString(), Is.EqualTo("IDEMPOTENCY_CONFLICT"));
        Assert.That((await ApiClient.AssertProblemAsync(mismatch, HttpStatusCode.Conflict, "command-rejected")).GetProperty("reason").GetString(), Is.EqualTo("POOL_MISMATCH"));

        using var reserved = await ReserveAsync(posToken, Body(pool, null));
        Assert.That(reserved.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await GetJsonAsync($"/pools/{pool}", posToken)).GetProperty("available").GetInt64(), Is.EqualTo(3));
        var loads = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Count(r => r.Key == pool && r.Event.eventType == "pool.loaded");
        Assert.That(loads, Is.EqualTo(1), "one load on the stream");
    }

    [Test]
    public async Task LoadWithASeriesOfAnotherPool_Is409SeriesInUse_WhileThePoolItselfKeepsLoadingIt()
    {
        using var first = await PostAsync("/pools/it-cmd-series-a/certificates", adminToken, LoadBody(count: 2, series: 33));
        using var other = await PostAsync("/pools/it-cmd-series-b/certificates", adminToken, LoadBody(count: 2, series: 33));
        using var again = await PostAsync("/pools/it-cmd-series-a/certificates", adminToken, LoadBody(count: 1, series: 33));

        var created = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created), created.ToString());
        Assert.That(created.GetProperty("series").GetInt32(), Is.EqualTo(33));
        var problem = await ApiClient.AssertProblemAsync(other, HttpStatusCode.Conflict, "series-in-use");
        Assert.That((problem.GetProperty("series").GetInt32(), problem.GetProperty("seriesPoolId").GetString()), Is.EqualTo((33, "it-cmd-series-a")));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Created), await again.Content.ReadAsStringAsync());
    }

    [TestCase("""{"nominalMinor":100000,"currency":"RUB","count":1,"series":29}""", "channel")]
    [TestCase("""{"channel":"POS","nominalMinor":0,"currency":"RUB","count":1,"series":29}""", "nominalMinor")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUBLE","count":1,"series":29}""", "currency")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","series":29}""", "count")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":10001,"series":29}""", "count")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":1,"importedNumbers":["7700000000000000"]}""", "count")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","importedNumbers":["1234"]}""", "importedNumbers")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":1,"lowWatermark":-1,"series":29}""", "lowWatermark")]
    [TestCase("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":1,"series":100000}""", "series")]
    public async Task InvalidLoad_Is400Problem_NamingTheField(string json, string field)
    {
        using var response = await PostAsync("/pools/it-cmd-load-bad/certificates", adminToken, json);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-field");
        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo(field));
    }

    [Test]
    public async Task LoadWithoutASeriesForANewPool_IsRefusedByThePool_422()
    {
        using var response = await PostAsync("/pools/it-cmd-load-noseries/certificates", adminToken, LoadBody(count: 2, series: null));

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "command-rejected");
        Assert.That(problem.GetProperty("reason").GetString(), Is.EqualTo("INVALID_AMOUNT"));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("series"));
    }

    private static string LoadBody(int count, int? series, int lowWatermark = 0, string channel = "POS") =>
        JsonSerializer.Serialize(new { channel, nominalMinor = Nominal, currency = "RUB", count, lowWatermark, series });

    [Test]
    public async Task FiveHundredConcurrentReservations_OnAPoolOf300_Exactly300Certificates_And200Problems()
    {
        const string pool = "it-cmd-rush";
        await LoadAsync(pool, C.Channel.POS, count: 300, series: 25);
        var created = new ConcurrentBag<string>();
        var problems = new ConcurrentBag<(HttpStatusCode Status, string? Type)>();
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, 500).Select(async i =>
        {
            using var response = await ReserveAsync(posToken, Body(pool, $"order-rush-{i}"));
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                created.Add(body.GetProperty("certificateId").GetString()!);
            }
            else
            {
                problems.Add((response.StatusCode, body.TryGetProperty("type", out var type) ? type.GetString() : body.ToString()));
            }
        }));
        var elapsed = clock.Elapsed;
        TestContext.Progress.WriteLine($"500 concurrent reservations answered in {elapsed.TotalSeconds:F1} s");

        Assert.That(created, Has.Count.EqualTo(300), string.Join(", ", problems.GroupBy(p => p).Select(g => $"{g.Key} x{g.Count()}")));
        Assert.That(created.Distinct().Count(), Is.EqualTo(300), "every certificate given once");
        Assert.That(problems.Select(p => p.Status).Distinct(), Is.EqualTo(new[] { HttpStatusCode.Conflict }), string.Join(", ", problems.Distinct()));
        Assert.That(problems, Has.Count.EqualTo(200));
        Assert.That(problems.Select(p => p.Type).Distinct(), Is.EqualTo(new[] { "https://gcpstreams.dev/problems/pool-empty" }));
        var levels = await GetJsonAsync($"/pools/{pool}", posToken);
        Assert.That(levels.GetProperty("available").GetInt64(), Is.Zero);
        Assert.That(levels.GetProperty("reserved").GetInt32(), Is.EqualTo(300));
        Assert.That(levels.GetProperty("loaded").GetInt64(), Is.EqualTo(300));
    }

    private static string Body(string pool, string? orderId) =>
        JsonSerializer.Serialize(new { poolId = pool, channel = "POS", nominalMinor = Nominal, currency = "RUB", orderId, holdSeconds = 600 });

    [Test]
    public async Task Cvc_ForANotificationRequestUntilItsResult_ThenConflict_NoStore_AndNeverOnTheStream()
    {
        var (id, notification) = await IssuedAsync("it-cmd-cvc", series: 26, "order-cvc-1");
        var expected = Domain.Cvc.Derive(Convert.FromBase64String(ServiceInstance.CvcKey), 1, id);

        using var forbidden = await GetAsync($"/certificates/{id}/cvc?notificationId={notification.notificationId}", posToken);
        using var first = await GetAsync($"/certificates/{id}/cvc?notificationId={notification.notificationId}", crmToken);
        using var retried = await GetAsync($"/certificates/{id}/cvc?notificationId={notification.notificationId}", crmToken);
        using var neither = await GetAsync($"/certificates/{id}/cvc", crmToken);

        Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "pos-terminal has no gc.cvc.notify");
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), await first.Content.ReadAsStringAsync());
        var body = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That((body.GetProperty("cvc").GetString(), body.GetProperty("keyVersion").GetInt32()), Is.EqualTo((expected, 1)));
        Assert.That(first.Headers.CacheControl?.NoStore, Is.True);
        Assert.That(retried.StatusCode, Is.EqualTo(HttpStatusCode.OK), "no result yet: the notifier may read again (a retry)");
        await ApiClient.AssertProblemAsync(neither, HttpStatusCode.BadRequest, "invalid-parameter");

        // CRM records the result: the grant closes
        var sent = shop.WaitForEventAsync(id, "notification.sent", Timeout, CancellationToken.None);
        await shop.ProduceAsync(Topics.NotificationResults, id, new C.NotificationResult
        {
            eventId = Guid.NewGuid().ToString(), notificationId = notification.notificationId, certificateId = id, contactChannel = C.ContactChannel.EMAIL,
            outcome = C.NotificationOutcome.SENT, attempt = 1, willRetry = false, occurredAt = DateTime.UtcNow,
        }, CancellationToken.None);
        await sent;
        using var after = await GetAsync($"/certificates/{id}/cvc?notificationId={notification.notificationId}", crmToken);
        await ApiClient.AssertProblemAsync(after, HttpStatusCode.Conflict, "cvc-disclosure-not-allowed");

        var disclosed = await shop.WaitForEventAsync(id, "cvc.disclosed", Timeout, CancellationToken.None);
        var stream = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Where(e => e.Key == id).Select(e => e.Event).ToList();
        Assert.That(stream.Count(e => e.eventType == "cvc.disclosed"), Is.EqualTo(2), "every read audited on the stream");
        Assert.That(((C.CvcDisclosed)disclosed.payload).requestedBy, Is.EqualTo("crm-notifier"));
        Assert.That(typeof(C.CvcDisclosed).GetFields().Select(f => f.Name.ToLowerInvariant()), Has.None.EqualTo("cvc"), "the event has no field for the CVC");
    }

    [Test]
    public async Task NotificationAgain_BySupportWithAReason_IsANewNotificationRequest_ThatGrantsItsOwnCvcReads()
    {
        var (id, notification) = await IssuedAsync("it-cmd-resend", series: 27, "order-resend-1");
        var path = $"/certificates/{id}/notifications";

        using var noReason = await PostAsync(path, supportToken, "{}");
        using var notSupport = await PostAsync(path, posToken, """{"reason":"x"}""");
        using var unknown = await PostAsync("/certificates/7700000000000000/notifications", supportToken, """{"reason":"x"}""");
        Assert.That((await ApiClient.AssertProblemAsync(noReason, HttpStatusCode.BadRequest, "invalid-field")).GetProperty("field").GetString(), Is.EqualTo("reason"));
        Assert.That(notSupport.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "gc.cvc.support asks for it again");
        await ApiClient.AssertProblemAsync(unknown, HttpStatusCode.NotFound, "certificate-not-found");

        using var accepted = await PostAsync(path, supportToken, """{"reason":"buyer lost the e-mail"}""");

        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await accepted.Content.ReadAsStringAsync());
        var again = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("notificationId").GetString();
        Assert.That(again, Is.Not.Null.And.Not.EqualTo(notification.notificationId));
        var events = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Where(e => e.Key == id && e.Event.eventType == "notification.requested")
            .Select(e => (C.NotificationRequested)e.Event.payload).ToList();
        Assert.That(events.Select(e => e.notificationId), Is.EqualTo(new[] { notification.notificationId, again }));
        Assert.That((events[1].requestedBy, events[1].reason), Is.EqualTo(("support", "buyer lost the e-mail")));
        using var cvc = await GetAsync($"/certificates/{id}/cvc?notificationId={again}", crmToken);
        Assert.That(cvc.StatusCode, Is.EqualTo(HttpStatusCode.OK), await cvc.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task SupportCvc_NeedsItsOwnScopeAGrantAndAReason_IsCappedPerDay_AndEachIsAnEventWithoutTheCvc()
    {
        var (id, notification) = await IssuedAsync("it-cmd-cvc-support", series: 41, "order-cvc-2");
        var path = $"/certificates/{id}/cvc/support-disclosures";
        async Task<string> Request(string ticket) => SupportGrants.Disclosure(await api.MintAsync(supportToken, id, ticket));

        using var crmOnSupportPath = await PostAsync(path, crmToken, await Request("made-up-1"));
        using var supportOnNotificationPath = await GetAsync($"/certificates/{id}/cvc?notificationId={notification.notificationId}", supportToken);
        using var noReason = await PostAsync(path, supportToken, JsonSerializer.Serialize(new { grant = await api.MintAsync(supportToken, id, "T-1") }));
        using var freeTextTicket = await PostAsync(path, supportToken, """{"supportTicket":"T-1","reason":"x"}""");
        Assert.That(crmOnSupportPath.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "the notifier's grant is for notifications only");
        Assert.That(supportOnNotificationPath.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "support cannot use a notification grant");
        Assert.That((await ApiClient.AssertProblemAsync(noReason, HttpStatusCode.BadRequest, "invalid-field")).GetProperty("field").GetString(), Is.EqualTo("reason"));
        Assert.That((await ApiClient.AssertProblemAsync(freeTextTicket, HttpStatusCode.BadRequest, "invalid-field")).GetProperty("field").GetString(), Is.EqualTo("grant"),
            "a free-text ticket is no longer taken: the ticket comes from a grant");

        var expected = Domain.Cvc.Derive(Convert.FromBase64String(ServiceInstance.CvcKey), 1, id);
        for (var i = 1; i <= Domain.Certificates.CertificateSettings.DefaultSupportDisclosuresPerDay; i++)
        {
            using var ok = await PostAsync(path, supportToken, await Request($"TICKET-{i}"));
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), await ok.Content.ReadAsStringAsync());
            Assert.That((await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cvc").GetString(), Is.EqualTo(expected));
            Assert.That(ok.Headers.CacheControl?.NoStore, Is.True);
        }

        using var sameTicket = await PostAsync(path, supportToken, await Request("TICKET-1"));
        using var overTheCap = await PostAsync(path, supportToken, await Request("TICKET-99"));
        await ApiClient.AssertProblemAsync(sameTicket, HttpStatusCode.Conflict, "cvc-disclosure-not-allowed");
        Assert.That((await ApiClient.AssertProblemAsync(overTheCap, HttpStatusCode.Conflict, "cvc-disclosure-not-allowed")).GetProperty("detail").GetString(), Does.Contain("24 hours"));

        var stream = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Where(e => e.Key == id).Select(e => e.Event).ToList();
        Assert.That(stream.Count(e => e.payload is C.Alert { kind: C.AlertKind.CVC_DISCLOSURE_LIMIT }), Is.EqualTo(1), "hitting the daily cap raises an alert");
        var disclosures = stream.Where(e => e.eventType == "cvc.disclosed").Select(e => (C.CvcDisclosed)e.payload).ToList();
        Assert.That(disclosures.Select(d => (d.kind, d.supportTicket, d.reason, d.requestedBy, d.agent)), Is.EqualTo(Enumerable.Range(1, Domain.Certificates.CertificateSettings.DefaultSupportDisclosuresPerDay)
            .Select(i => (C.DisclosureKind.SUPPORT, (string?)$"TICKET-{i}", (string?)"caller verified by phone", "support", (string?)"agent.ivanova"))),
            "every support disclosure is an event naming ticket, reason, caller and agent");
    }

    [Test]
    public async Task IdempotencyKey_ReusedOnAnotherPool_Is422AndReservesNothingThere()
    {
        await LoadAsync("it-cmd-idem-a", C.Channel.POS, count: 2, series: 42);
        await LoadAsync("it-cmd-idem-b", C.Channel.POS, count: 2, series: 43);

        using var first = await ReserveAsync(posToken, Body("it-cmd-idem-a", null), "cross-pool-key");
        using var elsewhere = await ReserveAsync(posToken, Body("it-cmd-idem-b", null), "cross-pool-key");
        using var otherClient = await ReserveAsync(adminToken, Body("it-cmd-idem-b", null), "cross-pool-key");

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await ApiClient.AssertProblemAsync(elsewhere, HttpStatusCode.UnprocessableEntity, "idempotency-conflict")).GetProperty("reason").GetString(), Is.EqualTo("IDEMPOTENCY_CONFLICT"));
        Assert.That(otherClient.StatusCode, Is.EqualTo(HttpStatusCode.Created), "the key is the client's own: another client may use the same one");
        Assert.That((await GetJsonAsync("/pools/it-cmd-idem-b", posToken)).GetProperty("reserved").GetInt32(), Is.EqualTo(1), "only the other client's reservation");
    }

    [Test]
    public async Task PhantomPools_ReservationsForHundredsOfRandomPools_Are404AndNothingGrows()
    {
        var poolsBefore = (await GetJsonAsync("/pools", posToken)).GetProperty("items").GetArrayLength();
        var random = new Random(2026);
        var ids = Enumerable.Range(0, 300).Select(i => $"phantom-{random.Next():x8}-{i}").ToList();

        var statuses = await Task.WhenAll(ids.Select(async poolId =>
        {
            using var response = await ReserveAsync(posToken, Body(poolId, null));
            return response.StatusCode;
        }));

        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await GetJsonAsync("/pools", posToken)).GetProperty("items").GetArrayLength(), Is.EqualTo(poolsBefore), "no pool was created");
        var named = ids.ToHashSet();
        Assert.That(Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Where(e => e.Event.poolId is { } p && named.Contains(p)), Is.Empty,
            "no issue.blocked, no rejection, no alert on the stream");
    }

    [Test]
    public async Task Return_OfAnUnusedCertificate_KeepsTheBuyer_AndItsHistorySaysWhatTheCancellationTookOff()
    {
        const string pool = "it-cmd-return";
        var (id, _) = await IssuedAsync(pool, series: 44, "order-ret-1");
        var cancelled = shop.WaitForEventAsync(id, "certificate.cancelled", Timeout, CancellationToken.None);
        var order = Pools.PaidOrder("order-ret-1", id, pool, C.Channel.POS, Nominal);
        (order.eventId, order.status) = ("order-ret-1-returned", C.OrderStatus.RETURNED);
        await shop.ProduceAsync(Topics.SalesOrders, "order-ret-1", order, CancellationToken.None);
        Assert.That(await service.ReadModel.WaitForEventAsync((await cancelled).eventId, Timeout, id), Is.True);

        var certificate = await GetJsonAsync($"/certificates/{id}", supportToken);
        Assert.That(certificate.GetProperty("status").GetString(), Is.EqualTo("CANCELLED"));
        Assert.That(certificate.GetProperty("balanceMinor").GetInt64(), Is.Zero);
        Assert.That(certificate.GetProperty("clientId").ValueKind, Is.EqualTo(JsonValueKind.String), "the buyer stays");
        Assert.That(certificate.GetProperty("issuedAt").ValueKind, Is.EqualTo(JsonValueKind.String));
        var history = (await GetJsonAsync($"/certificates/{id}/history", posToken)).GetProperty("events").EnumerateArray().ToList();
        var cancellation = history.Single(e => e.GetProperty("eventType").GetString() == "certificate.cancelled");
        Assert.That((cancellation.GetProperty("amountMinor").GetInt64(), cancellation.GetProperty("balanceAfterMinor").GetInt64(), cancellation.GetProperty("heldAfterMinor").GetInt64()),
            Is.EqualTo((Nominal, 0L, 0L)));
        Assert.That(history.Select(e => e.GetProperty("sequence").GetInt64()), Is.EqualTo(Enumerable.Range(1, history.Count).Select(i => (long)i)), "one gap-free sequence from the reservation on");
        Assert.That(certificate.GetProperty("sequence").GetInt64(), Is.EqualTo(history.Count));
    }

    private Task<HttpResponseMessage> GetAsync(string path, string token) => api.SendAsync(HttpMethod.Get, path, token);

    /// <summary>Loads a pool, reserves one of its certificates over HTTP and pays the order; returns the certificate once its notification request is in the read model.</summary>
    private async Task<(string Id, C.NotificationRequested Notification)> IssuedAsync(string pool, int series, string orderId)
    {
        await LoadAsync(pool, C.Channel.POS, count: 1, series: series);
        using var reserved = await ReserveAsync(posToken, Body(pool, orderId));
        var id = (await reserved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("certificateId").GetString()!;
        var requested = shop.WaitForEventAsync(id, "notification.requested", Timeout, CancellationToken.None);
        await shop.ProduceAsync(Topics.SalesOrders, orderId, Pools.PaidOrder(orderId, id, pool, C.Channel.POS, Nominal), CancellationToken.None);
        var notification = await requested;
        Assert.That(await service.ReadModel.WaitForEventAsync(notification.eventId, Timeout, id), Is.True);
        return (id, (C.NotificationRequested)notification.payload);
    }

    private async Task LoadAsync(string pool, C.Channel channel, int count, int series)
    {
        var load = await shop.SendCommandAsync(pool, Pools.Load(pool, channel, Nominal, count, series), Timeout, CancellationToken.None);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        Assert.That(await service.ReadModel.WaitForEventAsync(load.eventId, Timeout), Is.True, "the load reached the read model");
    }

    private async Task<C.GiftCertificateEvent> CaptureAsync(string id, long amount)
    {
        var capture = Pools.Payment(C.PaymentOperation.CAPTURE, id, amount, null, C.Channel.POS);
        var outcome = shop.WaitForOutcomeAsync(capture.eventId, Timeout, CancellationToken.None);
        await shop.ProduceAsync(Topics.Payments, capture.paymentId, capture, CancellationToken.None);
        return await outcome;
    }

    private Task<HttpResponseMessage> ReserveAsync(string token, string json, string? idempotencyKey = null) =>
        PostAsync("/certificates/next", token, json, idempotencyKey);

    private Task<HttpResponseMessage> PostAsync(string path, string? token, string json, string? idempotencyKey = null) =>
        api.SendAsync(HttpMethod.Post, path, token, json, idempotencyKey is null ? null : new Dictionary<string, string> { ["Idempotency-Key"] = idempotencyKey });

    private async Task<JsonElement> GetJsonAsync(string path, string token)
    {
        using var response = await GetAsync(path, token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"GET {path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
