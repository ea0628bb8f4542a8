using System.Diagnostics;
using System.Globalization;
using GcpStreams.ApiBench;

// gcp-apibench: the HTTP API of the real service, measured from outside like any client (see BenchOptions.Usage, docs/benchmarks.md).
// Phase 1 reservations (POST /certificates/next), phase 2 lookups (GET /certificates/{id}) and searches (GET /certificates?poolId=),
// each open-loop at a fixed offered rate (latency from the intended send time) and closed-loop at max throughput.
var (options, error) = BenchOptions.Parse(args);
if (options is null)
{
    if (!string.IsNullOrEmpty(error))
    {
        Console.Error.WriteLine(error);
    }

    Console.Error.WriteLine(BenchOptions.Usage);
    return string.IsNullOrEmpty(error) ? 0 : 2;
}

using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(20));
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = Math.Max(64, options.Concurrency * 2),
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    UseCookies = false,
    UseProxy = false,
};
using var http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
var runId = Guid.NewGuid().ToString("N")[..8];
var culture = CultureInfo.InvariantCulture;

ServiceProcess? service = null;
try
{
    Uri url;
    var startClock = Stopwatch.StartNew();
    if (options.External)
    {
        url = options.Url!;
        Console.WriteLine($"GcpStreams HTTP API benchmark against the running service at {url}");
        using var ready = await http.GetAsync(new Uri(url, "/health/ready"), cancel.Token);
        if (!ready.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"{url}/health/ready answers {(int)ready.StatusCode}: the service is not ready");
            return 1;
        }
    }
    else
    {
        var dll = options.ApiDll ?? ServiceProcess.DefaultDll();
        service = ServiceProcess.Start(dll);
        Console.WriteLine($"GcpStreams HTTP API benchmark: starting the service as `make run` does ({dll}, pid {service.Pid}, {service.Url}, log {service.LogPath}, kept on failure)");
        await service.WaitReadyAsync(http, TimeSpan.FromMinutes(3), cancel.Token);
        url = service.Url;
        Console.WriteLine(string.Create(culture, $"service ready (GET /health/ready = 200) in {startClock.Elapsed.TotalSeconds:F1} s"));
    }

    Console.WriteLine(string.Create(culture,
        $"{Environment.ProcessorCount} cores; open-loop {options.Seconds} s, closed-loop {options.ClosedSeconds} s x {options.Concurrency} clients; client {options.Client}; run {runId}"));

    var api = new ApiClient(http, url, runId);
    await api.AuthenticateAsync(options.Client, options.Secret, cancel.Token);
    var admin = new ApiClient(http, url, runId);
    await admin.AuthenticateAsync(options.AdminClient, options.AdminSecret, cancel.Token);

    // setup: the bench pools, topped up through POST /pools/{id}/certificates (admin token), until the read model shows them
    var pools = Enumerable.Range(1, options.Pools).Select(i => new BenchPool($"apibench-pos-{i}", 90_000 + i)).ToArray();
    var openReservations = (int)Math.Round(options.ReserveRate * options.Seconds);
    var needed = options.Warmup + openReservations + options.MaxReservations;
    var perPool = (needed + pools.Length - 1) / pools.Length + 10;
    var setupClock = Stopwatch.StartNew();
    var loads = await LoadPoolsAsync(admin, api, pools, perPool, runId, cancel.Token);
    Console.WriteLine(string.Create(culture,
        $"setup: {pools.Length} pools with at least {perPool} certificates each ({loads} POST /pools/{{id}}/certificates), in {setupClock.Elapsed.TotalSeconds:F1} s"));

    var reserved = new List<string>(needed);
    var runs = new List<Run>();
    var warmups = new List<Run>();
    string AnyReserved()
    {
        lock (reserved)
        {
            return reserved[Random.Shared.Next(reserved.Count)];
        }
    }

    string AnyPool() => pools[Random.Shared.Next(pools.Length)].PoolId;

    // warm-up (not recorded): connections, JIT on both sides, first token validation
    var warmup = await Load.ClosedLoopAsync("warmup", 4, TimeSpan.FromMinutes(1), Math.Max(1, options.Warmup),
        (n, t) => api.ReserveAsync(pools[n % pools.Length], "warmup", n, reserved, t), cancel.Token);
    if (reserved.Count == 0)
    {
        Console.Error.WriteLine("FAILED: warm-up: no reservation succeeded: " + string.Join("; ", warmup.Errors.Select(kv => $"{kv.Key} x{kv.Value}")));
        return 1;
    }

    warmups.Add(warmup);
    warmups.Add(await Load.ClosedLoopAsync("warmup", 4, TimeSpan.FromMinutes(1), options.Warmup, (_, t) => api.LookupAsync(AnyReserved(), t), cancel.Token));
    warmups.Add(await Load.ClosedLoopAsync("warmup", 4, TimeSpan.FromMinutes(1), Math.Max(1, options.Warmup / 4), (_, t) => api.SearchAsync(AnyPool(), 50, t), cancel.Token));

    // phase 1: reservations
    var open = TimeSpan.FromSeconds(options.Seconds);
    var closed = TimeSpan.FromSeconds(options.ClosedSeconds);
    runs.Add(Report(await Load.OpenLoopAsync("POST /certificates/next", options.ReserveRate, open,
        (n, t) => api.ReserveAsync(pools[n % pools.Length], "open", n, reserved, t), cancel.Token)));
    runs.Add(Report(await Load.ClosedLoopAsync("POST /certificates/next", options.Concurrency, closed, options.MaxReservations,
        (n, t) => api.ReserveAsync(pools[n % pools.Length], "closed", n, reserved, t), cancel.Token)));

    // phase 2: lookups of the reserved certificates, and search pages
    runs.Add(Report(await Load.OpenLoopAsync("GET /certificates/{id}", options.LookupRate, open, (_, t) => api.LookupAsync(AnyReserved(), t), cancel.Token)));
    runs.Add(Report(await Load.ClosedLoopAsync("GET /certificates/{id}", options.Concurrency, closed, int.MaxValue, (_, t) => api.LookupAsync(AnyReserved(), t), cancel.Token)));
    var serviceLookups = runs[^1];

    // the baseline: a trivial Minimal API answering the same bytes for the same certificates, by the same load functions
    string[] sample;
    lock (reserved)
    {
        sample = [.. reserved.Distinct(StringComparer.Ordinal).Take(1_000)];
    }

    var bodies = new Dictionary<string, byte[]>(StringComparer.Ordinal);
    foreach (var id in sample)
    {
        bodies[id] = await api.LookupBodyAsync(id, cancel.Token);
    }

    await using (var baseline = await Baseline.StartAsync(bodies, cancel.Token))
    {
        var trivial = api.At(baseline.Url);
        string AnySampled() => sample[Random.Shared.Next(sample.Length)];
        await Load.ClosedLoopAsync("warmup", 4, TimeSpan.FromMinutes(1), options.Warmup, (_, t) => trivial.LookupAsync(AnySampled(), t), cancel.Token);
        runs.Add(Report(await Load.OpenLoopAsync("baseline GET /certificates/{id}", options.LookupRate, open, (_, t) => trivial.LookupAsync(AnySampled(), t), cancel.Token)));
        var baselineLookups = Report(await Load.ClosedLoopAsync("baseline GET /certificates/{id}", options.Concurrency, closed, int.MaxValue, (_, t) => trivial.LookupAsync(AnySampled(), t), cancel.Token));
        runs.Add(baselineLookups);
        Console.WriteLine(string.Create(culture,
            $"lookups: the service {serviceLookups.Throughput:F0} req/s = {serviceLookups.Throughput / baselineLookups.Throughput:F2}x the trivial Minimal API's {baselineLookups.Throughput:F0} req/s (closed-loop, {options.Concurrency} clients; issue 11's target >= 0.5x)"));
    }

    // the service's lookups at half its own maximum: the tail at a rate it sustains
    runs.Add(Report(await Load.OpenLoopAsync("GET /certificates/{id}", Math.Max(1, serviceLookups.Throughput / 2), open, (_, t) => api.LookupAsync(AnyReserved(), t), cancel.Token)));
    runs.Add(Report(await Load.OpenLoopAsync("GET /certificates?poolId=", options.SearchRate, open, (_, t) => api.SearchAsync(AnyPool(), 50, t), cancel.Token)));
    runs.Add(Report(await Load.ClosedLoopAsync("GET /certificates?poolId=", options.Concurrency, closed, int.MaxValue, (_, t) => api.SearchAsync(AnyPool(), 50, t), cancel.Token)));

    // phase 3 (issue 13): the BI reports, event -> report visible, and report reads
    if (options.ReportSamples > 0)
    {
        var (freshness, reportReads) = await ReportFreshness.RunAsync(http, url, runId, admin, api, options.ReportSamples, options.ReportReadRate, open, cancel.Token);
        runs.Add(Report(freshness));
        runs.Add(Report(reportReads));
        Console.WriteLine(string.Create(culture,
            $"issue 13 targets: report freshness p99 {freshness.Percentile(99):F1} ms (target <= 60000 ms: {(freshness.Percentile(99) <= 60_000 ? "met" : "NOT met")}), "
            + $"report read p99 {reportReads.Percentile(99):F1} ms at {options.ReportReadRate:F0}/s (target <= 20 ms: {(reportReads.Percentile(99) <= 20 ? "met" : "NOT met")})"));
    }

    var serviceMemory = service?.Memory() ?? (options.Pid is { } pid ? ProcessMemory.Read(pid) : null);
    using var self = Process.GetCurrentProcess();
    var benchPeak = self.PeakWorkingSet64;
    TimeSpan? stopped = service is null ? null : await service.StopAsync();

    PrintTable(runs, culture);
    Console.WriteLine();
    Console.WriteLine(serviceMemory is null
        ? "service memory: n/a (pass --pid with --url)"
        : string.Create(culture, $"service memory: peak RSS {Mib(serviceMemory.PeakRssBytes)} MiB, RSS at the end {Mib(serviceMemory.RssBytes)} MiB"));
    Console.WriteLine(string.Create(culture, $"bench memory:   peak working set {Mib(benchPeak)} MiB, GC heap {Mib(GC.GetTotalMemory(false))} MiB"));
    if (stopped is { } s)
    {
        Console.WriteLine(string.Create(culture, $"service stopped (SIGTERM) in {s.TotalSeconds:F1} s"));
    }

    foreach (var run in runs.Where(r => r.Mode.StartsWith("open", StringComparison.Ordinal) && !r.Operation.StartsWith("baseline", StringComparison.Ordinal)))
    {
        var p99 = run.Percentile(99);
        Console.WriteLine(string.Create(culture,
            $"seed target p99 < 300 ms, {run.Operation} at {run.Mode}: {p99:F1} ms {(p99 < 300 ? "met" : "NOT met")}"));
    }

    var unexpected = runs.Sum(r => r.Unexpected);
    var limited = runs.Concat(warmups).Sum(r => r.Statuses.GetValueOrDefault("429"));
    if (limited > 0)
    {
        Console.Error.WriteLine("hint: " + limited.ToString(culture) + " request(s), warm-up included, got 429 rate-limited: the service limits certificate reads and writes per OAuth2 client "
            + "(Gcp:RateLimits:LookupsPerSecond 100, WritesPerSecond 50 by default) and the bench uses one client. Start the service with the limits raised, "
            + "e.g. `Gcp__RateLimits__LookupsPerSecond=1000000 Gcp__RateLimits__LookupBurst=1000000 Gcp__RateLimits__WritesPerSecond=1000000 Gcp__RateLimits__WriteBurst=1000000 Gcp__MaxOpenReservationsPerClient=10000000 make run` (docs/benchmarks.md, HTTP API).");
    }

    if (unexpected > 0)
    {
        Console.Error.WriteLine($"FAILED: {unexpected} request(s) with an unexpected answer or no answer (see the errors above)");
        if (service is not null)
        {
            service.KeepLog = true;
            Console.Error.WriteLine($"the service's log stays in {service.LogPath}");
        }

        return 1;
    }

    return 0;
}
catch (Exception e)
{
    if (service is not null)
    {
        service.KeepLog = true;
    }

    Console.Error.WriteLine($"FAILED: {e.GetType().Name}: {e.Message}");
    if (service is not null)
    {
        Console.Error.WriteLine($"last lines of the service ({service.LogPath}):");
        foreach (var line in service.Tail(30))
        {
            Console.Error.WriteLine("  " + line);
        }
    }

    return 1;
}
finally
{
    if (service is not null)
    {
        await service.DisposeAsync();
    }
}

