using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using GcpStreams.Traffic;

namespace GcpStreams.CrmNotifier.Tests;

/// <summary>The notifier's parts on their own: settings, messages, phone numbers, and how API and gateway answers are classified.</summary>
public class NotifierPartsTests
{
    private static NotifierOptions Valid() => new()
    {
        BootstrapServers = "127.0.0.1:9092",
        SchemaRegistryUrl = "http://127.0.0.1:8080/schema-registry",
        Api = new ApiOptions { BaseUrl = "http://127.0.0.1:8080", ClientSecret = "s" },
        Retry = new RetryOptions { BaseDelayMs = 10, MaxDelayMs = 20, DeadlineSeconds = 5 },
    };

    [Test]
    public void Settings_NameEveryProblem()
    {
        Assert.That(Valid().Problems(), Is.Empty);
        var bad = new NotifierOptions
        {
            Api = new ApiOptions { BaseUrl = "not a url" },
            Smtp = new SmtpOptions { Port = 0 },
            Sms = new SmsOptions { GatewayUrl = "nope" },
            MaxConcurrency = 0,
            Retry = new RetryOptions { BaseDelayMs = 10, MaxDelayMs = 5 },
            DefaultLocale = "de",
        };

        var problems = bad.Problems();

        foreach (var setting in new[] { "Notifier:BootstrapServers", "Notifier:SchemaRegistryUrl", "Notifier:Api:ClientSecret", "Notifier:Api:BaseUrl", "Notifier:Smtp:Port",
            "Notifier:Sms:GatewayUrl", "Notifier:MaxConcurrency", "Notifier:Retry", "Notifier:DefaultLocale" })
        {
            Assert.That(problems, Has.Some.Contains(setting), setting);
        }

        Assert.That(() => NotifierApp.Build(["--Notifier:BootstrapServers="]), Throws.InvalidOperationException.With.Message.Contains("Notifier:BootstrapServers is required"));
    }

    [Test]
    public void Messages_InEnglishAndRussian_WithTheNumberGroupedTheCvcAndTheAmount()
    {
        var en = Messages.Build("en", "Ann <b>", "7700142839572011", "0427", 150_050, "RUB", again: false);
        var ru = Messages.Build("ru", null, "7700142839572011", "0427", 1_000_000, "RUB", again: true);
        var eur = Messages.Build("en", null, "123", "0427", null, "EUR", again: false);

        Assert.That(en.Subject, Is.EqualTo("Your gift certificate"));
        Assert.That(en.PlainText, Does.Contain("7700 1428 3957 2011").And.Contain("CVC: 0427").And.Contain("1,500.50 RUB").And.Contain("Dear Ann <b>,"));
        Assert.That(en.Html, Does.Contain("Ann &lt;b&gt;").And.Not.Contain("<b>,"), "HTML-encoded");
        Assert.That(en.Sms, Is.EqualTo("Gift certificate 7700 1428 3957 2011, CVC 0427, 1,500.50 RUB"));
        Assert.That(ru.Subject, Is.EqualTo("Ваш подарочный сертификат (повторно)"));
        Assert.That(ru.PlainText, Does.Contain("10\u00A0000 ₽").And.Contain("Здравствуйте!").And.Contain("повторно"));
        Assert.That(eur.PlainText, Does.Contain("Your gift certificate is ready").And.Contain("Certificate number: 123"));
        Assert.That((Messages.LanguageOf("ru-RU", "en"), Messages.LanguageOf(null, "ru"), Messages.LanguageOf("de", "en")), Is.EqualTo(("ru", "ru", "en")));
    }

    [TestCase("+7 (900) 123-45-67", "+79001234567")]
    [TestCase("+44 20 7946 0958", "+442079460958")]
    [TestCase("8 900 123 45 67", null)]
    [TestCase("+0123456789", null)]
    [TestCase(null, null)]
    public void PhoneNumbers_AreE164(string? given, string? expected) => Assert.That(SmsSender.Normalize(given), Is.EqualTo(expected));

    [Test]
    public void LogLines_ShowTheLastFourDigitsOfANumber() =>
        Assert.That((NotificationProcessor.Mask("7700142839572011"), NotificationProcessor.Mask("12")), Is.EqualTo(("************2011", "**")));

