using System.Net;
using System.Text.RegularExpressions;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using GcpStreams.Client;
using GcpStreams.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The whole service on the embedded broker, with real tokens: headers on every response, Swagger UI's policy, the issuer
/// pinned against the Host header, correlation ids that are safe to carry, a request value that cannot break an audit log
/// line, and the token endpoint on the audit topic. One service for the fixture; its log is captured.
/// </summary>
[NonParallelizable]
public partial class HardeningIntegrationTests
{
    private const string PoolId = "it-hardening-pool";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly CapturedLogs logs = new();
    private ServiceInstance service = null!;
    private ApiClient api = null!;
    private string posToken = null!;

    [OneTimeSetUp]
    public async Task StartService()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-hardening", settings: new Dictionary<string, string?> { ["Gcp:AuditLog"] = "EveryCall" }, logging: l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        posToken = await api.TokenAsync(DevClients.PosTerminal);
        var load = await api.CallAsync(HttpMethod.Post, $"/pools/{PoolId}/certificates", await api.TokenAsync(DevClients.Admin),
            """{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":5,"series":960}""");
        load.Response.Dispose();
        Assert.That(load.Status, Is.EqualTo(HttpStatusCode.Created), load.Body.ToString());
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
    public async Task Every_response_says_nosniff_whoever_answers_it()
    {
        var calls = new (HttpMethod Method, string Path, string? Token, HttpContent? Body, HttpStatusCode Status)[]
        {
            (HttpMethod.Get, "/health/live", null, null, HttpStatusCode.OK),
            (HttpMethod.Get, "/pools", null, null, HttpStatusCode.Unauthorized),
            (HttpMethod.Get, "/pools", posToken, null, HttpStatusCode.OK),
            (HttpMethod.Get, "/certificates/7700000000000000", posToken, null, HttpStatusCode.NotFound),
            (HttpMethod.Post, "/connect/token", null, TokenForm(DevClients.PosTerminal, "pos-terminal-secret"), HttpStatusCode.OK),
            (HttpMethod.Post, "/connect/token", null, TokenForm(DevClients.PosTerminal, "wrong"), HttpStatusCode.Unauthorized),
            (HttpMethod.Get, GcpAuthenticationExtensions.DiscoveryPath, null, null, HttpStatusCode.OK),
            (HttpMethod.Get, OpenApiSetup.DocumentPath, null, null, HttpStatusCode.OK),
            (HttpMethod.Get, OpenApiSetup.SwaggerUiPath + "/index.html", null, null, HttpStatusCode.OK),
            (HttpMethod.Get, "/no-such-endpoint", null, null, HttpStatusCode.NotFound),
            (HttpMethod.Delete, "/pools", posToken, null, HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Get, EmbeddedStartup.SchemaRegistryPath + "/associations/resources/-/GiftCertificates.Stream", null, null, HttpStatusCode.OK),
        };
        foreach (var (method, path, token, body, status) in calls)
        {
            using var response = await api.SendContentAsync(method, path, token, body);
            Assert.That(response.StatusCode, Is.EqualTo(status), $"{method} {path}");
            Assert.That(response.Headers.TryGetValues("X-Content-Type-Options", out var values) ? values.Single() : null, Is.EqualTo("nosniff"), $"{method} {path}");
        }
    }

