using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.Security;
using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Traffic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The API's security and audit against the whole service on the embedded broker: every endpoint x every kind of token,
/// every call audited on GiftCertificates.Audit and in the log, and after a CVC disclosure the CVC found in no topic,
/// store, log line or read-model answer. One service for the fixture; its log is captured at Debug.
/// </summary>
[NonParallelizable]
public class ApiPolicyIntegrationTests
{
    private const string PoolId = "it-policy-pool";
    private const string OrderId = "order-it-policy-1";
    private const long Nominal = 100_000;
    private const string CvcCorrelationId = "corr-it-cvc-1";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly CapturedLogs logs = new();
    private ServiceInstance service = null!;
    private ApiClient api = null!;
    private string certificateId = null!;
    private string cvc = null!;
    private string[] spareNumbers = null!;

    [OneTimeSetUp]
    public async Task StartServiceSellACertificateAndDiscloseItsCvc()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-policy", logging: l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);

        // a CVC with a leading zero: no count, offset or port in a log line looks like it, so a find is a leak
        var cvcKey = Convert.FromBase64String(ServiceInstance.CvcKey);
        var numbers = Enumerable.Range(0, 1_000).Select(i => CertificateNumber.Generate(Encoding.UTF8.GetBytes("policy-test-numbering-key"), 950, i)).ToList();
        certificateId = numbers.First(n => Cvc.Derive(cvcKey, 1, n).StartsWith('0'));
        cvc = Cvc.Derive(cvcKey, 1, certificateId);
        spareNumbers = [.. numbers.Where(n => n != certificateId).Take(3)];

        var admin = await api.TokenAsync("admin");
        var load = await api.CallAsync(HttpMethod.Post, $"/pools/{PoolId}/certificates", admin, LoadBody([certificateId, .. spareNumbers]));
        Assert.That(load.Status, Is.EqualTo(HttpStatusCode.Created), load.Body.ToString());

        var pos = await api.TokenAsync("pos-terminal");
        var reserved = await api.CallAsync(HttpMethod.Post, "/certificates/next", pos, ReserveBody(OrderId));
        Assert.That(reserved.Status, Is.EqualTo(HttpStatusCode.Created), reserved.Body.ToString());
        Assert.That(reserved.Body!.Value.GetProperty("certificateId").GetString(), Is.EqualTo(certificateId), "FIFO: the first imported number");

        await using var shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        var requested = shop.WaitForEventAsync(certificateId, "notification.requested", Timeout, CancellationToken.None);
        await shop.ProduceAsync(Topics.SalesOrders, OrderId, Pools.PaidOrder(OrderId, certificateId, PoolId, C.Channel.POS, Nominal), CancellationToken.None);
        var notification = await requested;
        Assert.That(await service.ReadModel.WaitForEventAsync(notification.eventId, Timeout, certificateId), Is.True);

        var crm = await api.TokenAsync("crm-notifier");
        var disclosed = await api.CallAsync(HttpMethod.Get, $"/certificates/{certificateId}/cvc?notificationId={((C.NotificationRequested)notification.payload).notificationId}", crm,
            headers: new Dictionary<string, string> { ["X-Correlation-Id"] = CvcCorrelationId });
        Assert.That(disclosed.Status, Is.EqualTo(HttpStatusCode.OK), disclosed.Body.ToString());
        Assert.That(disclosed.Body!.Value.GetProperty("cvc").GetString(), Is.EqualTo(cvc));
        Assert.That(disclosed.Response.Headers.GetValues("X-Correlation-Id").Single(), Is.EqualTo(CvcCorrelationId));
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

    /// <summary>Every endpoint of the API: the scope its policy needs, a client that has it, one that does not, and a good request.</summary>
    /// <param name="supportGrant">A CVC support grant for the certificate, issued to the client <c>support</c>.</param>
    private IEnumerable<(HttpMethod Method, string Path, string Scope, string RightClient, string WrongClient, string? Body, HttpStatusCode Success)> Endpoints(string supportGrant)
    {
        var id = certificateId;
        yield return (HttpMethod.Get, $"/certificates/{id}", GcpScopes.Read, "crm-notifier", "admin-no-read", null, HttpStatusCode.OK);
        yield return (HttpMethod.Get, $"/certificates?poolId={PoolId}", GcpScopes.Read, "pos-terminal", "admin-no-read", null, HttpStatusCode.OK);
        yield return (HttpMethod.Get, $"/certificates/{id}/history", GcpScopes.Read, "support", "admin-no-read", null, HttpStatusCode.OK);
        yield return (HttpMethod.Get, "/pools", GcpScopes.Read, "internet-store", "admin-no-read", null, HttpStatusCode.OK);
        yield return (HttpMethod.Get, $"/pools/{PoolId}", GcpScopes.Read, "pos-terminal", "admin-no-read", null, HttpStatusCode.OK);
        yield return (HttpMethod.Post, "/certificates/next", GcpScopes.Reserve, "pos-terminal", "support", ReserveBody(null), HttpStatusCode.Created);
        yield return (HttpMethod.Post, $"/certificates/{id}/lock", GcpScopes.Lock, "support", "pos-terminal", """{"reason":"policy test"}""", HttpStatusCode.OK);
        yield return (HttpMethod.Post, $"/certificates/{id}/unlock", GcpScopes.Lock, "support", "crm-notifier", """{"reason":"policy test"}""", HttpStatusCode.OK);
        yield return (HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", GcpScopes.CvcSupport, "support", "crm-notifier",
            SupportGrants.Disclosure(supportGrant, "policy test"), HttpStatusCode.OK);
        yield return (HttpMethod.Post, Api.Endpoints.DevSupportTicketsApi.Path, GcpScopes.CvcSupport, "support", "crm-notifier",
            JsonSerializer.Serialize(new { certificateId = id, ticketId = "TICKET-POLICY", agentId = "agent-1" }), HttpStatusCode.OK);
        yield return (HttpMethod.Get, $"/certificates/{id}/cvc?notificationId=no-such-notification", GcpScopes.CvcNotify, "crm-notifier", "support", null, HttpStatusCode.Conflict);
        yield return (HttpMethod.Post, $"/certificates/{id}/notifications", GcpScopes.CvcSupport, "support", "crm-notifier", """{"reason":"policy test"}""", HttpStatusCode.Accepted);
        yield return (HttpMethod.Post, $"/pools/{PoolId}-more/certificates", GcpScopes.Admin, "admin", "support", LoadBody(count: 2, series: 951), HttpStatusCode.Created);
    }

