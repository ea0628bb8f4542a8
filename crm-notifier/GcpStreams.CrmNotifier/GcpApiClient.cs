using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace GcpStreams.CrmNotifier;

/// <summary>
/// The GCP HTTP API as the CRM notifier calls it: an OAuth2 client-credentials token (cached until shortly before it expires)
/// and <c>GET /certificates/{id}/cvc?notificationId=</c>. The CVC it returns is held by the caller only for the send.
/// </summary>
public sealed class GcpApiClient(IHttpClientFactory factory, NotifierOptions options, TimeProvider time)
{
    public const string HttpClientName = "gcp-api";

    private readonly SemaphoreSlim tokenGate = new(1, 1);
    private (string Value, DateTimeOffset Until)? token;

    private Uri TokenUrl => new(options.Api.TokenUrl is { Length: > 0 } url ? url : options.Api.BaseUrl.TrimEnd('/') + "/connect/token");

    /// <summary>
    /// The CVC for the notification. Transient (retry): network errors, timeouts, 401 (the token is renewed), 404 (the API's read
    /// model has not seen the issue yet), 429, 5xx (504 included: the read may have been recorded, the grant still allows the
    /// next). Permanent: 409 (the grant is closed or unknown, the certificate locked or no longer issued), 403, 400.
    /// </summary>
    public async Task<string> GetCvcAsync(string certificateId, string notificationId, CancellationToken cancel)
    {
        var bearer = await TokenAsync(cancel);
        var path = $"certificates/{Uri.EscapeDataString(certificateId)}/cvc?notificationId={Uri.EscapeDataString(notificationId)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(options.Api.BaseUrl.TrimEnd('/') + "/"), path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        request.Headers.Add("X-Correlation-Id", "crm-" + notificationId);
        HttpResponseMessage response;
        try
        {
            response = await Send(request, cancel);
        }
        catch (HttpRequestException e)
        {
            throw new TransientNotificationException($"GCP API unreachable ({e.HttpRequestError})", e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
                return body.GetProperty("cvc").GetString() ?? throw new TransientNotificationException("GCP API answered 200 without a CVC");
            }

            var problem = await ProblemOf(response, cancel);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized:
                    Forget(bearer);
                    throw new TransientNotificationException("GCP API refused the token (401); a new one is asked for");
                case HttpStatusCode.NotFound:
                    throw new TransientNotificationException("GCP API does not know the certificate yet (404)");
                case HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout:
                case >= HttpStatusCode.InternalServerError:
                    throw new TransientNotificationException(string.Create(CultureInfo.InvariantCulture, $"GCP API answered {status} {problem}"));
                default:
                    throw new PermanentNotificationException(string.Create(CultureInfo.InvariantCulture, $"GCP API refused the CVC read: {status} {problem}"));
            }
        }
    }

    private async Task<HttpResponseMessage> Send(HttpRequestMessage request, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Api.TimeoutSeconds));
        try
        {
            return await factory.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new TransientNotificationException($"GCP API gave no answer within {options.Api.TimeoutSeconds} s", e);
        }
    }

    /// <summary>The problem's type and reason (never its detail, which may name the certificate or the buyer).</summary>
    private static async Task<string> ProblemOf(HttpResponseMessage response, CancellationToken cancel)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
            var type = problem.TryGetProperty("type", out var t) ? t.GetString()?.Split('/').Last() : null;
            var reason = problem.TryGetProperty("reason", out var r) ? r.GetString() : null;
            return string.Join(' ', new[] { type, reason }.Where(s => !string.IsNullOrEmpty(s)));
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return string.Empty;
        }
    }

    private async Task<string> TokenAsync(CancellationToken cancel)
    {
        if (token is { } cached && cached.Until > time.GetUtcNow())
        {
            return cached.Value;
        }

        await tokenGate.WaitAsync(cancel);
        try
        {
            if (token is { } again && again.Until > time.GetUtcNow())
            {
                return again.Value;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, TokenUrl)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "client_credentials",
                    ["client_id"] = options.Api.ClientId,
                    ["client_secret"] = options.Api.ClientSecret,
                }),
            };
            HttpResponseMessage response;
            try
            {
                response = await Send(request, cancel);
            }
            catch (HttpRequestException e)
            {
                throw new TransientNotificationException($"token endpoint unreachable ({e.HttpRequestError})", e);
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    var status = (int)response.StatusCode;
                    // transient even when the client is refused: a configuration error must not fail (and close) every notification at
                    // once; they wait, the service raises notification.overdue, and the log says why
                    throw new TransientNotificationException(string.Create(CultureInfo.InvariantCulture,
                        $"token endpoint answered {status} for client {options.Api.ClientId} (check Notifier:Api:ClientId and ClientSecret)"));
                }

                var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
                var value = body.GetProperty("access_token").GetString()!;
                var lifetime = body.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) ? seconds : 300;
                token = (value, time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(1, lifetime - 30))); // renewed 30 s before it expires
                return value;
            }
        }
        finally
        {
            tokenGate.Release();
        }
    }

    private void Forget(string stale)
    {
        if (token is { } cached && cached.Value == stale)
        {
            token = null;
        }
    }
}
