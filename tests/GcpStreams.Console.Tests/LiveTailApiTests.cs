using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using GcpStreams.Api.Endpoints;
using GcpStreams.Integration.Tests;
using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Console.Tests;

/// <summary>The live-tail endpoints over plain HTTP: the framing, who may follow what, the audit.</summary>
public sealed class LiveTailApiTests
{
    [Test]
    public async Task CertificateTail_SaysReady_ThenStreamsTheEvent_NoStore_AndIsAuditedWhenItEnds()
    {
        await ConsoleService.LoadPoolAsync("console-sse", count: 2);
        var (_, reserved) = await ConsoleService.ReserveAsync("console-sse", "order-sse-1");
        var id = reserved.GetProperty("certificateId").GetString()!;
        using var http = new HttpClient { Timeout = ConsoleService.Timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{ConsoleService.BaseUrl}/certificates/{id}/events"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await ConsoleService.TokenAsync("support"));
        request.Headers.Add("X-Correlation-Id", "console-sse-audit");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var ready = await NextFrameAsync(reader);
        Assert.That(ready["event"], Is.EqualTo("ready"));
        Assert.That(JsonDocument.Parse(ready["data"]).RootElement.GetProperty("certificateId").GetString(), Is.EqualTo(id));

        var order = "order-sse-1";
        await ConsoleService.Shop.ProduceAsync(Topics.SalesOrders, order, Pools.PaidOrder(order, id, "console-sse", C.Channel.POS, ConsoleService.Nominal), CancellationToken.None);
        var issued = await NextFrameAsync(reader);
        Assert.That(issued["event"], Is.EqualTo(LiveTailApi.EventName));
        var data = JsonDocument.Parse(issued["data"]).RootElement;
        Assert.That(data.GetProperty("certificateId").GetString(), Is.EqualTo(id), "support sees full numbers");
        Assert.That(data.GetProperty("event").GetProperty("eventType").GetString(), Is.EqualTo("certificate.issued"));
        Assert.That(data.GetProperty("event").GetProperty("balanceAfterMinor").GetInt64(), Is.EqualTo(ConsoleService.Nominal));
        Assert.That(issued["id"], Is.EqualTo(data.GetProperty("event").GetProperty("eventId").GetString()));

        response.Dispose(); // the client leaves: the connection ends and is audited
        var codec = new Codec(ConsoleService.Service.Registry);
        C.AuditRecord? audited = null;
        await ConsoleService.EventuallyAsync(() =>
        {
            audited = Kafka.ReadTopic(ConsoleService.Service.Kafka.BootstrapServers, Topics.Audit.Name).Select(m => codec.Decode(Topics.Audit, m.Value))
                .FirstOrDefault(r => r.correlationId == "console-sse-audit");
            return audited is not null;
        }, "the live tail's audit record");
        Assert.That((audited!.endpoint, audited.certificateId, audited.clientId, audited.statusCode), Is.EqualTo(("/certificates/{id}/events", id, "support", 200)));
        await ConsoleService.EventuallyAsync(() => ConsoleService.Service.ReadModel.Store.LiveSubscriptions == 0, "the subscription closed with the connection");
    }

    [Test]
    public async Task Tails_NeedAToken_AndShowOnlyWhatTheCallerMaySee()
    {
        await ConsoleService.LoadPoolAsync("console-sse-pos", count: 1);
        var web = new C.LoadPool
        {
            poolId = "console-sse-web", channel = C.Channel.INTERNET_STORE, nominalMinor = ConsoleService.Nominal, currency = "RUB", count = 1, lowWatermark = 0, series = 90,
            importedNumbers = [],
        };
        var reply = await ConsoleService.Shop.SendCommandAsync("console-sse-web", web, ConsoleService.Timeout, CancellationToken.None);
        Assert.That(await ConsoleService.Service.ReadModel.WaitForEventAsync(reply.eventId, ConsoleService.Timeout), Is.True);
        var pos = await ConsoleService.TokenAsync("pos-terminal");

        Assert.That(await StatusAsync("/pools/console-sse-pos/events", token: null), Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await StatusAsync("/pools/console-sse-web/events", pos), Is.EqualTo(HttpStatusCode.NotFound), "another channel's pool does not exist for a POS client");
        Assert.That(await StatusAsync("/pools/no-such-pool/events", pos), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusAsync("/certificates/GC-NO-SUCH/events", pos), Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await StatusAsync("/pools/console-sse-pos/events", pos, untilHeaders: true), Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public void Slots_AreBounded()
    {
        var slots = new LiveTailSlots();
        Assert.That((slots.TryTake(2), slots.TryTake(2), slots.TryTake(2)), Is.EqualTo((true, true, false)));
        slots.Release();
        Assert.That((slots.Open, slots.TryTake(2)), Is.EqualTo((1, true)));
    }

    private static async Task<HttpStatusCode> StatusAsync(string path, string? token, bool untilHeaders = false)
    {
        using var http = new HttpClient { Timeout = ConsoleService.Timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ConsoleService.BaseUrl + path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, untilHeaders ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), problem.ToString());
        }

        return response.StatusCode;
    }

    /// <summary>The next SSE frame's fields (comments skipped).</summary>
    private static async Task<Dictionary<string, string>> NextFrameAsync(StreamReader reader)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        using var timeout = new CancellationTokenSource(ConsoleService.Timeout);
        while (true)
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the stream ended");
            if (line.Length == 0)
            {
                if (fields.ContainsKey("data"))
                {
                    return fields;
                }

                fields.Clear();
                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            fields[colon < 0 ? line : line[..colon]] = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
        }
    }
}
