using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace GcpStreams.ApiBench;

/// <summary>The outcome of one request: its status (null when it failed without one) and whether that status was expected.</summary>
internal readonly record struct Outcome(HttpStatusCode? Status, bool Expected, string? Error = null);

/// <summary>One measured run of one operation: latency histogram (microseconds), status counts, errors.</summary>
internal sealed class Run(string operation, string mode)
{
    private static readonly long HighestMicros = TimeSpan.FromMinutes(2).Ticks / TimeSpan.TicksPerMicrosecond;
    private readonly LongHistogram histogram = new(HighestMicros, 3);
    private readonly Lock gate = new();

    public string Operation { get; } = operation;
    public string Mode { get; } = mode;
    public ConcurrentDictionary<string, int> Statuses { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, int> Errors { get; } = new(StringComparer.Ordinal);
    public int Unexpected;
    public long Requests => histogram.TotalCount;
    public TimeSpan Elapsed { get; set; }
    public string? Note { get; set; }

    public double Throughput => Elapsed > TimeSpan.Zero ? Requests / Elapsed.TotalSeconds : 0;

    public void Record(TimeSpan latency, Outcome outcome)
    {
        lock (gate)
        {
            histogram.RecordValue(Math.Clamp(latency.Ticks / TimeSpan.TicksPerMicrosecond, 1, HighestMicros));
        }

        Statuses.AddOrUpdate(outcome.Status is { } s ? ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none", 1, (_, n) => n + 1);
        if (outcome.Error is { } error)
        {
            Errors.AddOrUpdate(error, 1, (_, n) => n + 1);
        }

        if (!outcome.Expected)
        {
            Interlocked.Increment(ref Unexpected);
        }
    }

    /// <summary>The latency at a percentile, in milliseconds.</summary>
    public double Percentile(double percentile)
    {
        lock (gate)
        {
            return histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;
        }
    }

    public double MaxMs
    {
        get
        {
            lock (gate)
            {
                return histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1000.0;
            }
        }
    }
}

/// <summary>Drives an operation open-loop (fixed offered rate) or closed-loop (N clients back to back).</summary>
internal static class Load
{
    /// <summary>
    /// Sends <paramref name="rate"/> requests per second for <paramref name="duration"/>, each at its intended time whether or not
    /// earlier ones have answered. Latency is measured from the intended send time, so a stall of the service (or of this process)
    /// counts against every request it delayed: no coordinated omission.
    /// </summary>
    public static async Task<Run> OpenLoopAsync(string operation, double rate, TimeSpan duration, Func<int, CancellationToken, Task<Outcome>> send,
        CancellationToken token)
    {
        var run = new Run(operation, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"open {rate:0.#}/s"));
        var total = (int)Math.Round(rate * duration.TotalSeconds);
        var inflight = new List<Task>(total);
        var start = Stopwatch.GetTimestamp();
        long lastDone = start;
        for (var i = 0; i < total; i++)
        {
            var intended = start + (long)(i / rate * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), intended);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, token); // pacing the offered load (late wake-ups are charged to the requests)
            }

            var n = i;
            inflight.Add(Task.Run(async () =>
            {
                var outcome = await SafeSend(send, n, token);
                var done = Stopwatch.GetTimestamp();
                run.Record(Stopwatch.GetElapsedTime(intended, done), outcome);
                InterlockedMax(ref lastDone, done);
            }, token));
        }

        await Task.WhenAll(inflight);
        run.Elapsed = Stopwatch.GetElapsedTime(start, Interlocked.Read(ref lastDone));
        return run;
    }

    /// <summary>
    /// <paramref name="clients"/> loops, each sending its next request as soon as the previous one answered, for
    /// <paramref name="duration"/> or until <paramref name="budget"/> requests were sent (whichever comes first).
    /// </summary>
    public static async Task<Run> ClosedLoopAsync(string operation, int clients, TimeSpan duration, int budget,
        Func<int, CancellationToken, Task<Outcome>> send, CancellationToken token)
    {
        var run = new Run(operation, $"closed {clients} clients");
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= budget)
                {
                    return;
                }

                var sent = Stopwatch.GetTimestamp();
                var outcome = await SafeSend(send, n, token);
                run.Record(Stopwatch.GetElapsedTime(sent), outcome);
            }
        }, token)));
        run.Elapsed = Stopwatch.GetElapsedTime(start);
        if (next + 1 >= budget)
        {
            run.Note = $"stopped after {budget} requests (budget), {run.Elapsed.TotalSeconds:F1} s";
        }

        return run;
    }

    private static async Task<Outcome> SafeSend(Func<int, CancellationToken, Task<Outcome>> send, int n, CancellationToken token)
    {
        try
        {
            return await send(n, token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException)
        {
            return new Outcome(null, false, e is TaskCanceledException && !token.IsCancellationRequested ? "timeout" : e.GetType().Name + ": " + e.Message);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