static Run Report(Run run)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {run.Operation,-26} {run.Mode,-18} {run.Requests,7} requests, {run.Throughput,7:F0} req/s, p50 {run.Percentile(50),7:F1} ms, p99 {run.Percentile(99),7:F1} ms, unexpected {run.Unexpected}"));
    return run;
}

static void PrintTable(IReadOnlyList<Run> runs, CultureInfo culture)
{
    Console.WriteLine();
    Console.WriteLine("| operation | mode | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | statuses | unexpected |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---|---:|");
    foreach (var r in runs)
    {
        var statuses = string.Join(" ", r.Statuses.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value}"));
        Console.WriteLine(string.Create(culture,
            $"| {r.Operation} | {r.Mode} | {r.Requests} | {r.Throughput:F0} | {r.Percentile(50):F1} | {r.Percentile(90):F1} | {r.Percentile(99):F1} | {r.MaxMs:F1} | {statuses} | {r.Unexpected} |"));
    }

    foreach (var r in runs.Where(r => r.Note is not null || !r.Errors.IsEmpty))
    {
        if (r.Note is not null)
        {
            Console.WriteLine($"  {r.Operation} ({r.Mode}): {r.Note}");
        }

        foreach (var (what, count) in r.Errors.OrderByDescending(kv => kv.Value))
        {
            Console.WriteLine(string.Create(culture, $"  {r.Operation} ({r.Mode}) error x{count}: {what}"));
        }
    }
}

