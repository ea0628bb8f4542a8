using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace GcpStreams.ApiBench;

/// <summary>Peak and current resident memory of a process, from /proc (Linux).</summary>
internal sealed record ProcessMemory(long PeakRssBytes, long RssBytes)
{
    public static ProcessMemory? Read(int pid)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        if (!File.Exists(path))
        {
            return null;
        }

        long Kib(string[] lines, string key) =>
            lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } line
                ? long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024
                : 0;

        try
        {
            var lines = File.ReadAllLines(path);
            return new ProcessMemory(Kib(lines, "VmHWM:"), Kib(lines, "VmRSS:"));
        }
        catch (IOException)
        {
            return null; // the process ended meanwhile
        }
    }
}

/// <summary>
/// The service in its own process, started as `make run` does: the Release build of interactive-query-api/GcpStreams.Api,
/// working directory the project's (its appsettings.json, demo pools included), on a free port and a fresh state dir.
/// Its output goes to a log file; it is ready when GET /health/ready answers 200.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;
    private readonly Lock gate = new();
    private readonly string root;

    private ServiceProcess(Process process, StreamWriter log, string logPath, Uri url, string root)
    {
        this.process = process;
        this.log = log;
        LogPath = logPath;
        Url = url;
        this.root = root;
    }

    public Uri Url { get; }
    public string LogPath { get; }

    /// <summary>Keep the temp dir with the service's log after disposal (set on a failure); else it is deleted.</summary>
    public bool KeepLog { get; set; }
    public int Pid => process.Id;

    /// <summary>The service's built program: its apphost when there is one (what `dotnet run` starts), else <c>dotnet GcpStreams.dll</c>.</summary>
    public static string DefaultDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GcpStreams.sln")))
            {
                return Path.Combine(dir.FullName, "interactive-query-api", "GcpStreams.Api", "bin", "Release", "net10.0", "GcpStreams.dll");
            }
        }

        return Path.GetFullPath("interactive-query-api/GcpStreams.Api/bin/Release/net10.0/GcpStreams.dll");
    }

    public static ServiceProcess Start(string dll)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built: dotnet build interactive-query-api/GcpStreams.Api -c Release", dll);
        }

        // the project's directory, as `dotnet run --project interactive-query-api/GcpStreams.Api` uses (Web SDK RunWorkingDirectory)
        var projectDir = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(dll)!, "..", "..", ".."));
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var root = Directory.CreateTempSubdirectory("gcp-apibench-").FullName;
        var apphost = Path.ChangeExtension(dll, null);
        var start = File.Exists(apphost) && !OperatingSystem.IsWindows()
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { ArgumentList = { dll } };
        start.WorkingDirectory = Directory.Exists(projectDir) && File.Exists(Path.Combine(projectDir, "appsettings.json")) ? projectDir : Path.GetDirectoryName(dll)!;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/');
        start.Environment["Kafka__StateDir"] = Path.Combine(root, "state");
        // the bench drives all reads with one client id: lift the per-client read limit (100/s by default) so it measures the API, not the limiter
        start.Environment["Gcp__RateLimits__LookupsPerSecond"] = "1000000";
        start.Environment["Gcp__RateLimits__LookupBurst"] = "1000000";
        // and its one client reserves thousands: lift the write limit and the open reservations a client may hold per pool
        start.Environment["Gcp__RateLimits__WritesPerSecond"] = "1000000";
        start.Environment["Gcp__RateLimits__WriteBurst"] = "1000000";
        start.Environment["Gcp__MaxOpenReservationsPerClient"] = "10000000";
        var logPath = Path.Combine(root, "service.log");
        var log = new StreamWriter(logPath) { AutoFlush = true }; // deleted with the temp dir unless the run failed
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, log, logPath, url, root);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits until GET /health/ready answers 200 (stream running, read model caught up, command channel open).</summary>
    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout, CancellationToken token)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(timeout);
        try
        {
            var ready = new Uri(Url, "/health/ready");
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(ready, deadline.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }

                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the service exited with code {SafeExitCode(process)} before it was ready; see {LogPath}");
                }

                await Task.Delay(200, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new TimeoutException($"the service was not ready within {timeout.TotalSeconds:F0} s; see {LogPath}");
        }
    }

    public ProcessMemory? Memory() => process.HasExited ? null : ProcessMemory.Read(process.Id);

    /// <summary>The last lines the service printed (for a failure message).</summary>
    public IReadOnlyList<string> Tail(int lines)
    {
        lock (gate)
        {
            log.Flush();
        }

        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return all.Skip(Math.Max(0, all.Length - lines)).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Stops the service as Ctrl+C does (SIGTERM), and kills it if it has not stopped after 30 s. Returns how long it took.</summary>
    public async Task<TimeSpan> StopAsync()
    {
        var clock = Stopwatch.StartNew();
        if (process.HasExited)
        {
            return TimeSpan.Zero;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync();
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("the service did not stop within 30 s of SIGTERM: killed");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        return clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await StopAsync();
        }

        process.Dispose();
        lock (gate)
        {
            log.Dispose();
        }

        try
        {
            Directory.Delete(KeepLog ? Path.Combine(root, "state") : root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            log.WriteLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }
}
