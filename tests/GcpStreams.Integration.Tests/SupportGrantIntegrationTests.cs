using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Security;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// A support CVC disclosure needs a grant the ticketing system signed for the certificate, the ticket, the agent and the
/// calling client, and each client has a daily cap counted in the topology. The whole service on the embedded broker with real
/// tokens; its development signer signs with a key this test holds, and it also trusts a second ticketing key (a rotation).
/// Each test uses dev clients of its own (configured here), so their daily counts do not meet.
/// </summary>
[NonParallelizable]
public class SupportGrantIntegrationTests
{
    private const long Nominal = 100_000;
    private const int ClientCap = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The development signer's key (configured), and the key of a ticketing system the service also trusts.</summary>
    private readonly ECDsa devKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA ticketingKey = RSA.Create(2048);

    private ServiceInstance service = null!;
    private Shop shop = null!;
    private ApiClient api = null!;
    private int series = 60;

    /// <summary>Dev clients of these tests, each with the support scopes.</summary>
    private static readonly string[] Clients = ["support-grants", "support-cap", "support-other", "support-twice"];

    [OneTimeSetUp]
    public async Task StartService()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gcp:SupportCvcDisclosuresPerClientPerDay"] = ClientCap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gcp:SupportTickets:DevSigningKeyPem"] = devKey.ExportPkcs8PrivateKeyPem(),
            ["Gcp:SupportTickets:SigningKeysPem"] = ticketingKey.ExportSubjectPublicKeyInfoPem(),
        };
        foreach (var client in Clients)
        {
            settings[$"Auth:Clients:{client}:Secret"] = client + "-secret";
            settings[$"Auth:Clients:{client}:Scopes"] = "gc.read gc.cvc.support";
        }

        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-grants", settings);
        api = new ApiClient(service.Url);
        await service.ReadModel.WhenCaughtUp.WaitAsync(Timeout);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        shop = new Shop(service.Kafka.BootstrapServers, service.Registry, service.Signer);
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

        devKey.Dispose();
        ticketingKey.Dispose();
    }

    [Test]
    public async Task AGrantThatFailsACheck_Is403CvcGrantInvalid_NamingTheCheck_AndNothingIsDisclosed()
    {
        var id = await IssuedAsync();
        var other = await IssuedAsync();
        var token = await api.TokenAsync("support-grants");
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTime.UtcNow;

        var cases = new (string Name, string Grant, string Check, string Said)[]
        {
            ("made up (signed by another key)", SupportGrants.Sign(stranger, id, "TICKET-1", "support-grants"), "signature", "does not verify with any trusted ticketing key"),
            ("for another certificate", await api.MintAsync(token, other, "TICKET-2"), "certificate", $"for certificate '{other}', not {id}"),
            ("for another client", await api.MintAsync(await api.TokenAsync("support"), id, "TICKET-3"), "client", "issued to client 'support', not to the caller 'support-grants'"),
            ("expired", SupportGrants.Sign(devKey, id, "TICKET-4", "support-grants", issuedAt: now.AddMinutes(-20), lifetime: TimeSpan.FromMinutes(10)), "expired", "expired at"),
            ("an access token", token, "type", "an access token is not a grant"),
            ("living an hour", SupportGrants.Sign(devKey, id, "TICKET-5", "support-grants", lifetime: TimeSpan.FromHours(1)), "lifetime", "may live at most 15"),
            ("of another issuer", SupportGrants.Sign(devKey, id, "TICKET-6", "support-grants", issuer: "https://evil.example/"), "issuer", "issued by 'https://evil.example/'"),
            ("not a JWS", "TICKET-7", "format", "not a compact JWS"),
        };

        foreach (var (name, grant, check, said) in cases)
        {
            using var response = await api.SendAsync(HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", token, SupportGrants.Disclosure(grant));
            var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.Forbidden, "cvc-grant-invalid");
            Assert.That(problem.GetProperty("failedCheck").GetString(), Is.EqualTo(check), name);
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(said), name);
            if (grant.Split('.') is [_, var payload, ..])
            {
                Assert.That(problem.GetProperty("detail").GetString(), Does.Not.Contain(payload), $"{name}: the grant is not echoed");
            }

            Assert.That(problem.GetProperty("certificateId").GetString(), Is.EqualTo(id));
        }

        using var missing = await api.SendAsync(HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", token, """{"reason":"no grant"}""");
        Assert.That((await ApiClient.AssertProblemAsync(missing, HttpStatusCode.BadRequest, "invalid-field")).GetProperty("field").GetString(), Is.EqualTo("grant"));

        // nothing reached the topology: no disclosure, no refusal on the stream
        await AssertNoDisclosureAsync(id);
    }

    [Test]
    public async Task AValidGrant_Is200_TheEventNamesTicketAgentReasonAndCaller_AndTheSameGrantTwiceIs409()
    {
        var id = await IssuedAsync();
        var token = await api.TokenAsync("support-twice");
        var grant = await api.MintAsync(token, id, "TICKET-200", "agent.petrov");
        var disclosed = shop.WaitForEventAsync(id, "cvc.disclosed", Timeout, CancellationToken.None);

        using var first = await api.SendAsync(HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", token, SupportGrants.Disclosure(grant, "buyer lost the e-mail"));
        using var again = await api.SendAsync(HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", token, SupportGrants.Disclosure(grant, "buyer lost the e-mail"));

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), await first.Content.ReadAsStringAsync());
        Assert.That((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cvc").GetString(),
            Is.EqualTo(Domain.Cvc.Derive(Convert.FromBase64String(ServiceInstance.CvcKey), 1, id)));
        var detail = (await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "cvc-disclosure-not-allowed")).GetProperty("detail").GetString();
        Assert.That(detail, Does.Contain("already disclosed for support ticket 'TICKET-200'"), "a grant is good for one disclosure: its ticket's");

        var payload = (C.CvcDisclosed)(await disclosed).payload;
        Assert.That((payload.kind, payload.supportTicket, payload.agent, payload.reason, payload.requestedBy),
            Is.EqualTo((C.DisclosureKind.SUPPORT, (string?)"TICKET-200", (string?)"agent.petrov", (string?)"buyer lost the e-mail", "support-twice")));
        Assert.That(typeof(C.CvcDisclosed).GetFields().Select(f => f.Name.ToLowerInvariant()), Has.None.EqualTo("cvc"), "the event has no field for the CVC");
    }

    [Test]
    public async Task AGrantOfTheOtherTrustedTicketingKey_IsAccepted_AsDuringARotation()
    {
        var id = await IssuedAsync();
        var token = await api.TokenAsync("support-other");

        using var response = await api.SendAsync(HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", token,
            SupportGrants.Disclosure(SupportGrants.Sign(ticketingKey, id, "TICKET-RSA-1", "support-other")));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task AClientOverItsDailyCap_Is409_WithAnAlertNamingTheClient_AndOtherClientsAreNotHeldBack()
    {
        var certificates = new[] { await IssuedAsync(), await IssuedAsync() };
        var token = await api.TokenAsync("support-cap");
        for (var i = 0; i < ClientCap; i++)
        {
            var id = certificates[i % 2];
            using var ok = await api.SendAsync(HttpMethod.Post, $"/certificates/{id}/cvc/support-disclosures", token, SupportGrants.Disclosure(await api.MintAsync(token, id, $"TICKET-CAP-{i}")));
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), await ok.Content.ReadAsStringAsync());
        }

        using var over = await api.SendAsync(HttpMethod.Post, $"/certificates/{certificates[1]}/cvc/support-disclosures", token,
            SupportGrants.Disclosure(await api.MintAsync(token, certificates[1], "TICKET-CAP-OVER")));
        using var otherClient = await api.SendAsync(HttpMethod.Post, $"/certificates/{certificates[1]}/cvc/support-disclosures", await api.TokenAsync("support"),
            SupportGrants.Disclosure(await api.MintAsync(await api.TokenAsync("support"), certificates[1], "TICKET-CAP-OTHER")));

        var problem = await ApiClient.AssertProblemAsync(over, HttpStatusCode.Conflict, "cvc-disclosure-not-allowed");
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain($"client 'support-cap' reached its daily cap of {ClientCap} support CVC disclosures"));
        Assert.That(problem.GetProperty("reason").GetString(), Is.EqualTo("CVC_DISCLOSURE_NOT_ALLOWED"));
        Assert.That(otherClient.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the cap is per client: " + await otherClient.Content.ReadAsStringAsync());

        List<(string Key, C.GiftCertificateEvent Event)> alerts = [];
        await Kafka.Eventually(() =>
        {
            alerts = [.. Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Where(e => e.Event.payload is C.Alert { kind: C.AlertKind.CVC_DISCLOSURE_LIMIT })];
            return alerts.Count > 0;
        }, "the CVC_DISCLOSURE_LIMIT alert on the stream", Timeout);
        var (key, alert) = alerts.Single();
        Assert.That((key, alert.certificateId), Is.EqualTo(("support-cap", (string?)null)), "keyed by the client");
        Assert.That(((C.Alert)alert.payload).details["clientId"], Is.EqualTo("support-cap"));
        Assert.That(((C.Alert)alert.payload).message, Does.Contain("client support-cap").And.Contain("agent.ivanova").And.Contain(certificates[1]));
        Assert.That(Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Count(e => e.Key == certificates[1] && e.Event.eventType == "cvc.disclosed"),
            Is.EqualTo(2), "one of support-cap's, one of support's: the refused request never reached the certificate");
    }

    [Test]
    public async Task TheDevSigner_MintsForTheCallingClientOnly_WithTheSupportScope()
    {
        var body = JsonSerializer.Serialize(new { certificateId = "7700000000000000", ticketId = "TICKET-DEV", agentId = "agent-1" });

        var (status, minted, response) = await api.CallAsync(HttpMethod.Post, DevSupportTicketsApi.Path, await api.TokenAsync("support-grants"), body);
        response.Dispose();
        using var notifier = await api.SendAsync(HttpMethod.Post, DevSupportTicketsApi.Path, await api.TokenAsync("crm-notifier"), body);
        using var anonymous = await api.SendAsync(HttpMethod.Post, DevSupportTicketsApi.Path, null, body);
        using var badTicket = await api.SendAsync(HttpMethod.Post, DevSupportTicketsApi.Path, await api.TokenAsync("support-grants"),
            """{"certificateId":"7700000000000000","ticketId":"T 1; drop","agentId":"a"}""");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), minted?.ToString());
        var grant = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(minted!.Value.GetProperty("grant").GetString());
        Assert.That((grant.Typ, grant.GetClaim(SupportGrantClaims.ClientId).Value, grant.GetClaim(SupportGrantClaims.TicketId).Value, grant.Alg),
            Is.EqualTo((SupportGrantOptions.TokenType, "support-grants", "TICKET-DEV", "ES256")));
        Assert.That(minted.Value.GetProperty("clientId").GetString(), Is.EqualTo("support-grants"));
        Assert.That(grant.ValidTo - grant.IssuedAt, Is.EqualTo(TimeSpan.FromMinutes(5)));
        Assert.That(notifier.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "gc.cvc.support is needed");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await ApiClient.AssertProblemAsync(badTicket, HttpStatusCode.BadRequest, "invalid-field")).GetProperty("field").GetString(), Is.EqualTo("ticketId"));
    }

    private async Task AssertNoDisclosureAsync(string id)
    {
        // a later command on the same certificate: once its event is on the stream, anything before it would be too
        var marker = await shop.SendCommandAsync(id, new C.LockCertificate { certificateId = id, reason = "marker" }, Timeout, CancellationToken.None);
        Assert.That(marker.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), marker.message);
        var types = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry).Where(e => e.Key == id).Select(e => e.Event.eventType).ToList();
        Assert.That(types, Does.Contain("certificate.locked"));
        Assert.That(types, Has.None.EqualTo("cvc.disclosed").And.None.EqualTo("operation.rejected"));
    }

    /// <summary>A certificate of a pool of its own, reserved and paid; returns its id once the read model knows it.</summary>
    private async Task<string> IssuedAsync()
    {
        var s = Interlocked.Increment(ref series);
        var pool = $"it-grants-{s}";
        var orderId = $"order-grants-{s}";
        var load = await shop.SendCommandAsync(pool, Pools.Load(pool, C.Channel.POS, Nominal, 1, s), Timeout, CancellationToken.None);
        Assert.That(load.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), load.message);
        var reserved = await shop.SendCommandAsync(pool, Pools.Reserve(pool, C.Channel.POS, Nominal, orderId), Timeout, CancellationToken.None);
        Assert.That(reserved.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reserved.message);
        var id = reserved.certificateId;
        var requested = shop.WaitForEventAsync(id, "notification.requested", Timeout, CancellationToken.None);
        await shop.ProduceAsync(Topics.SalesOrders, orderId, Pools.PaidOrder(orderId, id, pool, C.Channel.POS, Nominal), CancellationToken.None);
        var notification = await requested;
        Assert.That(await service.ReadModel.WaitForEventAsync(notification.eventId, Timeout, id), Is.True);
        return id;
    }
}
