using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace GcpStreams.Reliability;

/// <summary>A pool's levels as GET /pools answers them.</summary>
internal sealed record PoolLevels(long Available, int Reserved, int Issued, long Loaded, long IssueBlocked);

/// <summary>The admin client's calls the suite makes besides the traffic: load a pool, read the pools' levels.</summary>
internal static class AdminHttp
{
    public static async Task<string> TokenAsync(HttpClient http, Uri api, CancellationToken token)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "admin", ["client_secret"] = "admin-secret",
        });
        using var response = await http.PostAsync(new Uri(api, "/connect/token"), form, token);
        var body = await response.Content.ReadAsStringAsync(token);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /connect/token for admin: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>POST /pools/{id}/certificates: creates the pool with <paramref name="count"/> generated certificates of its series.</summary>
    public static async Task LoadPoolAsync(HttpClient http, Uri api, string poolId, string channel, long nominal, int count, int series, CancellationToken token)
    {
        var bearer = await TokenAsync(http, api, token);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, $"/pools/{Uri.EscapeDataString(poolId)}/certificates"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        request.Headers.Add("Idempotency-Key", "reliability-load-" + poolId);
        request.Content = JsonContent.Create(new { channel, nominalMinor = nominal, currency = "RUB", count, lowWatermark = 0, series });
        using var response = await http.SendAsync(request, token);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            throw new InvalidOperationException($"POST /pools/{poolId}/certificates: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}");
        }
    }

    /// <summary>GET /pools as admin: every pool's levels by id.</summary>
    public static async Task<Dictionary<string, PoolLevels>> PoolsAsync(HttpClient http, Uri api, CancellationToken token)
    {
        var bearer = await TokenAsync(http, api, token);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api, "/pools"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request, token);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(token));
        var pools = new Dictionary<string, PoolLevels>(StringComparer.Ordinal);
        var items = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement : json.RootElement.EnumerateObject().First(p => p.Value.ValueKind == JsonValueKind.Array).Value;
        foreach (var pool in items.EnumerateArray())
        {
            pools[pool.GetProperty("poolId").GetString()!] = new PoolLevels(
                pool.GetProperty("available").GetInt64(), pool.GetProperty("reserved").GetInt32(), pool.GetProperty("issued").GetInt32(),
                pool.GetProperty("loaded").GetInt64(), pool.GetProperty("issueBlocked").GetInt64());
        }

        return pools;
    }
}
