using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using GcpStreams.Integration.Tests;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Console.Tests;

/// <summary>
/// One service for every console test: hosted in-process on the embedded broker as the integration tests host it (free port, own
/// state dir), with a <see cref="Shop"/> that plays Orders and Payments on the real topics.
/// </summary>
[SetUpFixture]
public sealed class ConsoleService
{
    public const long Nominal = 100_000;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static ServiceInstance? service;
    private static Shop? shop;
    private static int series = 40;

    internal static ServiceInstance Service => service ?? throw new InvalidOperationException("the service is not started");

    public static Shop Shop => shop ?? throw new InvalidOperationException("the service is not started");

    public static string BaseUrl => Service.Url.TrimEnd('/');

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-console", new Dictionary<string, string?>
        {
            ["Gcp:LiveTail:HeartbeatSeconds"] = "2",
        });
        await Service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        shop = new Shop(Service.Kafka.BootstrapServers, Service.Registry, Service.Signer);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await ConsoleTest.CloseSharedBrowserAsync();
        if (shop is not null)
        {
            await shop.DisposeAsync();
        }

        if (service is not null)
        {
            await service.DisposeAsync();
        }
    }

    /// <summary>A token of a dev client (secret <c>{id}-secret</c>).</summary>
    public static async Task<string> TokenAsync(string clientId)
    {
        using var http = new HttpClient();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = clientId + "-secret",
        });
        using var response = await http.PostAsync(new Uri(BaseUrl + "/connect/token"), form);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        return body.GetProperty("access_token").GetString()!;
    }

    /// <summary>Loads a POS pool of <paramref name="count"/> certificates (a series of its own) and waits until the read model shows it.</summary>
    public static async Task LoadPoolAsync(string pool, int count, int lowWatermark = 0)
    {
        var load = Pools.Load(pool, C.Channel.POS, Nominal, count, Interlocked.Increment(ref series));
        load.lowWatermark = lowWatermark;
        var reply = await Shop.SendCommandAsync(pool, load, Timeout, CancellationToken.None);
        Assert.That(reply.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reply.message);
        Assert.That(await Service.ReadModel.WaitForEventAsync(reply.eventId, Timeout), Is.True, "the load reached the read model");
    }

    /// <summary>Reserves a certificate of <paramref name="pool"/> as the POS terminal would; the answer's status and body.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> ReserveAsync(string pool, string orderId)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl + "/certificates/next"))
        {
            Content = JsonContent.Create(new { poolId = pool, channel = "POS", nominalMinor = Nominal, currency = "RUB", orderId }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync("pos-terminal"));
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>A certificate of a new POS pool, sold and paid (issued, ACTIVE), once the read model shows it.</summary>
    public static async Task<string> IssuedCertificateAsync(string pool)
    {
        await LoadPoolAsync(pool, count: 2);
        var orderId = "order-" + pool;
        var (status, body) = await ReserveAsync(pool, orderId);
        Assert.That(status, Is.EqualTo(HttpStatusCode.Created), body.ToString());
        var id = body.GetProperty("certificateId").GetString()!;
        var issued = Shop.WaitForEventAsync(id, "notification.requested", Timeout, CancellationToken.None);
        await Shop.ProduceAsync(Topics.SalesOrders, orderId, Pools.PaidOrder(orderId, id, pool, C.Channel.POS, Nominal), CancellationToken.None);
        Assert.That(await Service.ReadModel.WaitForEventAsync((await issued).eventId, Timeout, id), Is.True, "the issue reached the read model");
        return id;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (no fixed sleep as synchronization), failing after <see cref="Timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Payments captures <paramref name="amount"/> from the certificate; the certificate's answer on the stream.</summary>
    public static async Task<C.GiftCertificateEvent> CaptureAsync(string certificateId, long amount, string? storeId = null)
    {
        var capture = Pools.Payment(C.PaymentOperation.CAPTURE, certificateId, amount, null, C.Channel.POS);
        capture.storeId = storeId;
        var outcome = Shop.WaitForOutcomeAsync(capture.eventId, Timeout, CancellationToken.None);
        await Shop.ProduceAsync(Topics.Payments, capture.paymentId, capture, CancellationToken.None);
        return await outcome;
    }
}