    [Test]
    public async Task EveryEndpoint_NoToken401_ExpiredOrBadlySigned401_WrongScope403_RightScopeSucceeds()
    {
        var signing = service.Services.GetRequiredService<EmbeddedSigningKey>().SigningCredentials;
        var issuer = new JsonWebToken(await api.TokenAsync("admin")).Issuer;
        var allScopes = string.Join(' ', GcpScopes.All);
        var now = DateTime.UtcNow;
        var expired = Sign(signing, issuer, allScopes, now.AddHours(-2), now.AddHours(-1)); // the service's own key, an hour past expiry
        using var stranger = RSA.Create(2048);
        var badlySigned = Sign(new SigningCredentials(new RsaSecurityKey(stranger) { KeyId = "stranger" }, SecurityAlgorithms.RsaSha256), issuer, allScopes, now.AddMinutes(-1), now.AddHours(1));
        var tampered = Tamper(await api.TokenAsync("pos-terminal", GcpScopes.Read), allScopes);

        var supportGrant = await api.MintAsync(await api.TokenAsync("support"), certificateId, $"TICKET-{Guid.NewGuid():N}");
        foreach (var (method, path, scope, rightClient, wrongClient, body, success) in Endpoints(supportGrant))
        {
            var what = $"{method} {path}";
            foreach (var (token, kind) in new[] { ((string?)null, "no token"), (expired, "expired"), (badlySigned, "badly signed"), (tampered, "tampered") })
            {
                using var refused = await api.SendAsync(method, path, token, body);
                var text = await refused.Content.ReadAsStringAsync();
                Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), $"{what}, {kind}: {text}");
                Assert.That(refused.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), $"{what}, {kind}");
                var title = JsonDocument.Parse(text).RootElement.GetProperty("title").GetString();
                Assert.That(title, kind == "expired" ? Is.EqualTo("Expired access token") : Is.Not.Empty, $"{what}, {kind}");
            }

            var wrong = wrongClient == "admin-no-read" ? await api.TokenAsync("admin", GcpScopes.Admin) : await api.TokenAsync(wrongClient);
            using var forbidden = await api.SendAsync(method, path, wrong, body);
            Assert.That(await forbidden.Content.ReadAsStringAsync(), Does.Contain(scope), $"{what}: the 403 names the missing scope");
            Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), what);

            using var allowed = await api.SendAsync(method, path, await api.TokenAsync(rightClient), body);
            Assert.That(allowed.StatusCode, Is.EqualTo(success), $"{what} with {rightClient}: {await allowed.Content.ReadAsStringAsync()}");
        }
    }

    [Test]
    public async Task EveryCall_IsAudited_OnTheAuditTopicAndInTheLog_WithCallerEndpointTargetOutcomeLatencyAndCorrelation()
    {
        using (var anonymous = await api.SendAsync(HttpMethod.Get, $"/certificates/{certificateId}", token: null, headers: new Dictionary<string, string> { ["X-Correlation-Id"] = "corr-it-anonymous" }))
        {
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        var codec = new Codec(service.Registry);
        List<(string Key, C.AuditRecord Record)> audit = [];
        await Kafka.Eventually(() =>
        {
            audit = [.. Kafka.ReadTopic(service.Kafka.BootstrapServers, Topics.Audit.Name).Select(m => (Encoding.UTF8.GetString(m.Key), codec.Decode(Topics.Audit, m.Value)))];
            return audit.Any(a => a.Record.correlationId == "corr-it-anonymous");
        }, "the anonymous call on the audit topic", Timeout);

        var (cvcKey, cvcCall) = audit.Single(a => a.Record.correlationId == CvcCorrelationId);
        Assert.That(cvcKey, Is.EqualTo(certificateId));
        Assert.That((cvcCall.caller, cvcCall.clientId, cvcCall.method, cvcCall.endpoint, cvcCall.certificateId, cvcCall.statusCode, cvcCall.outcome),
            Is.EqualTo(("crm-notifier", "crm-notifier", "GET", "/certificates/{id}/cvc", certificateId, 200, "ok")));
        Assert.That(cvcCall.latencyMs, Is.GreaterThan(0));
        Assert.That(cvcCall.occurredAt, Is.EqualTo(DateTime.UtcNow).Within(TimeSpan.FromMinutes(10)));

        var anonymousCall = audit.Single(a => a.Record.correlationId == "corr-it-anonymous").Record;
        Assert.That((anonymousCall.clientId, anonymousCall.statusCode, anonymousCall.outcome, anonymousCall.certificateId), Is.EqualTo(("anonymous", 401, "unauthenticated", certificateId)));

        var reservation = audit.Single(a => a.Record.endpoint == "/certificates/next" && a.Record.certificateId == certificateId).Record;
        Assert.That((reservation.clientId, reservation.poolId, reservation.statusCode), Is.EqualTo(("pos-terminal", PoolId, 201)));
        var load = audit.Single(a => a.Record.endpoint == "/pools/{id}/certificates" && a.Record.poolId == PoolId).Record;
        Assert.That((load.clientId, load.statusCode, load.outcome), Is.EqualTo(("admin", 201, "ok")));

        Assert.That(audit.Select(a => a.Record.auditId).Distinct().Count(), Is.EqualTo(audit.Count), "one record per call");
        Assert.That(logs.Lines.Where(l => l.Contains("GcpStreams.Audit", StringComparison.Ordinal)), Has.None.Contains(cvcCall.auditId),
            "Gcp:AuditLog Fallback (the default): a call whose record reached the topic has no log line");
    }

    [Test]
    public async Task AfterACvcDisclosure_TheCvcIsInNoTopicStateStoreLogLineOrReadModelAnswer()
    {
        // the disclosure is audited on the stream and the audit topic before we look
        var codec = new Codec(service.Registry);
        await Kafka.Eventually(
            () => Kafka.ReadTopic(service.Kafka.BootstrapServers, Topics.Audit.Name).Any(m => codec.Decode(Topics.Audit, m.Value).correlationId == CvcCorrelationId),
            "the disclosure on the audit topic", Timeout);
        Assert.That(Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Count(e => e.Key == certificateId && e.Event.eventType == "cvc.disclosed"), Is.EqualTo(1));

        var topics = Kafka.TopicNames(service.Kafka.BootstrapServers);
        Assert.That(topics, Does.Contain(Topics.Audit.Name).And.Contain(Topics.Stream.Name).And.Contain(Topics.State.Name).And.Some.Contains("changelog"), "every kind of topic is scanned");
        var stateDir = service.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GcpStreams.Api.Hosting.KafkaOptions>>().Value.StateDir;
        var storeFiles = Directory.EnumerateFiles(stateDir, "*", SearchOption.AllDirectories).ToList();
        Assert.That(storeFiles, Is.Not.Empty, "the state stores are on disk");
        var scan = CvcSecrecy.Scan(cvc, service.Kafka.BootstrapServers, storeFiles, logs.Lines);
        var leaks = scan.Leaks;
        var standalone = CvcSecrecy.Standalone(cvc);

        var support = await api.TokenAsync("support");
        foreach (var path in new[] { $"/certificates/{certificateId}", $"/certificates/{certificateId}/history", $"/certificates?poolId={PoolId}" })
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, support);
            var body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
            if (standalone.IsMatch(body))
            {
                leaks.Add($"GET {path}");
            }
        }

        Assert.That(scan.Records, Is.GreaterThan(10), "the topics were read");
        Assert.That(logs.Lines, Has.Count.GreaterThan(10), "the log was captured");
        Assert.That(leaks, Is.Empty, $"the CVC {cvc} of {certificateId} leaked");
    }

    private static string LoadBody(string[]? imported = null, int? count = null, int? series = null) =>
        JsonSerializer.Serialize(new { channel = "POS", nominalMinor = Nominal, currency = "RUB", importedNumbers = imported, count, series });

    private static string ReserveBody(string? orderId) =>
        JsonSerializer.Serialize(new { poolId = PoolId, channel = "POS", nominalMinor = Nominal, currency = "RUB", orderId, holdSeconds = 600 });

    private static string Sign(SigningCredentials credentials, string issuer, string scope, DateTime notBefore, DateTime expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = AuthOptions.DefaultAudience,
            Subject = new ClaimsIdentity([new Claim("sub", "admin"), new Claim("client_id", "admin"), new Claim("scope", scope)]),
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = credentials,
            TokenType = "at+jwt",
        });

    /// <summary>The same token with every scope written into its payload, the original signature kept.</summary>
    private static string Tamper(string token, string scopes)
    {
        var parts = token.Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Base64UrlEncoder.Decode(parts[1]))!;
        payload["scope"] = JsonSerializer.SerializeToElement(scopes);
        return $"{parts[0]}.{Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload))}.{parts[2]}";
    }
}
