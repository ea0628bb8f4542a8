using System.Diagnostics;
using System.Globalization;
using System.Net;
using GcpStreams.Traffic;

namespace GcpStreams.Reliability;

/// <summary>
/// Every child process the suite starts; all of them are killed when the suite ends (normally, on Ctrl+C, SIGTERM or an
/// unhandled exception), by their own ids.
/// </summary>
internal static class Children
{
    private static readonly Lock Gate = new();
    private static readonly List<Process> Running = [];

    public static void Track(Process process)
    {
        lock (Gate)
        {
            Running.Add(process);
        }
    }

    public static void KillAll()
    {
        lock (Gate)
        {
            foreach (var process in Running)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                catch (InvalidOperationException)
                {
                    // never started or already gone
                }
            }

            Running.Clear();
        }
    }

    /// <summary>A built program of the solution, run with <c>dotnet</c>.</summary>
    public static ProcessStartInfo Dotnet(string relativeDll)
    {
        var dll = Path.Combine(Smtp4Dev.RepositoryRoot(), relativeDll);
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built: dotnet build GcpStreams.sln -c Release", dll);
        }

        return new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { dll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
    }
}

/// <summary>The standalone broker (gcp-broker) in its own process; ready when it prints its ready line.</summary>
internal sealed class BrokerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private BrokerProcess(Process process, StreamWriter log, string bootstrap, string registry)
    {
        this.process = process;
        this.log = log;
        BootstrapServers = bootstrap;
        RegistryUrl = registry;
    }

    public string BootstrapServers { get; }
    public string RegistryUrl { get; }

    /// <summary>The broker's process id (null once it has exited).</summary>
    public int? ProcessId => process.HasExited ? null : process.Id;

    /// <summary>Log-start warnings the broker printed (a topic lost its oldest records: the run is then oversized).</summary>
    public int LogStartWarnings { get; private set; }

    public static async Task<BrokerProcess> StartAsync(string logPath, TimeSpan timeout)
    {
        var start = Children.Dotnet("dev-infrastructure/GcpStreams.Broker/bin/Release/net10.0/gcp-broker.dll");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var ready = new TaskCompletionSource<(string, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        BrokerProcess? broker = null;
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.WriteLine(line);
            }

            if (line.StartsWith("gcp-broker ready ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
                ready.TrySetResult((parts["bootstrap"], parts["registry"]));
            }
            else if (line.Contains("log start", StringComparison.OrdinalIgnoreCase) && line.Contains("warn", StringComparison.OrdinalIgnoreCase) && broker is not null)
            {
                broker.LogStartWarnings++;
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"gcp-broker exited before it was ready; see {logPath}"));
        process.Start();
        Children.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var (bootstrap, registry) = await ready.Task.WaitAsync(timeout);
        broker = new BrokerProcess(process, log, bootstrap, registry);
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }
}

/// <summary>
/// One service instance (GcpStreams.dll) in its own process, attached to the broker (<c>Kafka__Mode=Attached</c>) on a free
/// port with its own state dir, started as tools/GcpStreams.ApiBench/ServiceProcess.cs does (working directory the
/// project's, for its appsettings.json). <see cref="Kill"/> is kill -9; <see cref="StartAsync"/> starts it again on the same
/// state dir (a new port), as a restarted pod would.
/// </summary>
internal sealed class ServiceInstance : IAsyncDisposable
{
    private readonly BrokerProcess broker;
    private readonly string stateDir;
    private readonly StreamWriter log;
    private Process? process;

    private readonly IReadOnlyDictionary<string, string> settings;

    /// <param name="settings">More settings of the service (configuration keys, as environment variables: <c>Kafka__…</c>).</param>
    public ServiceInstance(string name, BrokerProcess broker, string root, IReadOnlyDictionary<string, string>? settings = null)
    {
        Name = name;
        this.broker = broker;
        this.settings = settings ?? new Dictionary<string, string>();
        stateDir = Path.Combine(root, name + "-state");
        log = new StreamWriter(Path.Combine(root, name + ".log")) { AutoFlush = true };
    }

    public string Name { get; }