static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);

/// Tops every bench pool up to <paramref name="perPool"/> available certificates with POST /pools/{id}/certificates (at most
/// BenchPool.MaxLoadCount per call, each call with its own Idempotency-Key), then reads each pool back through GET /pools/{id}.
/// Returns the number of load calls.
static async Task<int> LoadPoolsAsync(ApiClient admin, ApiClient reader, IReadOnlyList<BenchPool> pools, int perPool, string runId, CancellationToken token)
{
    var calls = 0;
    foreach (var pool in pools)
    {
        var missing = perPool - await reader.AvailableAsync(pool.PoolId, token);
        for (var batch = 0; missing > 0; batch++)
        {
            var count = (int)Math.Min(missing, BenchPool.MaxLoadCount);
            var key = string.Create(CultureInfo.InvariantCulture, $"apibench-{runId}-load-{pool.PoolId}-{batch}");
            await admin.LoadAsync(pool, count, key, token);
            calls++;
            missing -= count;
        }

        // the load answers once the service's read model shows it; the bench reads the pool back to be sure
        var deadline = Stopwatch.StartNew();
        while (await reader.AvailableAsync(pool.PoolId, token) < perPool)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"GET /pools/{pool.PoolId} does not show {perPool} certificates available after 60 s");
            }

            await Task.Delay(100, token);
        }
    }

    return calls;
}
