using System.Globalization;

namespace GcpStreams.ApiBench;

/// <summary>Command-line options of gcp-apibench; every value has a default that finishes in about two minutes on 2 cores.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        usage: gcp-apibench [options]
          (default)                      start the service as `make run` does (Release build, own process, free port) and measure it
          --url URL                      measure an already running service instead (`make run` prints its API address); start it with
                                         Gcp__RateLimits__LookupsPerSecond=1000000 Gcp__RateLimits__LookupBurst=1000000
                                         Gcp__RateLimits__WritesPerSecond=1000000 Gcp__RateLimits__WriteBurst=1000000
                                         Gcp__MaxOpenReservationsPerClient=10000000 (else reads and writes get 429, reservations 409)
          --pid PID                      with --url: the service's process id, to report its memory
          --api-dll PATH                 the service to start (default: interactive-query-api/GcpStreams.Api/bin/Release/net10.0/GcpStreams.dll)
          --reserve-rate N               open-loop reservations per second (default 50)
          --lookup-rate N                open-loop GET /certificates/{id} per second (default 200)
          --search-rate N                open-loop GET /certificates?poolId= per second (default 50)
          --seconds N                    duration of each open-loop run (default 20)
          --closed-seconds N             duration of each closed-loop (max throughput) run (default 15)
          --concurrency N                clients of the closed-loop runs (default 16)
          --max-reservations N           most reservations of the closed-loop run; it stops early when they are spent (default 8000)
          --pools N                      bench pools the reservations spread over (default 4)
          --warmup N                     unrecorded requests per operation before measuring (default 200)
          --client ID --secret S         OAuth2 client of the measured requests (default pos-terminal / pos-terminal-secret)
          --admin-client ID --admin-secret S
                                         OAuth2 client with gc.admin that loads the bench pools (default admin / admin-secret)
          --report-samples N             BI reports: events (issue.blocked) whose arrival in GET /reports/daily is timed, one after the
                                         other, as the dev client bi (default 100; 0 skips the report phase)
          --report-read-rate N           open-loop GET /reports/daily per second after them (default 100)
        """;

    public Uri? Url { get; init; }
    public int? Pid { get; init; }
    public string? ApiDll { get; init; }
    public double ReserveRate { get; init; } = 50;
    public double LookupRate { get; init; } = 200;
    public double SearchRate { get; init; } = 50;
    public int Seconds { get; init; } = 20;
    public int ClosedSeconds { get; init; } = 15;
    public int Concurrency { get; init; } = 16;
    public int MaxReservations { get; init; } = 8000;
    public int Pools { get; init; } = 4;
    public int Warmup { get; init; } = 200;
    public string Client { get; init; } = "pos-terminal";
    public string Secret { get; init; } = "pos-terminal-secret";
    public string AdminClient { get; init; } = "admin";
    public string AdminSecret { get; init; } = "admin-secret";
    public int ReportSamples { get; init; } = 100;
    public double ReportReadRate { get; init; } = 100;

    /// <summary>True when the bench measures a service it did not start.</summary>
    public bool External => Url is not null;

    /// <summary>The options, or an error message (then print <see cref="Usage"/>).</summary>
    public static (BenchOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                return (null, string.Empty);
            }

            if (i + 1 >= args.Count)
            {
                return (null, $"{name} needs a value");
            }

            var value = args[++i];
            try
            {
                options = name switch
                {
                    "--url" => options with { Url = new Uri(value.TrimEnd('/'), UriKind.Absolute) },
                    "--pid" => options with { Pid = Positive(value) },
                    "--api-dll" => options with { ApiDll = value },
                    "--reserve-rate" => options with { ReserveRate = PositiveRate(value) },
                    "--lookup-rate" => options with { LookupRate = PositiveRate(value) },
                    "--search-rate" => options with { SearchRate = PositiveRate(value) },
                    "--seconds" => options with { Seconds = Positive(value) },
                    "--closed-seconds" => options with { ClosedSeconds = Positive(value) },
                    "--concurrency" => options with { Concurrency = Positive(value) },
                    "--max-reservations" => options with { MaxReservations = Positive(value) },
                    "--pools" => options with { Pools = Positive(value) },
                    "--warmup" => options with { Warmup = NotNegative(value) },
                    "--client" => options with { Client = value },
                    "--secret" => options with { Secret = value },
                    "--admin-client" => options with { AdminClient = value },
                    "--admin-secret" => options with { AdminSecret = value },
                    "--report-samples" => options with { ReportSamples = NotNegative(value) },
                    "--report-read-rate" => options with { ReportReadRate = PositiveRate(value) },
                    _ => throw new ArgumentException($"unknown option {name}"),
                };
            }
            catch (Exception e) when (e is FormatException or OverflowException or UriFormatException or ArgumentException)
            {
                return (null, $"{name} {value}: {e.Message}");
            }
        }

        if (!options.External && options.Pid is not null)
        {
            return (null, "--pid goes with --url");
        }

        if (options.External && options.ApiDll is not null)
        {
            return (null, "--api-dll is the service the bench starts itself: not with --url");
        }

        return (options, null);
    }

    private static int Positive(string value) =>
        int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture) is > 0 and var n ? n : throw new FormatException("must be positive");

    private static int NotNegative(string value) => int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);

    private static double PositiveRate(string value) =>
        double.Parse(value.EndsWith("/s", StringComparison.Ordinal) ? value[..^2] : value, NumberStyles.Float, CultureInfo.InvariantCulture) is > 0 and var r
            ? r
            : throw new FormatException("must be positive");
}