    /// <summary>The API of the running incarnation (null while killed or starting).</summary>
    public GcpApi? Api { get; private set; }

    public Uri? Url { get; private set; }

    public int Starts { get; private set; }

    public async Task StartAsync(HttpClient http, TimeSpan timeout, CancellationToken token)
    {
        var dll = Path.Combine(Smtp4Dev.RepositoryRoot(), "interactive-query-api/GcpStreams.Api/bin/Release/net10.0/GcpStreams.dll");
        var start = Children.Dotnet("interactive-query-api/GcpStreams.Api/bin/Release/net10.0/GcpStreams.dll");
        start.WorkingDirectory = Path.Combine(Smtp4Dev.RepositoryRoot(), "interactive-query-api/GcpStreams.Api");
        var url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Smtp4Dev.FreePort()}"));
        start.Environment["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/');
        start.Environment["Kafka__Mode"] = "Attached";
        start.Environment["Kafka__BootstrapServers"] = broker.BootstrapServers;
        start.Environment["SchemaRegistry__Url"] = broker.RegistryUrl;
        start.Environment["Kafka__StateDir"] = stateDir;
        // the suite's few clients reserve thousands: lift the rate limits and the open reservations a client may hold per pool
        start.Environment["Gcp__RateLimits__LookupsPerSecond"] = "1000000";
        start.Environment["Gcp__RateLimits__LookupBurst"] = "1000000";
        start.Environment["Gcp__RateLimits__WritesPerSecond"] = "1000000";
        start.Environment["Gcp__RateLimits__WriteBurst"] = "1000000";
        start.Environment["Gcp__MaxOpenReservationsPerClient"] = "10000000";
        // e.g. Information to see Streamiz's rebalances, task closes and restores (its category is at Warning in appsettings.json)
        var level = Environment.GetEnvironmentVariable("GCP_RELIABILITY_LOG_LEVEL") ?? "Warning";
        start.Environment["Logging__LogLevel__Default"] = level;
        start.Environment["Logging__LogLevel__Streamiz"] = level;
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var next = new Process { StartInfo = start, EnableRaisingEvents = true };
        Starts++;
        var incarnation = Starts;
        lock (log)
        {
            log.WriteLine($"===== start {incarnation} {DateTime.UtcNow:O} {url} {dll}");
        }

        next.OutputDataReceived += (_, e) => Write(e.Data);
        next.ErrorDataReceived += (_, e) => Write(e.Data);
        next.Start();
        Children.Track(next);
        next.BeginOutputReadLine();
        next.BeginErrorReadLine();
        process = next;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(timeout);
        var ready = new Uri(url, "/health/ready");
        try
        {
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(ready, deadline.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }

                if (next.HasExited)
                {
                    throw new InvalidOperationException($"{Name} exited before it was ready; see its log");
                }

                await Task.Delay(200, deadline.Token); // polling readiness
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:F0} s (start {incarnation})");
        }

        Url = url;
        Api = new GcpApi(url);
    }

    /// <summary>kill -9: SIGKILL to the service's process, no stop of any kind.</summary>
    public async Task KillAsync()
    {
        var api = Api;
        Api = null;
        Url = null;
        if (process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }

        lock (log)
        {
            log.WriteLine($"===== killed (SIGKILL) {DateTime.UtcNow:O}");
        }

        api?.Dispose();
    }

    /// <summary>Stops the service as Ctrl+C does (SIGTERM: its stream commits and closes); killed if it is still running after 60 s.</summary>
    public async Task StopAsync()
    {
        if (process is not { HasExited: false } p)
        {
            return;
        }

        using (var signal = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", p.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
        {
            await signal!.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var how = "stopped (SIGTERM)";
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            how = "not stopped within 60 s of SIGTERM: killed";
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }

        lock (log)
        {
            log.WriteLine($"===== {how} {DateTime.UtcNow:O}");
        }
    }

    public bool Running => process is { HasExited: false };

    /// <summary>The running incarnation's process id (the service runs inside <c>dotnet</c>'s own process), null while killed.</summary>
    public int? ProcessId => process is { HasExited: false } p ? p.Id : null;

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }

        process?.Dispose();
        Api?.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }
}
