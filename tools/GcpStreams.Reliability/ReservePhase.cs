using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Reliability;

/// <summary>
/// Concurrent reservations: a new broker, <see cref="SuiteOptions.Instances"/> attached instances (3 unless given), one POS pool of
/// <see cref="SuiteOptions.PoolSize"/> certificates, <see cref="SuiteOptions.Reservations"/> reservations at once spread
/// round robin over the instances (each its own Idempotency-Key). Exactly pool-size distinct certificates, the rest
/// POOL_EMPTY, and every instance's GET /pools shows the pool empty with that many reserved.
/// </summary>
internal static class ReservePhase
{
    private const int InFlight = 64;

    public static async Task<bool> RunAsync(SuiteOptions options, string dir, CancellationToken token)
    {
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"== reserve phase: {options.Reservations} reservations over {options.Instances ?? 3} instances, pool of {options.PoolSize}, logs in {dir}");
        await using var broker = await BrokerProcess.StartAsync(Path.Combine(dir, "broker.log"), TimeSpan.FromSeconds(120));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var instances = Enumerable.Range(0, options.Instances ?? 3).Select(i => new ServiceInstance(((char)('a' + i)).ToString(), broker, dir)).ToArray();
        try
        {
            await Task.WhenAll(instances.Select(i => i.StartAsync(http, TimeSpan.FromSeconds(240), token)));
            Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] instances ready: {string.Join(", ", instances.Select(i => $"{i.Name} {i.Url}"))}");
            var pool = new PoolChoice("rel-burst", C.Channel.POS, 100_000, "RUB");
            for (var loaded = 0; loaded < options.PoolSize; loaded += 10_000)
            {
                await AdminHttp.LoadPoolAsync(http, instances[0].Url!, pool.PoolId, "POS", pool.NominalMinor, Math.Min(10_000, options.PoolSize - loaded), 70, token);
            }

            var answers = new ConcurrentBag<ApiAnswerRecord>();
            var failures = new ConcurrentBag<string>();
            var burst = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => Task.Run(async () =>
            {
                for (var n = Interlocked.Increment(ref next); n < options.Reservations; n = Interlocked.Increment(ref next))
                {
                    var key = string.Create(CultureInfo.InvariantCulture, $"reliability-burst-{n}");
                    try
                    {
                        var answer = await instances[n % instances.Length].Api!.ReserveAsync(pool, key, 1800, key, token);
                        answers.Add(new ApiAnswerRecord(key, answer.CertificateId, answer.Refusal));
                    }
                    catch (Exception e) when (e is ApiUnavailableException or HttpRequestException)
                    {
                        failures.Add($"{key}: {e.Message}");
                        answers.Add(new ApiAnswerRecord(key, null, "no answer"));
                    }
                }
            }, token)));
            burst.Stop();
            var problems = StreamAudit.CheckReservations([.. answers], options.PoolSize).ToList();
            var reserved = answers.Count(a => a.Refusal is null);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{clock.Elapsed.TotalSeconds,6:F0}s] {answers.Count} reservations in {burst.Elapsed.TotalSeconds:F1} s ({answers.Count / burst.Elapsed.TotalSeconds:F0}/s): "
                + $"reserved {reserved}, distinct {answers.Where(a => a.Refusal is null).Select(a => a.CertificateId).Distinct(StringComparer.Ordinal).Count()}, "
                + $"POOL_EMPTY {answers.Count(a => a.Refusal == "POOL_EMPTY")}, other {answers.Count(a => a.Refusal is not null and not "POOL_EMPTY")}"));
            foreach (var failure in failures.Take(5))
            {
                Console.WriteLine("  " + failure);
            }

            // every instance's read model must come to the pool's counters: 0 available, pool-size reserved
            foreach (var instance in instances)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
                PoolLevels? levels = null;
                while (DateTime.UtcNow < deadline)
                {
                    levels = (await AdminHttp.PoolsAsync(http, instance.Url!, token)).GetValueOrDefault(pool.PoolId);
                    if (levels is { Available: 0 } && levels.Reserved == reserved)
                    {
                        break;
                    }

                    await Task.Delay(500, token); // polling the read model
                }

                Console.WriteLine($"GET /pools on {instance.Name}: {levels}");
                if (levels is null || levels.Available != 0 || levels.Reserved != options.PoolSize || levels.Loaded != options.PoolSize)
                {
                    problems.Add($"GET /pools on {instance.Name}: {levels}, expected available 0, reserved {options.PoolSize}, loaded {options.PoolSize}");
                }
            }

            foreach (var problem in problems)
            {
                Console.WriteLine("VIOLATION: " + problem);
            }

            Console.WriteLine($"broker log-start warnings {broker.LogStartWarnings}");
            Console.WriteLine($"reserve phase: {clock.Elapsed.TotalMinutes:F1} min: {(problems.Count == 0 ? "ok" : "VIOLATIONS")}");
            return problems.Count == 0;
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }
}
