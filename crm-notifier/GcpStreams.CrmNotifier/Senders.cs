using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace GcpStreams.CrmNotifier;

/// <summary>Sends one e-mail over SMTP with MailKit: plain text and HTML, a Message-ID derived from the notification id.</summary>
public sealed class EmailSender(NotifierOptions options)
{
    /// <summary>
    /// Sends the message. A 4xx reply, a dropped connection, a refused connection or a timeout is transient; a 5xx reply (5.y.z:
    /// mailbox unknown, message refused, …) is permanent. The session never uses the caller's cancellation once the message is on
    /// its way (only its own timeout), so a stop does not cut a send in half.
    /// </summary>
    public async Task SendAsync(string notificationId, string to, string? name, Message message, CancellationToken cancel)
    {
        using var mime = new MimeMessage();
        mime.From.Add(MailboxAddress.Parse(options.Smtp.From));
        mime.To.Add(new MailboxAddress(name ?? string.Empty, to));
        mime.Subject = message.Subject;
        // the same notification always has the same Message-ID: a mail system (or the buyer's client) sees a repeat as one message
        mime.MessageId = $"{notificationId}@gcp-crm-notifier";
        mime.Body = new BodyBuilder { TextBody = message.PlainText, HtmlBody = message.Html }.ToMessageBody();

        cancel.ThrowIfCancellationRequested();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Smtp.TimeoutSeconds));
        using var smtp = new SmtpClient();
        try
        {
            await smtp.ConnectAsync(options.Smtp.Host, options.Smtp.Port, Enum.Parse<SecureSocketOptions>(options.Smtp.Security, ignoreCase: true), timeout.Token);
            if (options.Smtp.User is { Length: > 0 } user)
            {
                await smtp.AuthenticateAsync(user, options.Smtp.Password ?? string.Empty, timeout.Token);
            }

            await smtp.SendAsync(mime, timeout.Token);
            await smtp.DisconnectAsync(quit: true, CancellationToken.None);
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            var what = string.Create(CultureInfo.InvariantCulture, $"SMTP {code} ({e.ErrorCode})");
            throw code is >= 400 and < 500 ? new TransientNotificationException(what, e) : new PermanentNotificationException(what, e);
        }
        catch (AuthenticationException e)
        {
            throw new TransientNotificationException("SMTP authentication failed (check Notifier:Smtp:User and Password)", e);
        }
        catch (Exception e) when (e is SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException or SslHandshakeException)
        {
            throw new TransientNotificationException($"SMTP session failed ({e.GetType().Name})", e);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
        {
            throw new TransientNotificationException(string.Create(CultureInfo.InvariantCulture, $"SMTP gave no answer within {options.Smtp.TimeoutSeconds} s"), e);
        }
    }
}

/// <summary>
/// Sends one SMS through the gateway (another company's HTTP service): <c>POST {GatewayUrl}</c> with
/// <c>{"to", "from", "text", "reference"}</c> (reference: the notification id, for the gateway's own de-duplication) and the
/// configured auth header. 2xx is sent; 408, 429 and 5xx are transient; any other 4xx is permanent.
/// </summary>
public sealed partial class SmsSender(IHttpClientFactory factory, NotifierOptions options)
{
    public const string HttpClientName = "sms-gateway";

    public async Task SendAsync(string notificationId, string to, Message message, CancellationToken cancel)
    {
        if (options.Sms.GatewayUrl is not { Length: > 0 } gateway)
        {
            throw new PermanentNotificationException("no SMS gateway configured (Notifier:Sms:GatewayUrl)");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, gateway)
        {
            Content = JsonContent.Create(new { to, from = options.Sms.Sender, text = message.Sms, reference = notificationId }),
        };
        if (options.Sms.AuthValue is { Length: > 0 } auth)
        {
            request.Headers.TryAddWithoutValidation(options.Sms.AuthHeader, auth);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Sms.TimeoutSeconds));
        HttpResponseMessage response;
        try
        {
            response = await factory.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
        }
        catch (HttpRequestException e)
        {
            throw new TransientNotificationException($"SMS gateway unreachable ({e.HttpRequestError})", e);
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new TransientNotificationException(string.Create(CultureInfo.InvariantCulture, $"SMS gateway gave no answer within {options.Sms.TimeoutSeconds} s"), e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var what = string.Create(CultureInfo.InvariantCulture, $"SMS gateway answered {status}");
            throw response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || status >= 500
                ? new TransientNotificationException(what)
                : new PermanentNotificationException(what);
        }
    }

    /// <summary>Whether a phone number is one the gateway takes: E.164 (<c>+</c>, 8 to 15 digits; spaces, dashes and brackets ignored).</summary>
    public static string? Normalize(string? phone)
    {
        if (phone is null)
        {
            return null;
        }

        var compact = Separators().Replace(phone, string.Empty);
        return E164().IsMatch(compact) ? compact : null;
    }

    [GeneratedRegex(@"[\s\-()]")]
    private static partial Regex Separators();

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}\z")]
    private static partial Regex E164();
}
