using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using C = GcpStreams.Contracts;

namespace GcpStreams.Traffic;

/// <summary>A dev OAuth2 client of the embedded token server (docs/api.md, <c>Auth:Clients</c>).</summary>
public sealed record DevClient(string Id, string Secret)
{
    /// <summary>The POS terminals: bound to the POS channel.</summary>
    public static readonly DevClient PosTerminal = new("pos-terminal", "pos-terminal-secret");

    /// <summary>The internet store: bound to the INTERNET_STORE channel.</summary>
    public static readonly DevClient InternetStore = new("internet-store", "internet-store-secret");

    /// <summary>The support desk (back office): locks and unlocks.</summary>
    public static readonly DevClient Support = new("support", "support-secret");

    /// <summary>Every scope, no channel: reserves in the pools of the channels that have no client of their own.</summary>
    public static readonly DevClient Admin = new("admin", "admin-secret");

    /// <summary>
    /// The client that reserves in a pool of <paramref name="channel"/>: the channel's own (a client bound to a channel gets
    /// 404/403 for another channel's pool), <see cref="Admin"/> for the channels without one.
    /// </summary>
    public static DevClient ForChannel(C.Channel channel) => channel switch
    {
        C.Channel.POS => PosTerminal,
        C.Channel.INTERNET_STORE => InternetStore,
        _ => Admin,
    };
}

/// <summary>What the API answered to a write: done (a reservation's certificate id), or refused with the problem's reason.</summary>
/// <param name="CertificateId">The reserved certificate (reservations), or the certificate written.</param>
/// <param name="Refusal">
/// Why it was refused: the problem's <c>reason</c> (e.g. <c>POOL_EMPTY</c>, <c>RESERVATION_LIMIT</c>, <c>LOCKED</c>), else the
/// last segment of its <c>type</c> (e.g. <c>pool-not-found</c>), else the status code; <see langword="null"/> when done.
/// </param>
public sealed record ApiAnswer(string? CertificateId, string? Refusal)
{
    public bool Done => Refusal is null;
}

/// <summary>The API gave no final answer: still 429/503/504 or unreachable after every retry.</summary>
public sealed class ApiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The HTTP API as the POS terminals, the internet store and the support desk call it: OAuth2 client-credentials tokens
/// from <c>POST /connect/token</c> (cached per client until shortly before they expire), reservations with an
/// Idempotency-Key, lock and unlock. 429 waits its Retry-After and retries; 503 and 504 retry (a reservation with the same
/// Idempotency-Key); both bounded, then <see cref="ApiUnavailableException"/>. One instance (one HttpClient) per process.
/// </summary>
public sealed class GcpApi : IDisposable
{
    /// <summary>Tries per call, the first included.</summary>
    public const int MaxAttempts = 6;

    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    private readonly HttpClient http;
    private readonly Uri baseUrl;
    private readonly Dictionary<string, Task<AccessToken>> tokens = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> retries = new(StringComparer.Ordinal);