    [Test]
    public async Task ApiAnswers_AreClassified_TransientOrPermanent_AndTheTokenIsCachedAndRenewedAfterA401()
    {
        var tokens = 0;
        var status = HttpStatusCode.OK;
        await using var server = await LocalHttpServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/connect/token")
            {
                Interlocked.Increment(ref tokens);
                await context.Response.WriteAsJsonAsync(new { access_token = "t" + tokens, expires_in = 3600 });
                return;
            }

            context.Response.StatusCode = (int)status;
            if (status == HttpStatusCode.OK)
            {
                await context.Response.WriteAsJsonAsync(new { certificateId = "1", cvc = "0427", keyVersion = 1 });
            }
            else
            {
                await context.Response.WriteAsJsonAsync(new { type = "https://gcpstreams.dev/problems/cvc-disclosure-not-allowed", detail = "client-9 bought it" });
            }
        });
        var options = Valid();
        options.Api.BaseUrl = server.Url;
        using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        var api = new GcpApiClient(services.GetRequiredService<IHttpClientFactory>(), options, TimeProvider.System);

        Assert.That(await api.GetCvcAsync("1", "n-1", CancellationToken.None), Is.EqualTo("0427"));
        Assert.That(await api.GetCvcAsync("1", "n-1", CancellationToken.None), Is.EqualTo("0427"));
        Assert.That(tokens, Is.EqualTo(1), "the token is cached");

        status = HttpStatusCode.Unauthorized;
        Assert.That(() => api.GetCvcAsync("1", "n-1", CancellationToken.None), Throws.TypeOf<TransientNotificationException>());
        status = HttpStatusCode.OK;
        Assert.That(await api.GetCvcAsync("1", "n-1", CancellationToken.None), Is.EqualTo("0427"));
        Assert.That(tokens, Is.EqualTo(2), "a 401 makes it ask for a new token");

        foreach (var transient in new[] { HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout })
        {
            status = transient;
            Assert.That(() => api.GetCvcAsync("1", "n-1", CancellationToken.None), Throws.TypeOf<TransientNotificationException>(), transient.ToString());
        }

        status = HttpStatusCode.Conflict;
        Assert.That(() => api.GetCvcAsync("1", "n-1", CancellationToken.None),
            Throws.TypeOf<PermanentNotificationException>().With.Message.EqualTo("GCP API refused the CVC read: 409 cvc-disclosure-not-allowed"), "the problem's type, never its detail");

        options.Api.BaseUrl = "http://127.0.0.1:1"; // nothing listens
        var unreachable = new GcpApiClient(services.GetRequiredService<IHttpClientFactory>(), options, TimeProvider.System);
        Assert.That(() => unreachable.GetCvcAsync("1", "n-1", CancellationToken.None), Throws.TypeOf<TransientNotificationException>());
    }

    [Test]
    public async Task GatewayAnswers_AreClassified_AndWithoutAGatewaySmsFailsForGood()
    {
        var answer = StatusCodes.Status202Accepted;
        await using var server = await LocalHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = answer;
            return Task.CompletedTask;
        });
        var options = Valid();
        options.Sms.GatewayUrl = server.Url + "/sms";
        using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        var sms = new SmsSender(services.GetRequiredService<IHttpClientFactory>(), options);
        var message = Messages.Build("en", null, "7700142839572011", "0427", null, null, again: false);

        await sms.SendAsync("n-1", "+79001234567", message, CancellationToken.None);
        answer = StatusCodes.Status500InternalServerError;
        Assert.That(() => sms.SendAsync("n-1", "+79001234567", message, CancellationToken.None), Throws.TypeOf<TransientNotificationException>());
        answer = StatusCodes.Status429TooManyRequests;
        Assert.That(() => sms.SendAsync("n-1", "+79001234567", message, CancellationToken.None), Throws.TypeOf<TransientNotificationException>());
        answer = StatusCodes.Status422UnprocessableEntity;
        Assert.That(() => sms.SendAsync("n-1", "+79001234567", message, CancellationToken.None), Throws.TypeOf<PermanentNotificationException>());

        options.Sms.GatewayUrl = null;
        Assert.That(() => sms.SendAsync("n-1", "+79001234567", message, CancellationToken.None),
            Throws.TypeOf<PermanentNotificationException>().With.Message.EqualTo("no SMS gateway configured (Notifier:Sms:GatewayUrl)"));
    }

    [Test]
    public void Smtp_NothingListening_IsTransient()
    {
        var options = Valid();
        options.Smtp.Port = Smtp4Dev.FreePort();
        options.Smtp.Security = "None";
        var email = new EmailSender(options);

        Assert.That(() => email.SendAsync("n-1", "a@example.test", null, Messages.Build("en", null, "1", "0427", null, null, false), CancellationToken.None),
            Throws.TypeOf<TransientNotificationException>().With.Message.StartsWith("SMTP session failed"));
    }
}
