using System.Globalization;
using GcpStreams.Client;
using GcpStreams.Serialization;
using GcpStreams.Topology;

namespace GcpStreams.Replay;

/// <summary><c>gcp-replay</c>'s commands: <c>verify</c> and <c>rebuild</c> (README, docs/operations.md "Replay and rebuild").</summary>
public static class ReplayCommands
{
    /// <summary>The development numbering key of appsettings.json (<c>GcpOptions.DevelopmentNumberingKey</c>).</summary>
    public const string DevelopmentNumberingKey = "ZGV2LW9ubHktbnVtYmVyaW5nLWtleS1jaGFuZ2UtbWU=";

    /// <summary>The development command signing key of attached mode (<c>GcpOptions.DevelopmentCommandSigningKey</c>).</summary>
    public const string DevelopmentCommandSigningKey = "ZGV2LW9ubHktY29tbWFuZC1zaWduaW5nLWtleS1hdHRhY2hlZC1tb2RlIQ==";

    public const string Usage = """
        usage:
          gcp-replay verify  --bootstrap HOST:PORT --schema-registry URL [--application-id gcp-streams] [--shadow-id ID] [--keep-shadow]
                             [--show 20] [--timeout SECONDS] [--plain] [keys]
          gcp-replay rebuild --bootstrap HOST:PORT --schema-registry URL [--application-id gcp-streams] [--to-datetime 2026-11-30T12:00:00Z]
                             [--state-dir DIR]... [--follow] [--timeout SECONDS] [--plain]
          keys (the service's Gcp:NumberingKey, Gcp:CommandSigningKey, Gcp:AcceptedCommandSigningKeys; default: the environment
          variables Gcp__NumberingKey and Gcp__CommandSigningKey, else the development keys of attached mode):
                             [--numbering-key BASE64] [--command-signing-key BASE64] [--accepted-signing-key BASE64]...

          verify   replays every input from its log start into a shadow application (shadow id, shadow output topics) while the service
                   runs, then compares the shadow GiftCertificates.Stream and GiftCertificates.State with the live ones record by record
                   per key (key, value bytes, headers). Exit 0 identical, 1 with the first differences.
          rebuild  stop-the-world reset: refuses while the service's consumer group has live members; then empties the state stores'
                   changelogs (tombstones), moves the inputs to their log start (or --to-datetime) and the internal topics to their ends,
                   and wipes the --state-dir's of the application. Start the service again: it rebuilds (--follow shows its progress).
        """;

    private static readonly HashSet<string> Common = ["--bootstrap", "--schema-registry", "--schema-registry-basic-auth", "--application-id", "--timeout",
        "--numbering-key", "--command-signing-key", "--accepted-signing-key"];

