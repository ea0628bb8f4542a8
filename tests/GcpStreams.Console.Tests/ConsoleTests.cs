using System.Text.RegularExpressions;
using Microsoft.Playwright;
using C = GcpStreams.Contracts;

namespace GcpStreams.Console.Tests;

/// <summary>The console in a real browser against the real service: what support and the POS staff do with it.</summary>
public sealed partial class ConsoleTests : ConsoleTest
{
    [Test]
    public async Task SignIn_Search_OpenCertificate_ShowsStatusBalanceLedgerAndChart()
    {
        var id = await ConsoleService.IssuedCertificateAsync("console-search");
        await Page.GotoAsync(ConsoleUrl);
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Sign in");
        await Expect(Page.Locator("#nav")).ToBeHiddenAsync(); // nothing but the sign-in before signing in
        await Expect(Page.Locator("#sign-out")).ToBeHiddenAsync();
        await ShotAsync("01-sign-in");

        await SignInAsync("support");
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Search certificates");
        await Page.GetByLabel("Status").SelectOptionAsync("ACTIVE");
        await Page.GetByLabel("Pool id").FillAsync("console-search");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var result = Page.GetByRole(AriaRole.Link, new() { Name = id });
        await Expect(result).ToBeVisibleAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("status=ACTIVE"));
        await ShotAsync("02-search");

