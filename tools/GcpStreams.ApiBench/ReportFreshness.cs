using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace GcpStreams.ApiBench;

/// <summary>
/// The BI reports' freshness and read latency (issue 13), from outside like BI: an event the daily mart counts is caused through the
/// API (a reservation refused by an empty pool: <c>issue.blocked</c>, counted per pool), then <c>GET /reports/daily</c> (as the dev
/// client <c>bi</c>) is read back-to-back until the pool's count shows it. Freshness = from sending the request that caused the event
/// to the first report read that shows it (an upper bound: it includes the write's own latency and one report read). Samples are
/// sequential, so each count increment belongs to one sample. Then report reads alone, open-loop at a fixed rate.
/// </summary>
internal static class ReportFreshness
{
    private static readonly TimeZoneInfo Moscow = TimeZoneInfo.FindSystemTimeZoneById("Europe/Moscow");

    public static async Task<(Run Freshness, Run Reads)> RunAsync(HttpClient http, Uri url, string runId, ApiClient admin, ApiClient pos, int samples, double readRate,
        TimeSpan readDuration, CancellationToken token)
    {
        var bi = new ApiClient(http, url, runId);
        await bi.AuthenticateAsync("bi", "bi-secret", token);

        // a pool of one certificate, reserved at once: every further reservation is refused, an issue.blocked of this pool
        var pool = new BenchPool($"apibench-empty-{runId}", 99_000 + Random.Shared.Next(900));
        await admin.LoadAsync(pool, 1, $"apibench-{runId}-load-empty", token);
        var first = Stopwatch.StartNew();
        while ((await pos.ReserveAsync(pool, "empty-fill", 0, null, token)).Status != HttpStatusCode.Created)
        {
            if (first.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"the one certificate of {pool.PoolId} could not be reserved in 60 s");
            }

            await Task.Delay(50, token); // the load is visible to reservations once its command is decided
        }

        var freshness = new Run("event -> GET /reports/daily", $"{samples} sequential");
        var clock = Stopwatch.StartNew();
        var seen = await BlockedAsync(bi, pool.PoolId, token);
        for (var n = 1; n <= samples; n++)
        {
            var sent = Stopwatch.StartNew();
            var refused = await pos.ReserveAsync(pool, "empty", n, null, token);
            if (refused.Status != HttpStatusCode.Conflict)
            {
                freshness.Record(sent.Elapsed, new Outcome(refused.Status, false, $"reserve on the empty pool: {refused.Status} {refused.Error}"));
                continue;
            }

            long now;
            do
            {
                now = await BlockedAsync(bi, pool.PoolId, token);
                if (sent.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"issue.blocked #{n} of {pool.PoolId} not in the report after 2 minutes (count {now}, expected {seen + 1})");
                }
            }
            while (now <= seen);

            freshness.Record(sent.Elapsed, new Outcome(HttpStatusCode.OK, now == seen + 1, now == seen + 1 ? null : $"count jumped from {seen} to {now}"));
            seen = now;
        }

        freshness.Elapsed = clock.Elapsed;
        var today = Today();
        var reads = await Load.OpenLoopAsync("GET /reports/daily", readRate, readDuration,
            async (_, t) => (await bi.DailyReportAsync(today.AddDays(-6), today, t)).Outcome, token);
        return (freshness, reads);
    }

    private static DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Moscow).DateTime);

    /// <summary>The pool's issue.blocked count over yesterday to tomorrow (the business day may turn during the run).</summary>
    private static async Task<long> BlockedAsync(ApiClient bi, string poolId, CancellationToken token)
    {
        var today = Today();
        var (outcome, body) = await bi.DailyReportAsync(today.AddDays(-1), today.AddDays(1), token);
        if (!outcome.Expected)
        {
            throw new InvalidOperationException($"GET /reports/daily answered {outcome.Status}: {System.Text.Encoding.UTF8.GetString(body)}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("days").EnumerateArray()
            .SelectMany(d => d.GetProperty("pools").EnumerateArray())
            .Where(p => p.GetProperty("poolId").GetString() == poolId)
            .Sum(p => p.GetProperty("issueBlockedCount").GetInt64());
    }
}
