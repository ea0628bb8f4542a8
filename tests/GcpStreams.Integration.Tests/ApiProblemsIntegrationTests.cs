using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GcpStreams.Api.Auditing;
using GcpStreams.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Every 4xx of the API is an RFC 7807 problem with <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, <c>instance</c>
/// and <c>traceId</c>: bad bodies of the write endpoints (one test per kind of bad body), unknown paths and wrong methods;
/// each bad body is audited as <c>invalid</c>; and every audited route is recorded with its route template. One service
/// for the fixture (its request bodies limited to 16 KB), its audit log captured.
/// </summary>
[NonParallelizable]
public class ApiProblemsIntegrationTests
{
    private const int MaxRequestBodySize = 16_384;
    private const string Reserve = "/certificates/next";
    private const string Load = "/pools/it-problems-pool/certificates";
    private const string WholeNumber64 = "a whole number (JSON number without fraction, within 64-bit range)";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly CapturedLogs logs = new();
    private ServiceInstance service = null!;
    private ApiClient api = null!;
    private string posToken = null!;
    private string supportToken = null!;
    private string adminToken = null!;

    [OneTimeSetUp]
    public async Task StartService()
    {
        service = await ServiceInstance.StartEmbeddedAsync(
            "gcp-it-problems",
            settings: new Dictionary<string, string?> { ["Gcp:AuditLog"] = "EveryCall" },
            logging: logging => logging.AddProvider(logs).AddFilter<CapturedLogs>("GcpStreams.Audit", LogLevel.Information),
            services: services => services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxRequestBodySize));
        api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        posToken = await api.TokenAsync("pos-terminal");
        supportToken = await api.TokenAsync("support");
        adminToken = await api.TokenAsync("admin");
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
    public async Task MalformedJson_Is400InvalidField_Body_WithTheLineAndByteOfTheError()
    {
        const string json = """{"poolId": "pos-1", "channel": POS}""";
        var problem = await BadBodyAsync(Reserve, posToken, Json(json), HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("body"));
        Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith($"The body is not valid JSON (line 1, byte {json.IndexOf('P', StringComparison.Ordinal) + 1}): ").And.Contain("'P'"));
    }

    [TestCase("\"abc\"")]
    [TestCase("\"100000\"")]
    public async Task StringWhereANumberBelongs_Is400InvalidField_NamingTheMember(string nominal)
    {
        var problem = await BadBodyAsync(Reserve, posToken, Json(ReserveBody(nominalMinor: nominal)), HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("nominalMinor"));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo($"nominalMinor must be {WholeNumber64}, got a string."));
    }

    [Test]
    public async Task NumberWhereAStringBelongs_Is400InvalidField_NamingTheMember()
    {
        var reserve = await BadBodyAsync(Reserve, posToken, Json(ReserveBody(poolId: "42")), HttpStatusCode.BadRequest, "invalid-field");
        var unlock = await BadBodyAsync("/certificates/7700000000000000/unlock", supportToken, Json("""{"reason": 5}"""), HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(reserve.GetProperty("field").GetString(), Is.EqualTo("poolId"));
        Assert.That(reserve.GetProperty("detail").GetString(), Is.EqualTo("poolId must be a string, got a number (42)."));
        Assert.That(unlock.GetProperty("field").GetString(), Is.EqualTo("reason"));
        Assert.That(unlock.GetProperty("detail").GetString(), Is.EqualTo("reason must be a string, got a number (5)."));
    }

    [Test]
    public async Task ArrayBody_Is400InvalidField_Body_SayingAnObjectIsExpected()
    {
        var problem = await BadBodyAsync(Reserve, posToken, Json("[]"), HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("body"));
        Assert.That(problem.GetProperty("detail").GetString(),
            Is.EqualTo("The body must be a JSON object (members poolId, channel, nominalMinor, currency, orderId, holdSeconds), got an array."));
    }

    [Test]
    public async Task NumberBeyond64Bits_1e30_Is400InvalidField_NamingTheMember()
    {
        var problem = await BadBodyAsync(Reserve, posToken, Json(ReserveBody(nominalMinor: "1e30")), HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("nominalMinor"));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo($"nominalMinor must be {WholeNumber64}, got a number (1e30)."));
    }

    [Test]
    public async Task FractionWhereA32BitWholeNumberBelongs_Is400InvalidField_NamingTheMember()
    {
        var problem = await BadBodyAsync(Load, adminToken, Json("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":1.5,"series":61}"""),
            HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("count"));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("count must be a whole number (JSON number without fraction, within 32-bit range), got a number (1.5)."));
    }

    [Test]
    public async Task NullArrayElement_Is400InvalidField_NamingTheElement()
    {
        var problem = await BadBodyAsync(Load, adminToken, Json("""{"channel":"POS","nominalMinor":100000,"currency":"RUB","importedNumbers":["7700000000000000",null]}"""),
            HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("importedNumbers[1]"));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("importedNumbers[1] must be a string, got null."));
    }

    [TestCase(Reserve, "pos-terminal", "body", "A JSON body {poolId, channel, nominalMinor, currency, orderId?, holdSeconds?} is required.")]
    [TestCase(Load, "admin", "body", "A JSON body {channel, nominalMinor, currency, count | importedNumbers, lowWatermark?, series?} is required.")]
    [TestCase("/certificates/7700000000000000/lock", "support", "reason", "reason is required: 1 to 200 characters saying why.")]
    public async Task EmptyBody_Is400InvalidField_SayingWhatTheEndpointNeeds(string path, string client, string field, string detail)
    {
        var problem = await BadBodyAsync(path, await api.TokenAsync(client), Json(string.Empty), HttpStatusCode.BadRequest, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo(field));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo(detail));
    }

    [TestCase(Reserve)]
    [TestCase("/certificates/7700000000000000/lock")]
    [TestCase("/certificates/7700000000000000/unlock")]
    [TestCase(Load)]
    public async Task TextPlainBody_Is415UnsupportedMediaType_AskingForApplicationJson(string path)
    {
        var token = path == Reserve ? posToken : path == Load ? adminToken : supportToken;
        var problem = await BadBodyAsync(path, token, new StringContent(ReserveBody()), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");

        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("The body must be JSON sent as 'Content-Type: application/json' (got 'text/plain; charset=utf-8')."));
        Assert.That(problem.TryGetProperty("field", out _), Is.False);
    }

    [Test]
    public async Task BodyWithoutContentType_Is415UnsupportedMediaType_SayingSo()
    {
        var problem = await BadBodyAsync(Reserve, posToken, new ByteArrayContent(Encoding.UTF8.GetBytes(ReserveBody())), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");

        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("The body must be JSON sent as 'Content-Type: application/json' (the request has no Content-Type)."));
    }

    [Test]
    public async Task BodyLargerThanTheServerAccepts_Is413InvalidField_Body()
    {
        var imported = string.Join(',', Enumerable.Repeat("\"7700000000000000\"", MaxRequestBodySize / 10));
        var problem = await BadBodyAsync(Load, adminToken, Json($$"""{"channel":"POS","nominalMinor":100000,"currency":"RUB","importedNumbers":[{{imported}}]}"""),
            HttpStatusCode.RequestEntityTooLarge, "invalid-field");

        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("body"));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(MaxRequestBodySize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task BadBodyWithoutAToken_IsStill401_TheBodyIsNotReadBeforeAuthentication()
    {
        using var response = await api.SendContentAsync(HttpMethod.Post, Reserve, token: null, new StringContent("not json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task UnknownPath_Is404Problem_WithDetailAndInstance()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/no-such-endpoint", posToken);

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, "https://tools.ietf.org/html/rfc9110#section-15.5.5", "/no-such-endpoint");
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("No endpoint answers GET /no-such-endpoint; the API's endpoints are listed in /openapi/v1.json."));
    }

    [Test]
    public async Task WrongMethod_Is405Problem_NamingTheAllowedMethods()
    {
        using var response = await api.SendAsync(HttpMethod.Delete, "/pools/it-problems-pool", adminToken);

        var problem = await AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, "https://tools.ietf.org/html/rfc9110#section-15.5.6", "/pools/it-problems-pool");
        Assert.That(response.Content.Headers.Allow, Is.EquivalentTo(new[] { "GET" }));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("DELETE is not allowed on /pools/it-problems-pool; allowed: GET."));
    }

    /// <summary>Every audited route, called once: the route template its audit record (and log line) names.</summary>
    private static readonly (string Method, string Path, string Route)[] AuditedRoutes =
    [
        ("GET", "/certificates?poolId=it-problems-pool", "/certificates"),
        ("GET", "/certificates/7700000000000000", "/certificates/{id}"),
        ("GET", "/certificates/7700000000000000/history", "/certificates/{id}/history"),
        ("GET", "/certificates/7700000000000000/cvc?notificationId=n-1", "/certificates/{id}/cvc"),
        ("POST", "/certificates/7700000000000000/cvc/support-disclosures", "/certificates/{id}/cvc/support-disclosures"),
        ("POST", "/certificates/next", "/certificates/next"),
        ("POST", "/certificates/7700000000000000/lock", "/certificates/{id}/lock"),
        ("POST", "/certificates/7700000000000000/unlock", "/certificates/{id}/unlock"),
        ("POST", "/certificates/7700000000000000/notifications", "/certificates/{id}/notifications"),
        ("GET", "/pools", "/pools"),
        ("GET", "/pools/it-problems-pool", "/pools/{id}"),
        ("POST", "/pools/it-problems-pool/certificates", "/pools/{id}/certificates"),
        ("POST", "/connect/token", "/connect/token"),
        ("POST", "/dev/support-tickets", "/dev/support-tickets"),
        // the live tails: an unknown certificate or pool is a 404 at once (a known one would open a stream that stays open)
        ("GET", "/certificates/7700000000000000/events", "/certificates/{id}/events"),
        ("GET", "/pools/it-problems-no-such-pool/events", "/pools/{id}/events"),
        ("GET", "/reports/daily?from=2026-11-27&to=2026-11-27", "/reports/daily"),
    ];

    [Test]
    public async Task EveryAuditedRoute_IsRecordedWithItsRouteTemplate_OnTheAuditTopicAndInTheLog()
    {
        var mapped = service.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<AuditedEndpoint>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (m, "/" + string.Join('/', e.RoutePattern.PathSegments.Select(Segment)))));
        Assert.That(AuditedRoutes.Select(r => (r.Method, r.Route)), Is.EquivalentTo(mapped), "the table names every audited route the app maps");

        var calls = new List<(string CorrelationId, string Route)>();
        foreach (var (method, path, route) in AuditedRoutes)
        {
            var correlationId = $"it-route-{Guid.NewGuid():N}";
            var body = method == "POST" ? new StringContent("{}", Encoding.UTF8, "application/json") : null; // a bad body is audited too
            using var response = await api.SendContentAsync(new HttpMethod(method), path, adminToken, body, new Dictionary<string, string> { ["X-Correlation-Id"] = correlationId });
            calls.Add((correlationId, route));
        }

        foreach (var (correlationId, route) in calls)
        {
            Assert.That((await AuditLineAsync(correlationId)).Endpoint, Is.EqualTo(route), $"the log line of {route}");
        }

        var codec = new Codec(service.Registry);
        var records = new Dictionary<string, C.AuditRecord>();
        await Kafka.Eventually(() =>
        {
            records = Kafka.ReadTopic(service.Kafka.BootstrapServers, Topics.Audit.Name).Select(m => codec.Decode(Topics.Audit, m.Value))
                .Where(r => r.correlationId is not null).GroupBy(r => r.correlationId!).ToDictionary(g => g.Key, g => g.Last());
            return calls.All(c => records.ContainsKey(c.CorrelationId));
        }, "every call on the audit topic", Timeout);
        Assert.That(calls.Select(c => records[c.CorrelationId].endpoint), Is.EqualTo(calls.Select(c => c.Route)));
    }

    private static string Segment(Microsoft.AspNetCore.Routing.Patterns.RoutePatternPathSegment segment) =>
        string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            _ => string.Empty,
        }));

    /// <summary>
    /// POSTs a bad body with a correlation id; asserts the problem (status, content type, type, title, detail, instance =
    /// the path, traceId) and that the call is audited as <c>invalid</c> with that status; returns the problem.
    /// </summary>
    private async Task<JsonElement> BadBodyAsync(string path, string token, HttpContent content, HttpStatusCode status, string type)
    {
        var correlationId = $"it-body-{Guid.NewGuid():N}";
        using var response = await api.SendContentAsync(HttpMethod.Post, path, token, content, new Dictionary<string, string> { ["X-Correlation-Id"] = correlationId });
        var problem = await AssertProblemAsync(response, status, "https://gcpstreams.dev/problems/" + type, path);

        var audited = await AuditLineAsync(correlationId);
        Assert.That((audited.Status, audited.Outcome), Is.EqualTo(((int)status, "invalid")), "audited as invalid");
        return problem;
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type, string instance)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), body);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.That(problem.GetProperty("type").GetString(), Is.EqualTo(type), body);
        Assert.That(problem.GetProperty("status").GetInt32(), Is.EqualTo((int)status), body);
        Assert.That(problem.GetProperty("title").GetString(), Is.Not.Empty, body);
        Assert.That(problem.GetProperty("detail").GetString(), Is.Not.Empty, body);
        Assert.That(problem.GetProperty("instance").GetString(), Is.EqualTo(instance), body);
        Assert.That(problem.GetProperty("traceId").GetString(), Is.Not.Empty, body);
        return problem;
    }

    /// <summary>The audit log line of the call with this correlation id (written when the call ends: waited for, bounded).</summary>
    private async Task<(string Endpoint, int Status, string Outcome)> AuditLineAsync(string correlationId)
    {
        string? line = null;
        await Kafka.Eventually(() => (line = logs.Lines.FirstOrDefault(l => l.Contains("GcpStreams.Audit", StringComparison.Ordinal)
            && l.Contains($"CorrelationId={correlationId}", StringComparison.Ordinal))) is not null, $"the audit log line of {correlationId}", Timeout);
        string Value(string name) => Regex.Match(line!, $@"\b{name}=(\S+)").Groups[1].Value;
        return (Value("Endpoint"), int.Parse(Value("StatusCode"), System.Globalization.CultureInfo.InvariantCulture), Value("Outcome"));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string ReserveBody(string poolId = "\"it-problems-pool\"", string nominalMinor = "100000") =>
        $$"""{"poolId":{{poolId}},"channel":"POS","nominalMinor":{{nominalMinor}},"currency":"RUB"}""";
}