        await result.ClickAsync();
        await Expect(Page.Locator("main h1")).ToHaveTextAsync($"Certificate {id}");
        await Expect(Page.Locator("#cert-status")).ToHaveTextAsync("ACTIVE");
        await Expect(Page.Locator("#cert-balance")).ToHaveTextAsync("1\u202f000.00 RUB");
        await Expect(Page.Locator("#cert-held")).ToHaveTextAsync("0.00 RUB");
        var ledger = Page.GetByRole(AriaRole.Region, new() { Name = "Ledger history, newest first" });
        await Expect(ledger.Locator("tr[data-event-type='certificate.issued']")).ToContainTextAsync("1\u202f000.00 RUB");
        await Expect(ledger.Locator("tr[data-event-type='certificate.reserved']")).ToContainTextAsync("POS");
        await Expect(Page.Locator("svg.chart circle.dot")).ToHaveCountAsync(1);
        await Expect(Page.Locator("#live-status")).ToHaveTextAsync("Live: connected");
        await ShotAsync("03-certificate");
    }

    [Test]
    public async Task SearchPaging_FollowsTheCursor_AndEveryPageIsItsOwnAddress()
    {
        await ConsoleService.LoadPoolAsync("console-paging", count: 3);
        for (var i = 0; i < 3; i++)
        {
            var (status, body) = await ConsoleService.ReserveAsync("console-paging", $"order-paging-{i}");
            Assert.That((int)status, Is.EqualTo(201), body.ToString());
        }

        await SignInAsync("support");
        await OpenAsync("#/search?poolId=console-paging&pageSize=20");
        await Page.GetByLabel("Page size").SelectOptionAsync("20");
        var rows = Page.GetByRole(AriaRole.Region, new() { Name = "Certificates found" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(3);

        await OpenAsync("#/search?poolId=console-paging&pageSize=2");
        await Expect(rows).ToHaveCountAsync(2);
        await Page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("cursor="));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(Page.GetByText("End of the results.")).ToBeVisibleAsync();
    }

    [Test]
    public async Task Lock_WithReason_RefusesTheRedemption_ThenUnlock_AndProblemsAreShownAsTheServiceSaysThem()
    {
        var id = await ConsoleService.IssuedCertificateAsync("console-lock");
        await SignInAsync("support");
        await OpenAsync($"#/certificates/{id}");
        await Expect(Page.Locator("#live-status")).ToHaveTextAsync("Live: connected");

        // a blank reason passes the browser's check and is refused by the service: its problem details are shown, nothing else
        await Page.GetByLabel("Reason (required)").First.FillAsync("   ");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Lock", Exact = true }).ClickAsync();
        var problem = Page.GetByRole(AriaRole.Alert);
        await Expect(problem).ToContainTextAsync("Invalid field 'reason'");
        await Expect(problem).ToContainTextAsync("reason is required");
        await Expect(problem).Not.ToContainTextAsync(" at ");
        await ShotAsync("04-problem-details");

        await Page.GetByLabel("Reason (required)").First.FillAsync("customer reported the card stolen");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Lock", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#cert-locked")).ToBeVisibleAsync();
        await Expect(Page.Locator("#cert-lock-reason")).ToHaveTextAsync("customer reported the card stolen");

        var refused = await ConsoleService.CaptureAsync(id, 10_000);
        Assert.That(((C.OperationRejected)refused.payload).reason, Is.EqualTo(C.RejectionReason.LOCKED));
        var rejectedRow = Page.Locator("tr[data-event-type='operation.rejected']");
        await Expect(rejectedRow).ToContainTextAsync("LOCKED"); // arrived live, without a reload
        await Expect(Page.Locator("#cert-balance")).ToHaveTextAsync("1\u202f000.00 RUB");
        await ShotAsync("05-locked-redemption-refused");

        await Page.GetByLabel("Reason (required)").First.FillAsync("card found");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Unlock", Exact = true }).ClickAsync();
        await Expect(Page.Locator("#cert-locked")).ToHaveCountAsync(0);
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Lock", Exact = true })).ToBeVisibleAsync();

        var redeemed = await ConsoleService.CaptureAsync(id, 10_000, storeId: "store-042");
        Assert.That(redeemed.eventType, Is.EqualTo("certificate.redeemed"));
        await Expect(Page.Locator("#cert-balance")).ToHaveTextAsync("900.00 RUB");
        await Expect(Page.Locator("tr[data-event-type='certificate.redeemed']")).ToContainTextAsync("store-042"); // where it was spent
        await Expect(Page.Locator("svg.chart circle.dot")).ToHaveCountAsync(2);
    }

    [Test]
    public async Task CvcReveal_AsSupport_MaskedUntilClicked_NoStore_OncePerTicket()
    {
        var id = await ConsoleService.IssuedCertificateAsync("console-cvc");
        await SignInAsync("support");
        await OpenAsync($"#/certificates/{id}");

        await Page.GetByLabel("Ticket", new() { Exact = true }).FillAsync("TICKET-16");
        await Page.GetByLabel("Agent").FillAsync("agent.ivanova");
        await Page.Locator("#cvc-reason").FillAsync("the buyer lost the e-mail");
        var disclosure = Page.WaitForResponseAsync(r => r.Url.EndsWith("/cvc/support-disclosures", StringComparison.Ordinal));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Disclose the CVC" }).ClickAsync();
        var response = await disclosure;
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(await response.HeaderValueAsync("cache-control"), Is.EqualTo("no-store"));

        var value = Page.Locator("#cvc-value");
        await Expect(value).ToHaveTextAsync("•••");
        await ShotAsync("06-cvc-masked");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Show CVC" }).ClickAsync();
        await Expect(value).ToHaveTextAsync(new Regex(@"^\d{4}$"));
        Assert.That(await value.TextContentAsync(), Is.EqualTo(ExpectedCvc(id)));
        await Expect(Page.Locator("tr[data-event-type='cvc.disclosed']")).ToHaveCountAsync(1); // audited on the stream, seen live
        Assert.That(await Page.EvaluateAsync<string>("() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"), Does.Not.Contain(ExpectedCvc(id)));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Hide CVC" }).ClickAsync();
        await Expect(value).ToHaveTextAsync("•••");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Disclose the CVC" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The CVC may not be disclosed"); // once per ticket
    }

    [Test]
    public async Task Pos_SeesItsCertificate_WithoutLockNorCvc_AndTheServiceRefusesItTheCvc()
    {
        var id = await ConsoleService.IssuedCertificateAsync("console-pos");
        await SignInAsync("pos-terminal");
        await Expect(Page.Locator("#who-name")).ToContainTextAsync("POS");
        await Page.GetByLabel("Certificate number").FillAsync(id);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("main h1")).ToHaveTextAsync($"Certificate {id}");
        await Expect(Page.Locator("#cert-balance")).ToHaveTextAsync("1\u202f000.00 RUB");
        await Expect(Page.Locator("#cvc-heading")).ToHaveCountAsync(0);
        await Expect(Page.Locator("#lock-heading")).ToHaveCountAsync(0);
        await ShotAsync("07-pos-certificate");

        // the page offers no CVC; the service refuses the POS client's token on the endpoint anyway
        var status = await Page.EvaluateAsync<int>(
            "async ([id, grant]) => (await fetch(`/certificates/${id}/cvc/support-disclosures`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('gcp.console.session')).accessToken }, body: JSON.stringify({ grant, reason: 'x' }) })).status",
            new[] { id, "not-a-grant" });
        Assert.That(status, Is.EqualTo(403));
    }

    [Test]
    public async Task Pools_ShowLevelsLowWatermarkReservationsInFlightAndBlockedIssues()
    {
        await ConsoleService.LoadPoolAsync("console-pool-tiny", count: 1, lowWatermark: 2);
        var (first, _) = await ConsoleService.ReserveAsync("console-pool-tiny", "order-tiny-1");
        var (second, problem) = await ConsoleService.ReserveAsync("console-pool-tiny", "order-tiny-2");
        Assert.That(((int)first, (int)second), Is.EqualTo((201, 409)), problem.ToString());
        await ConsoleService.EventuallyAsync(() => ConsoleService.Service.ReadModel.GetPool("console-pool-tiny")?.IssueBlocked == 1, "the issue.blocked in the read model");

        await SignInAsync("support");
        await OpenAsync("#/pools");
        var row = Page.Locator("tr[data-pool='console-pool-tiny']");
        await Expect(row.Locator("td[data-col='blocked']")).ToHaveTextAsync("1");
        await Expect(row).ToContainTextAsync("LOW");
        await Expect(row.Locator("td").Nth(5)).ToHaveTextAsync("1"); // reserved: one reservation in flight
        await Expect(row.Locator("meter")).ToHaveAttributeAsync("value", "0");
        await ShotAsync("08-pools");
    }

    [Test]
    public async Task LiveTail_OfAPool_ShowsAnEventAsItHappens()
    {
        await ConsoleService.LoadPoolAsync("console-tail", count: 2);
        await SignInAsync("support");
        await OpenAsync("#/pools");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Live tail of console-tail" }).ClickAsync();
        await Expect(Page.Locator("#tail-status")).ToHaveTextAsync("connected");
        await Expect(Page.Locator("#tail-events li")).ToHaveCountAsync(0);

        var (status, body) = await ConsoleService.ReserveAsync("console-tail", "order-tail-1");
        Assert.That((int)status, Is.EqualTo(201), body.ToString());
        var id = body.GetProperty("certificateId").GetString()!;
        var item = Page.Locator("#tail-events li[data-event-type='certificate.reserved']");
        await Expect(item).ToContainTextAsync(id);
        await ShotAsync("09-live-tail");

        await item.GetByRole(AriaRole.Link, new() { Name = id }).ClickAsync();
        await Expect(Page.Locator("#cert-status")).ToHaveTextAsync("RESERVED");
    }

    [Test]
    public async Task DailyReport_ForTheBiClient_ShowsEachChannelsDays_AsATableAndALiabilityChart()
    {
        await ConsoleService.IssuedCertificateAsync("console-report");
        var view = (GcpStreams.Api.Reporting.DailyReportView)ConsoleService.Service.Services.GetService(typeof(GcpStreams.Api.Reporting.DailyReportView))!;
        Assert.That(await view.WaitForAsync(v => v.Range(DateOnly.MinValue, DateOnly.MaxValue, C.Channel.POS).Any(r => r.Pools.Any(p => p.PoolId == "console-report")), ConsoleService.Timeout),
            Is.True, "the day's mart with the issue reached the service's report view");

        await SignInAsync("bi"); // gc.report only: the console opens on the daily report
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Daily report");
        var pos = Page.Locator("section[data-channel='POS']");
        await Expect(pos.Locator("svg.chart")).ToBeVisibleAsync();
        await Expect(pos.Locator("tbody tr")).Not.ToHaveCountAsync(0);
        await Expect(pos.Locator("td[data-col='issued']").First).Not.ToHaveTextAsync("0");
        await Expect(pos.Locator("td[data-col='reconciliation']").First).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-nav='pools']")).ToBeVisibleAsync(); // the nav is the same for everyone; the service decides
        await ShotAsync("10-daily-report");

        // a period of its own, and a bad one: the service's problem, nothing else
        await OpenAsync("#/reports?from=2000-01-01&to=2000-01-02");
        await Expect(Page.Locator("#reports-empty")).ToContainTextAsync("No event from 2000-01-01 to 2000-01-02");
        await OpenAsync("#/reports?from=2026-11-28&to=2026-11-27");
        await Expect(Page.Locator(".problem")).ToContainTextAsync("is before 'from'");
    }

    [Test]
    public async Task DailyReport_WithoutTheReportScope_IsHiddenFromTheNav_AndTheServiceRefusesIt()
    {
        await SignInAsync("support");
        await Expect(Page.Locator("[data-nav='reports']")).ToBeHiddenAsync();
        await OpenAsync("#/reports");
        await Expect(Page.Locator(".problem")).ToBeVisibleAsync();
        await Expect(Page.Locator("main table")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task UnknownCertificate_ShowsTheProblem_AndAWrongSecretTheTokenEndpointsAnswer()
    {
        await Page.GotoAsync(ConsoleUrl);
        await Page.GetByLabel("Client", new() { Exact = true }).SelectOptionAsync("support");
        await Page.GetByLabel("Client secret").FillAsync("wrong");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("invalid_client");

        await SignInAsync("support");
        await OpenAsync("#/certificates/GC-NO-SUCH-CERTIFICATE");
        var problem = Page.GetByRole(AriaRole.Alert);
        await Expect(problem).ToContainTextAsync("Certificate not found");
        await Expect(problem).ToContainTextAsync("No certificate with id 'GC-NO-SUCH-CERTIFICATE'");
    }

    [Test]
    public async Task A_page_still_loading_when_another_opens_never_shows_on_it()
    {
        // the first page's request is held until the second page is shown: its answer then comes too late to be drawn
        var held = new TaskCompletionSource();
        await Page.RouteAsync("**/certificates/GC-SLOW-FIRST", async route =>
        {
            await held.Task;
            await route.ContinueAsync();
        });
        await SignInAsync("support");
        await Page.GotoAsync(ConsoleUrl + "#/certificates/GC-SLOW-FIRST");
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Certificate GC-SLOW-FIRST");
        await OpenAsync("#/certificates/GC-THEN-THIS");
        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("No certificate with id 'GC-THEN-THIS'");

        var late = Page.WaitForResponseAsync("**/certificates/GC-SLOW-FIRST");
        held.SetResult();
        await late;
        await Page.EvaluateAsync("() => new Promise(requestAnimationFrame)"); // the late answer's task has run

        await Expect(Page.Locator("main h1")).ToHaveCountAsync(1);
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Certificate GC-THEN-THIS");
        await Expect(Page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(1);
        await Expect(Page.Locator("main")).Not.ToContainTextAsync("GC-SLOW-FIRST");
    }

    [Test]
    public async Task KeyboardOnly_SignInSearchAndOpen()
    {
        var id = await ConsoleService.IssuedCertificateAsync("console-keys");
        await Page.GotoAsync(ConsoleUrl);
        await Expect(Page.Locator("main h1")).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Tab"); // the client list
        await Expect(Page.GetByLabel("Client", new() { Exact = true })).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Tab");
        await Page.Keyboard.TypeAsync("support-secret");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Search certificates");
        await Expect(Page.Locator("main h1")).ToBeFocusedAsync();

        await Page.Keyboard.PressAsync("Tab"); // Status
        await Page.Keyboard.PressAsync("Tab"); // Channel
        await Page.Keyboard.PressAsync("Tab"); // Pool id
        await Expect(Page.GetByLabel("Pool id")).ToBeFocusedAsync();
        await Page.Keyboard.TypeAsync("console-keys");
        await Page.Keyboard.PressAsync("Enter");
        var link = Page.GetByRole(AriaRole.Link, new() { Name = id });
        await Expect(link).ToBeVisibleAsync();
        await link.FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("main h1")).ToHaveTextAsync($"Certificate {id}");
        await Expect(Page.Locator("main h1")).ToBeFocusedAsync();
    }

    private static string ExpectedCvc(string id) =>
        GcpStreams.Domain.Cvc.Derive(Convert.FromBase64String(GcpStreams.Integration.Tests.ServiceInstance.CvcKey), 1, id);
}
