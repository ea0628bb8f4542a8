using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace GcpStreams.ApiBench;

/// <summary>A bench pool: POS, one nominal, in RUB; reservations spread over them round robin.</summary>
internal sealed record BenchPool(string PoolId, int Series)
{
    public const string Channel = "POS";
    public const long NominalMinor = 100_000;
    public const string Currency = "RUB";

    /// <summary>The most certificates one POST /pools/{id}/certificates may add (PoolCommandsApi.MaxLoadCount); larger loads are several calls.</summary>
    public const int MaxLoadCount = 10_000;
}

/// <summary>The HTTP calls the bench makes as one OAuth2 client, with a real bearer token from the service's token endpoint.</summary>
internal sealed class ApiClient(HttpClient http, Uri baseUrl, string runId)
{
    private AuthenticationHeaderValue? bearer;

    public async Task AuthenticateAsync(string client, string secret, CancellationToken token)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client,
            ["client_secret"] = secret,
        });
        using var response = await http.PostAsync(new Uri(baseUrl, "/connect/token"), form, token);
        var body = await response.Content.ReadAsStringAsync(token);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /connect/token for {client}: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        bearer = new AuthenticationHeaderValue("Bearer", json.RootElement.GetProperty("access_token").GetString());
    }

    /// <summary>Certificates a pool still has to reserve, per the read model (0 when the pool does not exist yet).</summary>
    public async Task<long> AvailableAsync(string poolId, CancellationToken token)
    {
        using var request = Request(HttpMethod.Get, $"/pools/{Uri.EscapeDataString(poolId)}");
        using var response = await http.SendAsync(request, token);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(token));
        return json.RootElement.GetProperty("available").GetInt64();
    }

    /// <summary>
    /// POST /pools/{id}/certificates (scope gc.admin): adds <paramref name="count"/> generated certificates (at most
    /// <see cref="BenchPool.MaxLoadCount"/>) to the pool, creating it with its series on the first load, under the given
    /// Idempotency-Key. Returns the pool's available level from the answer (201, or 200 when the key replays a load).
    /// </summary>
    public async Task<long> LoadAsync(BenchPool pool, int count, string idempotencyKey, CancellationToken token)
    {
        using var request = Request(HttpMethod.Post, $"/pools/{Uri.EscapeDataString(pool.PoolId)}/certificates");
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        request.Content = JsonContent.Create(new
        {
            channel = BenchPool.Channel, nominalMinor = BenchPool.NominalMinor, currency = BenchPool.Currency,
            count, lowWatermark = 0, series = pool.Series,
        });
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            throw new InvalidOperationException($"POST /pools/{pool.PoolId}/certificates (count {count}): {await Problem(response, token)}");
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(token));
        return json.RootElement.GetProperty("available").GetInt64();
    }

    /// <summary>POST /certificates/next with a fresh Idempotency-Key; adds the reserved id to <paramref name="reserved"/> on 201.</summary>
    public async Task<Outcome> ReserveAsync(BenchPool pool, string tag, int n, ICollection<string>? reserved, CancellationToken token)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"apibench-{runId}-{tag}-{n}");
        using var request = Request(HttpMethod.Post, "/certificates/next");
        request.Headers.Add("Idempotency-Key", key);
        request.Content = JsonContent.Create(new
        {
            poolId = pool.PoolId, channel = BenchPool.Channel, nominalMinor = BenchPool.NominalMinor, currency = BenchPool.Currency,
            orderId = key, holdSeconds = 1800,
        });
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            return new Outcome(response.StatusCode, false, await Problem(response, token));
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(token));
        var id = json.RootElement.GetProperty("certificateId").GetString();
        if (id is null)
        {
            return new Outcome(response.StatusCode, false, "201 without certificateId");
        }

        if (reserved is not null)
        {
            lock (reserved)
            {
                reserved.Add(id);
            }
        }

        return new Outcome(response.StatusCode, true);
    }

    /// <summary>GET /reports/daily?from=&amp;to=&amp;channel=POS (JSON): 200 is expected; the body for the caller to read.</summary>
    public async Task<(Outcome Outcome, byte[] Body)> DailyReportAsync(DateOnly from, DateOnly to, CancellationToken token)
    {
        using var request = Request(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/reports/daily?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}&channel=POS"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        var body = await response.Content.ReadAsByteArrayAsync(token);
        return response.StatusCode == HttpStatusCode.OK ? (new Outcome(response.StatusCode, true), body) : (new Outcome(response.StatusCode, false, $"{(int)response.StatusCode}"), body);
    }

    /// <summary>GET /certificates/{id}: 200 with the same id is expected (masked to its last four digits for a channel client such as pos-terminal).</summary>
    public async Task<Outcome> LookupAsync(string certificateId, CancellationToken token)
    {
        using var request = Request(HttpMethod.Get, $"/certificates/{Uri.EscapeDataString(certificateId)}");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new Outcome(response.StatusCode, false, await Problem(response, token));
        }

        var body = await response.Content.ReadAsByteArrayAsync(token);
        var masked = new string('*', certificateId.Length - 4) + certificateId[^4..];
        return body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(certificateId)) >= 0 || body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(masked)) >= 0
            ? new Outcome(response.StatusCode, true)
            : new Outcome(response.StatusCode, false, "200 for another certificate");
    }

    /// <summary>GET /certificates?poolId=&amp;pageSize=: the first page of a pool's certificates; 200 with items is expected.</summary>
    public async Task<Outcome> SearchAsync(string poolId, int pageSize, CancellationToken token)
    {
        using var request = Request(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/certificates?poolId={Uri.EscapeDataString(poolId)}&pageSize={pageSize}"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new Outcome(response.StatusCode, false, await Problem(response, token));
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(token));
        return json.RootElement.GetProperty("items").GetArrayLength() > 0
            ? new Outcome(response.StatusCode, true)
            : new Outcome(response.StatusCode, false, "200 with no items");
    }

    /// <summary>The same client (same bearer token, so the same request bytes) aimed at another server: the baseline.</summary>
    public ApiClient At(Uri otherUrl) => new(http, otherUrl, runId) { bearer = bearer };

    /// <summary>The body of GET /certificates/{id} as the service answers it (for the baseline to answer the same bytes).</summary>
    public async Task<byte[]> LookupBodyAsync(string certificateId, CancellationToken token)
    {
        using var request = Request(HttpMethod.Get, $"/certificates/{Uri.EscapeDataString(certificateId)}");
        using var response = await http.SendAsync(request, token);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync(token);
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
        request.Headers.Authorization = bearer ?? throw new InvalidOperationException("authenticate first");
        return request;
    }

    private static async Task<string> Problem(HttpResponseMessage response, CancellationToken token)
    {
        var body = await response.Content.ReadAsStringAsync(token);
        try
        {
            using var json = JsonDocument.Parse(body);
            var type = json.RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
            var reason = json.RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null;
            return $"{(int)response.StatusCode} {type?.Split('/')[^1]}{(reason is null ? string.Empty : " " + reason)}";
        }
        catch (JsonException)
        {
            return $"{(int)response.StatusCode} {(body.Length > 80 ? body[..80] : body)}";
        }
    }
}
