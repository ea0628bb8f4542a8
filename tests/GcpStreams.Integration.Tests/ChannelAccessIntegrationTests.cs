using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Object-level and channel authorization (issue 10, H2 and M1) against the whole service with real tokens: a client bound to a
/// channel (the dev clients pos-terminal → POS, internet-store → INTERNET_STORE) sees and reserves only its channel, with masked
/// numbers; the back office (gc.backoffice) sees everything; a client holds at most Gcp:MaxOpenReservationsPerClient open
/// reservations in a pool. One service, a POS pool and an internet-store pool, one reservation in each.
/// </summary>
[NonParallelizable]
public partial class ChannelAccessIntegrationTests
{
    private const string PosPool = "it-acl-pos";
    private const string WebPool = "it-acl-web";
    private const string CapPool = "it-acl-cap";
    private const long Nominal = 100_000;
    private const int OpenReservationCap = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceInstance service = null!;
    private ApiClient api = null!;
    private string pos = null!;
    private string web = null!;
    private string support = null!;
    private string crm = null!;
    private string admin = null!;
    private string posCertificate = null!;
    private string webCertificate = null!;

    [OneTimeSetUp]
    public async Task StartServiceAndReserveOneCertificatePerChannel()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-acl", new Dictionary<string, string?>
        {
            ["Gcp:MaxOpenReservationsPerClient"] = OpenReservationCap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        (pos, web, support, crm, admin) = (await api.TokenAsync("pos-terminal"), await api.TokenAsync("internet-store"), await api.TokenAsync("support"),
            await api.TokenAsync("crm-notifier"), await api.TokenAsync("admin"));

        await LoadAsync(PosPool, "POS", series: 31);
        await LoadAsync(WebPool, "INTERNET_STORE", series: 32);
        await LoadAsync(CapPool, "INTERNET_STORE", series: 33);
        posCertificate = await ReserveAsync(pos, PosPool, "POS", "order-acl-pos");
        webCertificate = await ReserveAsync(web, WebPool, "INTERNET_STORE", "order-acl-web");
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
    public async Task A_channel_client_searches_only_its_channel_with_masked_numbers_and_a_POS_client_sees_no_buyer_nor_order()
    {
        var page = await OkAsync($"/certificates?pageSize=500", pos);
        var items = page.GetProperty("items").EnumerateArray().ToList();

        Assert.That(items, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (var item in items)
            {
                Assert.That(item.GetProperty("channel").GetString(), Is.EqualTo("POS"));
                Assert.That(item.GetProperty("certificateId").GetString(), Does.Match(Masked()));
                Assert.That(item.GetProperty("orderId").ValueKind, Is.EqualTo(JsonValueKind.Null));
                Assert.That(item.GetProperty("clientId").ValueKind, Is.EqualTo(JsonValueKind.Null));
            }

            Assert.That(items.Select(i => i.GetProperty("certificateId").GetString()), Does.Contain(Mask(posCertificate)));
            Assert.That(page.ToString(), Does.Not.Contain(posCertificate).And.Not.Contain(webCertificate));
        });

        // the internet store sees its own orders (not a POS terminal), still masked
        var store = (await OkAsync("/certificates?orderId=order-acl-web", web)).GetProperty("items").EnumerateArray().Single();
        Assert.That((store.GetProperty("certificateId").GetString(), store.GetProperty("orderId").GetString()), Is.EqualTo((Mask(webCertificate), "order-acl-web")));
    }