    private static readonly HashSet<string> Switches = ["--plain", "--keep-shadow", "--follow", "--sandbox", "--full-speed"];

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, null, cancellationToken);

    /// <summary><see cref="RunAsync(string[], TextWriter, TextWriter, CancellationToken)"/>, with a change of shadow records for tests.</summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<OutputRecord, OutputRecord>? alterShadow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string command;
        ReplayArguments parsed;
        try
        {
            command = args.Length > 0 ? args[0] : throw new ArgumentException("a command is needed.");
            HashSet<string> known = command switch
            {
                "verify" => [.. Common, "--shadow-id", "--show", "--pace-ms"],
                "rebuild" => [.. Common, "--to-datetime", "--state-dir"],
                _ => throw new ArgumentException($"unknown command '{command}'."),
            };
            parsed = ReplayArguments.Parse(args[1..], known, Switches);
            if (command == "verify" && parsed.Has("--follow"))
            {
                throw new ArgumentException("--follow is for rebuild.");
            }

            if (command == "rebuild" && parsed.Has("--keep-shadow"))
            {
                throw new ArgumentException("--keep-shadow is for verify.");
            }
        }
        catch (ArgumentException e)
        {
            error.WriteLine("gcp-replay: " + e.Message);
            error.WriteLine(Usage);
            return 2;
        }

        try
        {
            return command == "verify" ? await VerifyAsync(parsed, output, alterShadow, cancellationToken) : await RebuildAsync(parsed, output, cancellationToken);
        }
        catch (ArgumentException e)
        {
            error.WriteLine("gcp-replay: " + e.Message);
            error.WriteLine(Usage);
            return 2;
        }
        catch (LiveMembersException e)
        {
            error.WriteLine("gcp-replay rebuild refused: " + e.Message);
            return 3;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            error.WriteLine($"gcp-replay {command} failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>The topology settings of the live service: its application id and keys; every other setting is the service's default.</summary>
    internal static TopologySettings Settings(ReplayArguments args) => new()
    {
        ApplicationId = ApplicationId(args.Optional("--application-id") ?? "gcp-streams", "--application-id"),
        NumberingKey = args.Key("--numbering-key", "Gcp__NumberingKey", DevelopmentNumberingKey, 16),
        CommandSigningKey = args.Key("--command-signing-key", "Gcp__CommandSigningKey", DevelopmentCommandSigningKey, RecordSigner.MinKeyBytes),
        AcceptedCommandSigningKeys = [.. args.All("--accepted-signing-key").Select(k => Convert.FromBase64String(k))],
    };

    internal static string ApplicationId(string id, string name) =>
        id.Length is >= 1 and <= 100 && id is not "." and not ".." && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? id
            : throw new ArgumentException($"{name} '{id}' must be 1-100 of A-Za-z0-9._- (not . nor ..).");

    private static async Task<int> VerifyAsync(ReplayArguments args, TextWriter output, Func<OutputRecord, OutputRecord>? alterShadow, CancellationToken cancellationToken)
    {
        var bootstrap = args.Required("--bootstrap");
        var settings = Settings(args);
        var shadowId = ApplicationId(args.Optional("--shadow-id")
            ?? $"{settings.ApplicationId}-verify-{DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}", "--shadow-id");
        var show = args.Number("--show", 20, 1, 10_000);
        var timeout = TimeSpan.FromSeconds(args.Number("--timeout", 600, 1, 86_400));
        using var registry = Registry(args);
        using var offsets = new KafkaOffsets(bootstrap, TimeSpan.FromSeconds(30));
        var verify = new ShadowVerify(settings, new Codec(registry), offsets, output, new ProgressView(output, args.Has("--plain"))) { AlterShadow = alterShadow };
        var pace = args.Has("--full-speed") ? (TimeSpan?)null : TimeSpan.FromMilliseconds(args.Number("--pace-ms", 20, 1, 60_000));
        var result = await verify.RunAsync(shadowId, args.Has("--keep-shadow"), args.Has("--sandbox"), pace, timeout, cancellationToken);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verify: replayed {result.InputRecords:N0} input records in {result.RunTime.TotalSeconds:0.0} s ({result.RecordsPerSecond:N0} records/s) under '{result.ShadowApplicationId}'"));
        foreach (var comparison in new[] { result.Stream, result.State })
        {
            var ahead = comparison.LiveAheadKeys > 0 ? string.Create(CultureInfo.InvariantCulture, $", {comparison.LiveAheadKeys} live ahead (inputs arrived after the replayed range)") : string.Empty;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"verify: {comparison.Topic}: {comparison.LiveRecords} live / {comparison.ShadowRecords} shadow records, {comparison.Keys} keys, {comparison.IdenticalKeys} identical{ahead}, {comparison.Failures.Count} different, {comparison.TimerDivergences.Count} diverging at a wall-clock timer"));
        }

        foreach (var note in result.Notes)
        {
            output.WriteLine("verify: note: " + note);
        }

        var timers = result.Stream.TimerDivergences.Concat(result.State.TimerDivergences).ToList();
        if (timers.Count > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"verify: {timers.Count} key(s) diverge first at a wall-clock timer's decision (reservation expiry, hold expiry, overdue notification: they fire when the run happens, not at an input); the first {Math.Min(show, timers.Count)}:"));
            foreach (var d in timers.Take(show))
            {
                output.WriteLine("  " + d.Format(verify.Explain));
            }
        }

        var failures = result.Stream.Failures.Concat(result.State.Failures).ToList();
        if (failures.Count == 0)
        {
            output.WriteLine("verify: identical: the shadow State and Stream are the live ones, record by record per key");
            return 0;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verify: DIFFERENT: {failures.Count} key(s) differ; the first {Math.Min(show, failures.Count)}:"));
        if (timers.Count > 0)
        {
            output.WriteLine("verify: (a timer that fired elsewhere in the input sequence changes its pool too: later reservations of that pool may differ as a consequence)");
        }

        foreach (var d in failures.Take(show))
        {
            output.WriteLine("  " + d.Format(verify.Explain));
        }

        return 1;
    }

    private static async Task<int> RebuildAsync(ReplayArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        var bootstrap = args.Required("--bootstrap");
        var settings = Settings(args);
        DateTimeOffset? toTime = args.Optional("--to-datetime") is { } text
            ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : throw new ArgumentException($"--to-datetime '{text}' is not a date and time (ISO 8601).")
            : null;
        var timeout = TimeSpan.FromSeconds(args.Number("--timeout", 600, 1, 86_400));
        using var registry = Registry(args);
        using var offsets = new KafkaOffsets(bootstrap, TimeSpan.FromSeconds(Math.Min(60, timeout.TotalSeconds)));
        var topology = new ReplayTopology(settings, new Codec(registry));
        output.WriteLine($"rebuild: application '{settings.ApplicationId}': inputs {string.Join(", ", topology.Inputs)}; internal {string.Join(", ", topology.InternalSources)}; changelogs {string.Join(", ", topology.Changelogs)}");
        var result = new ApplicationReset(topology, offsets, output).Run(toTime, cancellationToken);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuild: consumer group '{settings.ApplicationId}': {result.InputOffsets.Count} input partitions to {(toTime is { } t ? $"the first record at or after {t:O}" : "their log start")}, {result.InternalOffsets.Count} internal partitions to their ends; {result.Tombstones.Values.Sum()} changelog tombstone(s)"));
        foreach (var dir in args.All("--state-dir"))
        {
            var appDir = Path.Combine(dir, settings.ApplicationId);
            if (Directory.Exists(appDir))
            {
                Directory.Delete(appDir, recursive: true);
                output.WriteLine($"rebuild: wiped the local state {appDir}");
            }
            else
            {
                output.WriteLine($"rebuild: no local state at {appDir}");
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuild: reset done; start the service again: it processes {result.InputRecords:N0} input records again and re-produces its outputs (docs/operations.md, Replay and rebuild)"));
        if (!args.Has("--follow"))
        {
            return 0;
        }

        var meter = new RateMeter();
        var total = result.InputRecords;
        var firstCopy = result.StreamEnd;
        var progress = new ProgressView(output, args.Has("--plain"));
        var how = "its group's committed offsets";
        var took = TimeSpan.Zero;
        await progress.TrackAsync("rebuild", async report =>
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            RateMeter? started = null;
            long lastStream = -1;
            var idle = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                // the group's committed offsets say how far the service is; a service that commits none (exactly-once on
                // librdkafka's mock cluster, which drops transactional offset commits) is followed by the events it re-produces
                var committed = offsets.Committed(settings.ApplicationId, result.InputEnds.Keys);
                var byOffsets = result.InputEnds.Sum(e => Math.Max(0, Math.Min(committed.GetValueOrDefault(e.Key, result.InputOffsets[e.Key]), e.Value) - result.InputOffsets[e.Key]));
                var stream = offsets.Watermarks([Topics.Stream.Name]).Sum(m => m.Value.High.Value);
                var reproduced = Math.Max(0, stream - firstCopy);
                var byEvents = firstCopy > 0 ? (long)(total * Math.Min(1.0, (double)reproduced / firstCopy)) : 0;
                var done = Math.Max(byOffsets, byEvents);
                how = byOffsets >= byEvents ? "its group's committed offsets" : "the events it re-produced on GiftCertificates.Stream (its group commits no offsets here)";
                if (stream != lastStream)
                {
                    lastStream = stream;
                    idle.Restart();
                }

                if (done > 0)
                {
                    started ??= meter; // the rate counts from the service's first progress, not from the reset
                }

                report.Report(started is null ? new ProgressSample("waiting for the service", 0, total, 0, null) : started.Sample("service rebuilding", done, total));
                if (done >= total)
                {
                    took = meter.Elapsed;
                    return true;
                }

                if (reproduced > 0 && idle.Elapsed > TimeSpan.FromSeconds(5))
                {
                    took = meter.Elapsed - idle.Elapsed; // the service re-produced events and then went quiet: done when it last wrote
                    return true;
                }

                if (deadline.IsCancellationRequested)
                {
                    throw new TimeoutException($"the service did not process the {total:N0} input records within {timeout.TotalSeconds:0} s (is it running?)");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None); // polling interval of the display
            }
        });
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuild: the service processed the {total:N0} input records again in {took.TotalSeconds:0.0} s ({(took.TotalSeconds > 0 ? total / took.TotalSeconds : 0):N0} records/s from its first progress, followed by {how})"));
        return 0;
    }

    private static Confluent.SchemaRegistry.ISchemaRegistryClient Registry(ReplayArguments args) =>
        SchemaRegistryClients.Create(new SchemaRegistryOptions { Url = args.Required("--schema-registry"), BasicAuthUserInfo = args.Optional("--schema-registry-basic-auth") });
}