    [Test]
    public async Task Swagger_UI_may_not_be_framed_runs_only_its_own_scripts_and_keeps_no_token()
    {
        using var page = await api.SendAsync(HttpMethod.Get, OpenApiSetup.SwaggerUiPath + "/index.html", token: null);
        var policy = page.Headers.TryGetValues("Content-Security-Policy", out var values) ? values.Single() : string.Empty;
        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(directives, Does.Contain("frame-ancestors 'none'"));
            Assert.That(directives, Does.Contain("script-src 'self'"), "no inline script, no eval");
            Assert.That(directives, Does.Contain("connect-src 'self'"), "the document and the token endpoint are this service");
            Assert.That(page.Headers.GetValues("X-Frame-Options").Single(), Is.EqualTo("DENY"));
        });

        // the page works under that policy: every script is a file of this origin, nothing inline
        var html = await page.Content.ReadAsStringAsync();
        var scripts = ScriptTag().Matches(html).Select(m => m.Value).ToList();
        Assert.That(scripts, Is.Not.Empty);
        Assert.That(scripts, Has.All.Match("src=\"(\\./)?[A-Za-z0-9._-]+\""), "scripts of this origin only");
        Assert.That(html, Does.Not.Match(@"<script(?![^>]*\bsrc=)[^>]*>"), "no inline script block");
        Assert.That(html, Does.Not.Match(@"\son[a-z]+\s*="), "no inline event handler");
        foreach (var src in scripts.Select(s => SourceOf().Match(s).Groups[1].Value))
        {
            using var script = await api.SendAsync(HttpMethod.Get, OpenApiSetup.SwaggerUiPath + "/" + src.TrimStart('.', '/'), token: null);
            Assert.That(script.StatusCode, Is.EqualTo(HttpStatusCode.OK), src);
        }

        using var index = await api.SendAsync(HttpMethod.Get, OpenApiSetup.SwaggerUiPath + "/index.js", token: null);
        Assert.That(await index.Content.ReadAsStringAsync(), Does.Contain("\"persistAuthorization\":false"), "the token is not kept across reloads");
    }

    [Test]
    public async Task A_token_obtained_or_forged_under_another_Host_gets_the_pinned_issuer_or_is_refused()
    {
        var evil = new Dictionary<string, string> { ["Host"] = "evil.example" };
        using var issued = await api.SendContentAsync(HttpMethod.Post, "/connect/token", null, TokenForm(DevClients.PosTerminal, "pos-terminal-secret"), evil);
        var token = System.Text.Json.JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        Assert.That(new JsonWebToken(token).Issuer.TrimEnd('/'), Is.EqualTo(service.Url.TrimEnd('/')));

        var key = service.Services.GetRequiredService<EmbeddedSigningKey>().SigningCredentials;
        var now = DateTime.UtcNow;
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "http://evil.example/",
            Audience = AuthOptions.DefaultAudience,
            Claims = new Dictionary<string, object> { ["sub"] = "admin", ["client_id"] = "admin", ["scope"] = GcpScopes.Read },
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddHours(1),
            SigningCredentials = key,
            TokenType = "at+jwt",
        });
        using var refused = await api.SendAsync(HttpMethod.Get, "/pools", forged, headers: evil);
        var text = await refused.Content.ReadAsStringAsync();
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), text);
        Assert.That(System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("title").GetString(), Is.EqualTo("Invalid access token issuer"));
    }

    [TestCase("order-42:line.1_a-B")]
    [TestCase("0HNF3K4J2:00000002")]
    public async Task A_safe_correlation_id_is_carried_as_given(string correlationId)
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/pools", posToken, headers: new Dictionary<string, string> { ["X-Correlation-Id"] = correlationId });
        Assert.That(response.Headers.GetValues("X-Correlation-Id").Single(), Is.EqualTo(correlationId));
    }

    [TestCase("has space")]
    [TestCase("a;b")]
    [TestCase("<script>")]
    [TestCase("x\"y")]
    [TestCase("201 characters")]
    public async Task Any_other_correlation_id_is_replaced_by_the_trace_id(string correlationId)
    {
        var given = correlationId == "201 characters" ? new string('a', 201) : correlationId;
        using var response = await api.SendAsync(HttpMethod.Get, "/pools", posToken, headers: new Dictionary<string, string> { ["X-Correlation-Id"] = given });
        var used = response.Headers.GetValues("X-Correlation-Id").Single();
        Assert.That(used, Is.Not.EqualTo(given).And.Match("^[A-Za-z0-9._:-]{1,200}$"));
    }

    [Test]
    public async Task An_unsafe_correlation_id_never_reaches_the_events_or_the_history()
    {
        const string unsafeId = "drop table;--";
        var body = $$"""{"poolId":"{{PoolId}}","channel":"POS","nominalMinor":100000,"currency":"RUB"}""";
        var (status, reservation, response) = await api.CallAsync(HttpMethod.Post, "/certificates/next", posToken, body,
            new Dictionary<string, string> { ["X-Correlation-Id"] = unsafeId });
        using (response)
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.Created), reservation.ToString());
        }

        var used = response.Headers.GetValues("X-Correlation-Id").Single();
        var id = reservation!.Value.GetProperty("certificateId").GetString();
        var (_, history, historyResponse) = await api.CallAsync(HttpMethod.Get, $"/certificates/{id}/history", posToken);
        historyResponse.Dispose();
        var correlations = history!.Value.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("correlationId").GetString()).ToList();
        Assert.That(correlations, Is.Not.Empty.And.All.EqualTo(used));
        Assert.That(used, Is.Not.EqualTo(unsafeId));
    }

    [Test]
    public async Task A_CR_LF_in_the_path_cannot_break_the_audit_log_line()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/certificates/77%0D%0Aforged%20audit%20line%0A", posToken,
            headers: new Dictionary<string, string> { ["X-Correlation-Id"] = "corr-it-crlf" });
        Assert.That((int)response.StatusCode, Is.InRange(400, 499));

        static bool IsTheLine(string l) => l.Contains(" GcpStreams.Audit: ", StringComparison.Ordinal) && l.Contains("corr-it-crlf", StringComparison.Ordinal);
        await Kafka.Eventually(() => logs.Lines.Any(IsTheLine), "the call's audit line (written when its pipeline ends)");
        var line = logs.Lines.Single(IsTheLine);
        Assert.That(line, Does.Contain(@"certificate 77\r\nforged audit line\n,"));
        Assert.That(line, Does.Not.Contain("\r").And.Not.Contain("\n"), "one line, whatever the request held");
    }

    [Test]
    public void The_log_escape_keeps_one_line_and_stays_readable()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Api.Auditing.AuditWriter.Escape("pos-terminal"), Is.EqualTo("pos-terminal"));
            Assert.That(Api.Auditing.AuditWriter.Escape("a\r\nb\tc"), Is.EqualTo(@"a\r\nb\tc"));
            Assert.That(Api.Auditing.AuditWriter.Escape("a\\r"), Is.EqualTo(@"a\\r"), "a backslash is doubled: an escape cannot be faked");
            Assert.That(Api.Auditing.AuditWriter.Escape("a\u0000b\u001bc\u2028d\u0085"), Is.EqualTo(@"a\u0000b\u001Bc\u2028d\u0085"));
            Assert.That(Api.Auditing.AuditWriter.Escape(null), Is.Empty);
        });
    }

    [Test]
    public async Task A_refused_token_request_is_on_the_audit_topic_with_the_client_it_named()
    {
        using (var refused = await api.SendContentAsync(HttpMethod.Post, "/connect/token", null, TokenForm(DevClients.Support, "not-the-secret"),
            new Dictionary<string, string> { ["X-Correlation-Id"] = "corr-it-token-refused" }))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(refused.Headers.GetValues("X-Correlation-Id").Single(), Is.EqualTo("corr-it-token-refused"));
        }

        var codec = new Codec(service.Registry);
        C.AuditRecord? record = null;
        await Kafka.Eventually(() =>
        {
            record = Kafka.ReadTopic(service.Kafka.BootstrapServers, Topics.Audit.Name).Select(m => codec.Decode(Topics.Audit, m.Value))
                .FirstOrDefault(r => r.correlationId == "corr-it-token-refused");
            return record is not null;
        }, "the refused token request on the audit topic", Timeout);

        Assert.That((record!.caller, record.clientId, record.method, record.endpoint, record.statusCode, record.outcome),
            Is.EqualTo(("anonymous", "support", "POST", "/connect/token", 401, "unauthenticated")));
        Assert.That(logs.Lines, Has.None.Contains("not-the-secret"));
    }

    private static FormUrlEncodedContent TokenForm(string clientId, string secret) => new(new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret,
    });

    [GeneratedRegex("<script[^>]*>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("src=\"([^\"]+)\"")]
    private static partial Regex SourceOf();
}