    [TestCase("/certificates?channel=INTERNET_STORE", "channel")]
    [TestCase("/certificates?clientId=client-1", "clientId")]
    [TestCase("/certificates?orderId=order-acl-pos", "orderId")]
    public async Task A_POS_client_may_not_search_another_channel_by_client_or_by_order(string path, string parameter)
    {
        using var response = await api.SendAsync(HttpMethod.Get, path, pos);
        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.Forbidden, "not-allowed-for-caller");
        Assert.That(problem.GetProperty("parameter").GetString(), Is.EqualTo(parameter));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("POS"));
    }

    [Test]
    public async Task Another_channels_certificate_or_pool_does_not_exist_for_a_channel_client()
    {
        foreach (var path in new[] { $"/certificates/{webCertificate}", $"/certificates/{webCertificate}/history" })
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, pos);
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "certificate-not-found");
        }

        using (var pool = await api.SendAsync(HttpMethod.Get, $"/pools/{WebPool}", pos))
        {
            await ApiClient.AssertProblemAsync(pool, HttpStatusCode.NotFound, "pool-not-found");
        }

        var pools = (await OkAsync("/pools", pos)).GetProperty("items").EnumerateArray().Select(p => p.GetProperty("channel").GetString()).Distinct().ToList();
        Assert.That(pools, Is.EqualTo(new[] { "POS" }));

        using var locked = await api.SendAsync(HttpMethod.Post, $"/certificates/{webCertificate}/lock", admin, """{"reason":"visible to the back office"}""");
        Assert.That(locked.StatusCode, Is.Not.EqualTo(HttpStatusCode.NotFound), "the admin is not bound to a channel");
    }

    [Test]
    public async Task A_channel_client_reads_its_own_certificate_masked_and_its_history_without_the_order()
    {
        var certificate = await OkAsync($"/certificates/{posCertificate}", pos);
        var history = await OkAsync($"/certificates/{posCertificate}/history", pos);

        Assert.Multiple(() =>
        {
            Assert.That(certificate.GetProperty("certificateId").GetString(), Is.EqualTo(Mask(posCertificate)));
            Assert.That(certificate.GetProperty("orderId").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(history.GetProperty("certificateId").GetString(), Is.EqualTo(Mask(posCertificate)));
            Assert.That(history.ToString(), Does.Not.Contain("order-acl-pos"));
        });
    }

    [Test]
    public async Task The_back_office_sees_every_channel_with_full_numbers_and_searches_by_client()
    {
        var items = (await OkAsync("/certificates?pageSize=500", support)).GetProperty("items").EnumerateArray().ToList();
        var ids = items.Select(i => i.GetProperty("certificateId").GetString()).ToList();
        Assert.That(ids, Does.Contain(posCertificate).And.Contain(webCertificate));
        Assert.That(items.First(i => i.GetProperty("certificateId").GetString() == posCertificate).GetProperty("orderId").GetString(), Is.EqualTo("order-acl-pos"));

        using var byClient = await api.SendAsync(HttpMethod.Get, "/certificates?clientId=client-1", support);
        Assert.That(byClient.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task A_client_bound_to_no_channel_nor_back_office_may_not_search_and_looks_up_masked()
    {
        using var search = await api.SendAsync(HttpMethod.Get, "/certificates", crm);
        var problem = await ApiClient.AssertProblemAsync(search, HttpStatusCode.Forbidden, "not-allowed-for-caller");
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("gc.backoffice"));

        var certificate = await OkAsync($"/certificates/{webCertificate}", crm);
        Assert.That(certificate.GetProperty("certificateId").GetString(), Is.EqualTo(Mask(webCertificate)));
    }

    [Test]
    public async Task Paging_cursors_are_sealed_reveal_no_number_and_a_forged_one_is_refused()
    {
        var cursors = new List<string>();
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await OkAsync("/certificates?pageSize=1" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), support);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("certificateId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            if (cursor is not null)
            {
                cursors.Add(cursor);
            }
        }
        while (cursor is not null && cursors.Count < 50);

        Assert.That(seen, Does.Contain(posCertificate).And.Contain(webCertificate), "paging still walks every certificate");
        foreach (var sealedCursor in cursors)
        {
            var clear = Encoding.Latin1.GetString(Base64Url.DecodeFromChars(sealedCursor));
            Assert.That(seen.Where(id => clear.Contains(id, StringComparison.Ordinal) || sealedCursor.Contains(id, StringComparison.Ordinal)), Is.Empty, "no number in a cursor");
        }

        // the old, readable form of a cursor (a version tag and an id) and an altered sealed cursor are both refused
        foreach (var forged in new[] { Base64Url.EncodeToString(Encoding.UTF8.GetBytes("v1:" + posCertificate)), Flip(cursors[0]) })
        {
            using var response = await api.SendAsync(HttpMethod.Get, "/certificates?cursor=" + Uri.EscapeDataString(forged), support);
            var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-parameter");
            Assert.That(problem.GetProperty("parameter").GetString(), Is.EqualTo("cursor"));
        }
    }

    [Test]
    public async Task A_channel_client_may_not_reserve_in_another_channel_and_the_pool_keeps_its_certificates()
    {
        var before = (await OkAsync($"/pools/{WebPool}", admin)).GetProperty("available").GetInt64();

        using var response = await api.SendAsync(HttpMethod.Post, "/certificates/next", pos,
            $$"""{"poolId":"{{WebPool}}","channel":"INTERNET_STORE","nominalMinor":{{Nominal}},"currency":"RUB"}""");
        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.Forbidden, "not-allowed-for-caller");
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("bound to the POS channel"));

        // naming its own channel does not reach another channel's pool either
        using var disguised = await api.SendAsync(HttpMethod.Post, "/certificates/next", pos,
            $$"""{"poolId":"{{WebPool}}","channel":"POS","nominalMinor":{{Nominal}},"currency":"RUB"}""");
        await ApiClient.AssertProblemAsync(disguised, HttpStatusCode.NotFound, "pool-not-found");
        Assert.That((await OkAsync($"/pools/{WebPool}", admin)).GetProperty("available").GetInt64(), Is.EqualTo(before));
    }

    [Test]
    public void The_reserving_client_gets_the_full_number_of_what_it_reserved()
    {
        Assert.That(posCertificate, Does.Match("^77[0-9]{14}$"));
        Assert.That(webCertificate, Does.Match("^77[0-9]{14}$"));
    }

    [Test]
    public async Task A_client_holds_at_most_the_configured_open_reservations_of_a_pool_and_other_clients_still_reserve()
    {
        for (var i = 0; i < OpenReservationCap; i++)
        {
            await ReserveAsync(web, CapPool, "INTERNET_STORE", orderId: null);
        }

        using var refused = await api.SendAsync(HttpMethod.Post, "/certificates/next", web,
            $$"""{"poolId":"{{CapPool}}","channel":"INTERNET_STORE","nominalMinor":{{Nominal}},"currency":"RUB"}""");
        var problem = await ApiClient.AssertProblemAsync(refused, HttpStatusCode.Conflict, "reservation-limit");
        Assert.That(problem.GetProperty("reason").GetString(), Is.EqualTo("RESERVATION_LIMIT"));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("internet-store").And.Contain($"{OpenReservationCap} open reservations"));

        await ReserveAsync(admin, CapPool, "INTERNET_STORE", orderId: null); // another client has its own count
    }

    [Test]
    public async Task Every_response_about_certificates_says_no_store()
    {
        foreach (var path in new[] { $"/certificates/{posCertificate}", "/certificates?pageSize=1", $"/certificates/{posCertificate}/history", "/certificates/7700000000000000" })
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, support);
            Assert.That(response.Headers.CacheControl?.NoStore, Is.True, path);
        }
    }

    private async Task LoadAsync(string poolId, string channel, int series)
    {
        using var response = await api.SendAsync(HttpMethod.Post, $"/pools/{poolId}/certificates", admin,
            $$"""{"channel":"{{channel}}","nominalMinor":{{Nominal}},"currency":"RUB","count":10,"series":{{series}}}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
    }

    private async Task<string> ReserveAsync(string token, string poolId, string channel, string? orderId)
    {
        var order = orderId is null ? "" : $",\"orderId\":\"{orderId}\"";
        using var response = await api.SendAsync(HttpMethod.Post, "/certificates/next", token,
            $$"""{"poolId":"{{poolId}}","channel":"{{channel}}","nominalMinor":{{Nominal}},"currency":"RUB"{{order}}}""");
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), body);
        return JsonDocument.Parse(body).RootElement.GetProperty("certificateId").GetString()!;
    }

    private async Task<JsonElement> OkAsync(string path, string token)
    {
        using var response = await api.SendAsync(HttpMethod.Get, path, token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"{path}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string Mask(string number) => new string('*', number.Length - 4) + number[^4..];

    private static string Flip(string sealedCursor)
    {
        var bytes = Base64Url.DecodeFromChars(sealedCursor);
        bytes[^1] ^= 1;
        return Base64Url.EncodeToString(bytes);
    }

    [GeneratedRegex(@"^\*{12}[0-9]{4}$")]
    private static partial Regex Masked();
}
