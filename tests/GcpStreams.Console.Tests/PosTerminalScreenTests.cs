using Microsoft.Playwright;

namespace GcpStreams.Console.Tests;

/// <summary>The console on a POS terminal's screen (800 x 600, and a narrow 480-pixel one): nothing needs sideways scrolling.</summary>
public sealed class PosTerminalScreenTests : ConsoleTest
{
    protected override ViewportSize Viewport => new() { Width = 800, Height = 600 };

    [Test]
    public async Task CertificateSearchAndPools_FitThePosScreen()
    {
        var id = await ConsoleService.IssuedCertificateAsync("console-screen");
        await SignInAsync("pos-terminal");
        await Expect(Page.Locator("main h1")).ToHaveTextAsync("Search certificates");
        await AssertNoSidewaysScrollAsync();

        await Page.GetByLabel("Certificate number").FillAsync(id);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync();
        await Expect(Page.Locator("#cert-balance")).ToHaveTextAsync("1\u202f000.00 RUB");
        await Expect(Page.Locator("svg.chart")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync();
        await ShotAsync("11-pos-terminal-800x600-certificate");

        await OpenAsync("#/pools");
        await Expect(Page.Locator("tr[data-pool='console-screen']")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync();
        await ShotAsync("12-pos-terminal-800x600-pools");

        await Page.SetViewportSizeAsync(480, 800);
        await OpenAsync($"#/certificates/{id}");
        await Expect(Page.Locator("#cert-balance")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync();
        await ShotAsync("13-narrow-480-certificate");
    }

    private async Task AssertNoSidewaysScrollAsync()
    {
        var overflow = await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.That(overflow, Is.LessThanOrEqualTo(0), "the page scrolls sideways (wide tables scroll inside their own box)");
    }
}