    /// <param name="baseUrl">The API, e.g. <c>http://127.0.0.1:8080</c> (the paths are resolved under it).</param>
    public GcpApi(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        this.baseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// The retries so far by cause (<c>connection (HttpRequestException: its message)</c>, <c>429</c>, <c>503</c>, <c>504</c>, <c>401</c> with
    /// a new token): a retry costs its back-off, so the callers' latencies should be read with them.
    /// </summary>
    public IReadOnlyDictionary<string, long> Retries => new SortedDictionary<string, long>(retries, StringComparer.Ordinal);

    private void Retried(string cause) => retries.AddOrUpdate(cause, 1, (_, n) => n + 1);

    /// <summary>
    /// <c>POST /certificates/next</c> as the pool's channel client (<see cref="DevClient.ForChannel"/>): 201 (or 200, the
    /// same Idempotency-Key replayed after a retry) is the reserved certificate; any other problem is a refusal.
    /// </summary>
    public async Task<ApiAnswer> ReserveAsync(PoolChoice pool, string orderId, int holdSeconds, string idempotencyKey, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var body = new
        {
            poolId = pool.PoolId, channel = pool.Channel.ToString(), nominalMinor = pool.NominalMinor, currency = pool.Currency, orderId, holdSeconds,
        };
        var (response, _) = await SendAsync("POST /certificates/next", DevClient.ForChannel(pool.Channel), () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "certificates/next")) { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            return request;
        }, token);
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(token));
                return json.RootElement.TryGetProperty("certificateId", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } certificateId
                    ? new ApiAnswer(certificateId, null)
                    : new ApiAnswer(null, "no certificateId in the answer");
            }

            return new ApiAnswer(null, await RefusalAsync(response, token));
        }
    }

    /// <summary><c>GET /certificates/{id}</c> as the POS terminal: whether the service knows the (POS) certificate yet (404: not yet).</summary>
    public async Task<bool> CertificateExistsAsync(string certificateId, CancellationToken token)
    {
        var (response, _) = await SendAsync("GET /certificates/{id}", DevClient.PosTerminal,
            () => new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "certificates/" + Uri.EscapeDataString(certificateId))), token);
        using (response)
        {
            return response.StatusCode switch
            {
                HttpStatusCode.OK => true,
                HttpStatusCode.NotFound => false,
                _ => throw new ApiUnavailableException($"GET /certificates/{certificateId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}"),
            };
        }
    }

    /// <summary><c>POST /certificates/{id}/lock</c> as support, with a reason.</summary>
    public Task<ApiAnswer> LockAsync(string certificateId, string reason, CancellationToken token) =>
        WriteAsync(certificateId, "lock", reason, alreadyDone: "LOCKED", token);

    /// <summary><c>POST /certificates/{id}/unlock</c> as support, with a reason.</summary>
    public Task<ApiAnswer> UnlockAsync(string certificateId, string reason, CancellationToken token) =>
        WriteAsync(certificateId, "unlock", reason, alreadyDone: "INVALID_STATUS", token);

    /// <summary>Gets a token for each client now: fails early, with the token endpoint's answer, when the API is not there.</summary>
    public Task WarmUpAsync(IEnumerable<DevClient> clients, CancellationToken token) =>
        Task.WhenAll(clients.Distinct().Select(c => TokenAsync(c, token)));

    /// <summary>
    /// Lock and unlock carry no Idempotency-Key: after a 504 or a lost connection the first try may have been carried out,
    /// so a retry refused with <paramref name="alreadyDone"/> (already locked; not locked any more) counts as done.
    /// </summary>
    private async Task<ApiAnswer> WriteAsync(string certificateId, string action, string reason, string alreadyDone, CancellationToken token)
    {
        var path = $"certificates/{Uri.EscapeDataString(certificateId)}/{action}";
        var (response, uncertain) = await SendAsync("POST /" + path, DevClient.Support, () =>
            new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, path)) { Content = JsonContent.Create(new { reason }) }, token);
        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return new ApiAnswer(certificateId, null);
            }

            var refusal = await RefusalAsync(response, token);
            return uncertain && refusal == alreadyDone ? new ApiAnswer(certificateId, null) : new ApiAnswer(certificateId, refusal);
        }
    }

    /// <summary>
    /// Sends a request (built anew for every try) with the client's bearer token and returns the first final answer; retries
    /// 429 after its Retry-After, 503/504 and connection failures (bounded, <see cref="MaxAttempts"/>), and a 401 once with a
    /// fresh token. <c>Uncertain</c>: an earlier try may have been carried out (a 504, or no answer at all).
    /// </summary>
    private async Task<(HttpResponseMessage Response, bool Uncertain)> SendAsync(string what, DevClient client, Func<HttpRequestMessage> build, CancellationToken token)
    {
        var uncertain = false;
        var renewed = false;
        for (var attempt = 1; ; attempt++)
        {
            var bearer = await TokenAsync(client, token);
            using var request = build();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer.Value);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !token.IsCancellationRequested))
            {
                if (attempt >= MaxAttempts)
                {
                    throw new ApiUnavailableException($"{what} as {client.Id}: no answer after {attempt} tries ({e.Message})", e);
                }

                uncertain = true;
                Retried($"connection ({e.GetType().Name}: {e.Message})");
                await Task.Delay(TimeSpan.FromSeconds(1), token); // back-off before the retry
                continue;
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && !renewed)
            {
                response.Dispose();
                Forget(client, bearer); // expired or revoked: one more try with a new token
                Retried("401");
                renewed = true;
                continue;
            }

            if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
            {
                return (response, uncertain);
            }

            var status = (int)response.StatusCode;
            var wait = RetryAfter(response, response.StatusCode == HttpStatusCode.TooManyRequests ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(2));
            uncertain |= response.StatusCode == HttpStatusCode.GatewayTimeout;
            Retried(status.ToString(CultureInfo.InvariantCulture));
            response.Dispose();
            if (attempt >= MaxAttempts)
            {
                throw new ApiUnavailableException($"{what} as {client.Id}: still {status} after {attempt} tries");
            }

            await Task.Delay(wait, token); // the server's Retry-After
        }
    }

    /// <summary>The client's cached token, or a new one when there is none or it expires soon (one request per client at a time).</summary>
    private async Task<AccessToken> TokenAsync(DevClient client, CancellationToken token)
    {
        Task<AccessToken> pending;
        lock (tokens)
        {
            if (!tokens.TryGetValue(client.Id, out pending!)
                || pending.IsFaulted || pending.IsCanceled
                || (pending.IsCompletedSuccessfully && pending.Result.RenewAt <= DateTimeOffset.UtcNow))
            {
                pending = RequestTokenAsync(client);
                tokens[client.Id] = pending;
            }
        }

        return await pending.WaitAsync(token);
    }

    private void Forget(DevClient client, AccessToken stale)
    {
        lock (tokens)
        {
            if (tokens.TryGetValue(client.Id, out var current) && current.IsCompletedSuccessfully && current.Result == stale)
            {
                tokens.Remove(client.Id);
            }
        }
    }

    /// <summary>
    /// <c>POST /connect/token</c> (client credentials); renewed a minute before <c>expires_in</c> (a fifth of a shorter
    /// lifetime). Not cancelled with one caller: others may wait for the same token. 429 waits its Retry-After (bounded).
    /// </summary>
    private async Task<AccessToken> RequestTokenAsync(DevClient client)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = client.Id,
                ["client_secret"] = client.Secret,
            });
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync(new Uri(baseUrl, "connect/token"), form);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                throw new ApiUnavailableException($"POST {new Uri(baseUrl, "connect/token")} for {client.Id}: {e.Message}", e);
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) && attempt < MaxAttempts)
                {
                    await Task.Delay(RetryAfter(response, TimeSpan.FromSeconds(1)));
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new ApiUnavailableException($"POST /connect/token for {client.Id}: {(int)response.StatusCode} {body}");
                }

                using var json = JsonDocument.Parse(body);
                var value = json.RootElement.GetProperty("access_token").GetString()
                    ?? throw new ApiUnavailableException($"POST /connect/token for {client.Id}: no access_token");
                var lifetime = TimeSpan.FromSeconds(json.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) ? s : 300);
                var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, lifetime.Ticks / 5));
                return new AccessToken(value, DateTimeOffset.UtcNow + lifetime - margin);
            }
        }
    }

    /// <summary>The response's Retry-After (seconds or a date), at least a second and at most <see cref="MaxRetryAfter"/>; else <paramref name="otherwise"/>.</summary>
    private static TimeSpan RetryAfter(HttpResponseMessage response, TimeSpan otherwise)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : otherwise);
        return wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait > MaxRetryAfter ? MaxRetryAfter : wait;
    }

    /// <summary>The reason of a problem answer (see <see cref="ApiAnswer.Refusal"/>).</summary>
    private static async Task<string> RefusalAsync(HttpResponseMessage response, CancellationToken token)
    {
        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        var body = await response.Content.ReadAsStringAsync(token);
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return status;
            }

            if (json.RootElement.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
            {
                return reason.GetString()!;
            }

            return json.RootElement.TryGetProperty("type", out var type) && type.GetString() is { } uri ? uri.Split('/')[^1] : status;
        }
        catch (JsonException)
        {
            return status;
        }
    }

    public void Dispose() => http.Dispose();

    private sealed record AccessToken(string Value, DateTimeOffset RenewAt);
}
