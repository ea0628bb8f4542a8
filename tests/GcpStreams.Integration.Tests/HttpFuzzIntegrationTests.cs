using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Fuzzing the HTTP API (issue 15): 100 000 generated requests against one embedded service — methods, paths (known routes
/// with generated segments, unicode, traversal, very long, unknown routes), query strings, tokens (none, garbage, other
/// schemes, real tokens of every dev client), headers and bodies (none, garbage bytes, malformed and schema-shaped JSON with
/// nonsense values, wrong content types). No request gets a 5xx, and every 4xx is an RFC 7807 problem whose <c>status</c> is
/// the response's and whose <c>title</c> says what went wrong. The rate limits are raised so that requests reach the
/// endpoints (the limits have tests of their own).
/// </summary>
[NonParallelizable]
public class HttpFuzzIntegrationTests
{
    private const int Requests = 100_000;
    private const int InFlight = 16;

    private static readonly string[] Clients = ["pos-terminal", "internet-store", "support", "admin", "crm-notifier"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"];

    // the live tails (…/events) stream until the client goes: fuzzed with a wrong method only
    private static readonly string[] Routes =
    [
        "/certificates/{0}", "/certificates/{0}/history", "/certificates/{0}/cvc", "/certificates/{0}/cvc/support-disclosures", "/certificates/{0}/lock",
        "/certificates/{0}/unlock", "/certificates/{0}/notifications", "/certificates/next", "/certificates", "/pools", "/pools/{0}", "/pools/{0}/certificates",
        "/health/ready", "/health/live", "/connect/token", "/dev/support-tickets", "/{0}", "/{0}/{0}", "/certificates/{0}/{0}",
    ];

    private static readonly string[] Segments =
    [
        "7700000000000001", "0", "-1", "99999999999999999999999999", "..", "%2e%2e%2f%2e%2e", "%00", "%ZZ", "app-2000-rub", "pos-1000-rub", "a b", "%F0%9F%92%B3",
        "' OR 1=1 --", "<script>", "%C0%AF", new string('9', 300), new string('x', 5_000),
    ];

    /// <summary>One generated request.</summary>
    public sealed record Call(string Method, string Path, int Auth, string? ContentType, byte[]? Body, string? IdempotencyKey, string Query)
    {
        public override string ToString() => $"{Method} {Path}{Query} auth={Auth} content-type={ContentType} body={(Body is null ? "none" : Encoding.UTF8.GetString(Body[..Math.Min(Body.Length, 200)]))}";
    }

    private static readonly Gen<string> Segment = Gen.Frequency(
        (6, Gen.OneOf(Segments)),
        (2, Gen.Long[0, long.MaxValue].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (2, Gen.String[0, 40].Select(Uri.EscapeDataString)));

    private static readonly Gen<string> Query = Gen.Frequency(
        (5, Gen.Const(string.Empty)),
        (3, Gen.Select(Gen.OneOf("status", "channel", "pool", "cursor", "limit", "from", "to", "client", "x"), Gen.OneOf(Segment, Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))))
            .Array[1, 4].Select(pairs => "?" + string.Join("&", pairs.Select(p => $"{p.Item1}={p.Item2}")))),
        (1, Gen.String[0, 200].Select(s => "?" + Uri.EscapeDataString(s))));

    private static readonly Gen<string> JsonValue = Gen.OneOf(
        Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400"),
        Gen.String[0, 60].Select(s => JsonSerializer.Serialize(s)),
        Gen.OneOf("null", "true", "false", "[]", "{}", "\"POS\"", "\"INTERNET_STORE\"", "\"RUB\"", "-0", "1.5", "\"\"", "[1,2]", "{\"a\":{\"b\":[]}}"));

    private static readonly Gen<byte[]> Body = Gen.Frequency(
        (3, Gen.Select(Gen.OneOf("poolId", "channel", "nominalMinor", "currency", "orderId", "holdSeconds", "count", "lowWatermark", "series", "reason", "ticket",
                "notificationId", "importedNumbers", "supportTicket", "agent", "x"), JsonValue).Array[0, 8]
            .Select(fields => Encoding.UTF8.GetBytes("{" + string.Join(",", fields.Select(f => $"\"{f.Item1}\":{f.Item2}")) + "}"))),
        (1, Gen.Byte.Array[0, 300]),
        (1, Gen.String[0, 300].Select(Encoding.UTF8.GetBytes)),
        (1, Gen.OneOf("{", "[", "{\"poolId\":", "null", "\"\"", "{\"poolId\":\"app-2000-rub\",\"poolId\":\"x\"}", "{\"nominalMinor\":1e999}").Select(Encoding.UTF8.GetBytes)));

    private static readonly Gen<Call> Calls =
        Gen.Select(Gen.Frequency((4, Gen.Const("GET")), (4, Gen.Const("POST")), (1, Gen.OneOf(Methods))), Gen.OneOf(Routes), Segment, Gen.Int[0, Clients.Length + 3], Gen.OneOf<string?>("application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", null),
                Gen.Frequency((1, Gen.Const((byte[]?)null)), (3, Body.Select(b => (byte[]?)b))), Gen.Frequency((3, Gen.Const((string?)null)), (1, Gen.String[0, 80].Select(s => (string?)Uri.EscapeDataString(s)))), Query)
            .Select((method, route, segment, auth, contentType, body, key, query) =>
                new Call(method, string.Format(System.Globalization.CultureInfo.InvariantCulture, route, segment), auth, contentType, method is "GET" or "DELETE" ? null : body, key, query));

    [Test]
    public async Task HundredThousandGeneratedRequests_NoneGetsA5xx_EveryClientErrorIsAProblem()
    {
        var limits = new Dictionary<string, string?>();
        foreach (var (name, value) in new[]
                 {
                     ("LookupsPerSecond", 1_000_000), ("LookupBurst", 1_000_000), ("CvcPerMinute", 1_000_000), ("CvcBurst", 1_000_000), ("NotifyCvcPerMinute", 1_000_000),
                     ("NotifyCvcBurst", 1_000_000), ("WritesPerSecond", 1_000_000), ("WriteBurst", 1_000_000), ("AnonymousPerMinute", 1_000_000), ("AnonymousBurst", 1_000_000),
                     ("TokenRequestsPerMinute", 1_000_000), ("TokenBurst", 1_000_000), ("AnonymousAuditPerMinute", 1_000_000),
                 })
        {
            limits[$"Gcp:RateLimits:{name}"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-http-fuzz", settings: limits);
        using var api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(TimeSpan.FromSeconds(60));
        var tokens = new List<string>();
        foreach (var client in Clients)
        {
            tokens.Add(await api.TokenAsync(client));
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var baseUrl = service.Url.TrimEnd('/');
        var calls = Calls.Array[Requests].Single(_ => true, "0N0XIzNsQ0O3");
        var statuses = new ConcurrentDictionary<int, int>();
        var violations = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(calls, new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (call, token) =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(call.Method), new Uri(baseUrl + call.Path + call.Query, UriKind.Absolute));
            switch (call.Auth)
            {
                case var a when a < tokens.Count:
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[a]);
                    break;
                case var a when a == tokens.Count:
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Convert.ToBase64String(Encoding.UTF8.GetBytes(call.Path)));
                    break;
                case var a when a == tokens.Count + 1:
                    request.Headers.TryAddWithoutValidation("Authorization", "Basic cG9zLXRlcm1pbmFsOnBvcy10ZXJtaW5hbC1zZWNyZXQ=");
                    break;
                case var a when a == tokens.Count + 2:
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + tokens[0][..^4] + "AAAA"); // a real token, signature changed
                    break;
                default:
                    break; // anonymous
            }

            if (call.IdempotencyKey is not null)
            {
                request.Headers.TryAddWithoutValidation("Idempotency-Key", call.IdempotencyKey);
            }

            if (call.Body is not null)
            {
                request.Content = new ByteArrayContent(call.Body);
                if (call.ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", call.ContentType);
                }
            }

            using var response = await http.SendAsync(request, token);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status >= 500)
            {
                violations.Enqueue($"{status} for {call}: {await response.Content.ReadAsStringAsync(token)}");
            }
            else if (status >= 400 && await BrokenContract(call, response, status, token) is { } why)
            {
                violations.Enqueue($"{status} for {call}: {why}");
            }
        });

        TestContext.Out.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
        Assert.That(statuses.Values.Sum(), Is.EqualTo(Requests));
        Assert.That(violations.Take(20), Is.Empty, $"{violations.Count} responses broke the contract; the first 20");
    }

    /// <summary>
    /// Why a 4xx response breaks the contract (null when it keeps it): an RFC 7807 problem of its own status, except where the
    /// application never sees the request or a standard prescribes another body:
    /// <list type="bullet">
    /// <item>a path with an encoded NUL (<c>%00</c>) or a request line over Kestrel's limit is refused by the HTTP server itself
    ///   (400, 414) before any middleware runs: no body, nothing processed;</item>
    /// <item>the token endpoint answers errors as OAuth 2.0 does (RFC 6749 §5.2): JSON with an <c>error</c> code.</item>
    /// </list>
    /// </summary>
    private static async Task<string?> BrokenContract(Call call, HttpResponseMessage response, int status, CancellationToken token)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (call.Path.Contains("%00", StringComparison.Ordinal) || status == (int)HttpStatusCode.RequestUriTooLong)
        {
            var refused = status is 400 or 414 && (await response.Content.ReadAsByteArrayAsync(token)).Length == 0;
            return refused ? null : $"expected the HTTP server's bare 400/414, got {mediaType ?? "no content type"}";
        }

        if (call.Path == "/connect/token")
        {
            var body = await response.Content.ReadAsStringAsync(token);
            return mediaType == "application/json" && JsonDocument.Parse(body).RootElement.TryGetProperty("error", out _) ? null : $"not an OAuth 2.0 error: {body}";
        }

        if (mediaType != "application/problem+json")
        {
            return $"content type {mediaType ?? "none"}";
        }

        var text = await response.Content.ReadAsStringAsync(token);
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            return !root.TryGetProperty("status", out var s) || s.GetInt32() != status ? $"problem status differs: {text}"
                : !root.TryGetProperty("title", out var t) || string.IsNullOrWhiteSpace(t.GetString()) ? $"problem without a title: {text}"
                : null;
        }
        catch (JsonException)
        {
            return $"not JSON: {text}";
        }
    }
}
