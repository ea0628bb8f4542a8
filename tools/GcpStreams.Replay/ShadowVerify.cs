using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using GcpStreams.Client;
using GcpStreams.Topology;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using C = GcpStreams.Contracts;

namespace GcpStreams.Replay;

/// <summary>What <c>verify</c> found.</summary>
public sealed record VerifyResult(
    string ShadowApplicationId,
    long InputRecords,
    TimeSpan RunTime,
    double RecordsPerSecond,
    bool LiveMayBeAhead,
    TopicComparison Stream,
    TopicComparison State,
    int LiveRepeatsDropped,
    IReadOnlyList<string> Notes)
{
    public bool Identical => Stream.Failures.Count == 0 && State.Failures.Count == 0;
}

/// <summary>
/// <c>gcp-replay verify</c>: runs the service's own topology (<see cref="GcpTopology.Build"/>) in this process under a shadow
/// application id, its public outputs renamed to shadow topics (<see cref="TopologySettings.OutputTopic"/>), from the inputs'
/// log start up to their ends when the run began, while the live service keeps running; then compares the shadow
/// <c>GiftCertificates.Stream</c> and <c>GiftCertificates.State</c> with the live ones (<see cref="OutputComparison"/>).
/// </summary>
public sealed class ShadowVerify(TopologySettings live, Codec codec, KafkaOffsets offsets, TextWriter output, ProgressView progress)
{
    /// <summary>The event types a wall-clock timer (a PROCESSING_TIME punctuation of the topology) decides.</summary>
    public static readonly IReadOnlySet<string> TimerEventTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "certificate.reservation_expired", "notification.overdue",
    };

    /// <summary>The shadow topic of a public output, for a shadow application id.</summary>
    public static string ShadowTopic(string shadowApplicationId, string topic) => $"{shadowApplicationId}.{topic}";

    public async Task<VerifyResult> RunAsync(string shadowId, bool keepShadow, TimeSpan runTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(live);
        var notes = new List<string>();
        var liveTopology = new ReplayTopology(live, codec);
        var shadowSettings = live with
        {
            ApplicationId = shadowId,
            OutputTopic = topic => Topics.Outputs.Contains(topic) ? ShadowTopic(shadowId, topic) : topic,
        };
        var shadow = new ReplayTopology(shadowSettings, codec);

        // 1. the inputs' ends now: the shadow replays up to them; the live outputs are read once the live group has passed them
        var inputMarks = offsets.Watermarks(shadow.Inputs);
        var inputEnds = inputMarks.ToDictionary(m => m.Key, m => m.Value.High.Value);
        var total = inputMarks.Sum(m => Math.Max(0, m.Value.High.Value - m.Value.Low.Value));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verify: shadow application '{shadowId}', {total:N0} input records on {string.Join(", ", shadow.Inputs)} up to their current ends"));

        // 2. the shadow topics: internal ones named from the shadow id, public outputs renamed
        var created = await CreateShadowTopicsAsync(liveTopology, shadow, notes);

        // 3. the shadow run, until its group has committed the inputs' ends and drained its internal topics
        var stateDir = Directory.CreateTempSubdirectory("gcp-replay-").FullName;
        var meter = new RateMeter();
        DrainState liveDrain = new(), shadowDrain = new();
        Dictionary<TopicPartition, long>? liveOutputEnds = null;
        var liveOutputs = new[] { Topics.Stream.Name, Topics.State.Name };
        try
        {
            using var stream = new KafkaStream(shadow.Topology, StreamConfig(shadowId, stateDir));
            var failed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            stream.StateChanged += (_, now) =>
            {
                if (now == KafkaStream.State.ERROR)
                {
                    failed.TrySetResult("the shadow stream went to ERROR");
                }
            };
            await stream.StartAsync(cancellationToken);
            await progress.TrackAsync("verify", async report =>
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(runTimeout);
                while (true)
                {
                    if (failed.Task.IsCompleted)
                    {
                        throw new InvalidOperationException(await failed.Task);
                    }

                    var shadowDone = Drained(shadowId, shadow, inputEnds, shadowDrain, out var processed);
                    report.Report(meter.Sample(shadowDone ? "done" : "shadow run", shadowDone ? total : Math.Min(processed, total), total));
                    if (liveOutputEnds is null && Drained(live.ApplicationId, liveTopology, inputEnds, liveDrain, out _))
                    {
                        liveOutputEnds = offsets.Watermarks(liveOutputs).ToDictionary(m => m.Key, m => m.Value.High.Value);
                    }

                    if (shadowDone && liveOutputEnds is not null)
                    {
                        return true;
                    }

                    if (timeout.IsCancellationRequested)
                    {
                        throw new TimeoutException(shadowDone
                            ? $"the live service's group '{live.ApplicationId}' did not reach the replayed inputs' ends within {runTimeout.TotalSeconds:0} s (is the service running and keeping up?)"
                            : $"the shadow run did not reach the inputs' ends within {runTimeout.TotalSeconds:0} s");
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None); // polling interval of the progress display, not a synchronisation
                }
            });
        }
        finally
        {
            TryDelete(stateDir);
        }

        var runTime = meter.Elapsed;
        var rate = runTime.TotalSeconds > 0 ? total / runTime.TotalSeconds : 0;

        // 4. compare: the live outputs up to their ends when the live group had passed the replayed inputs; the shadow outputs whole
        var liveMayBeAhead = offsets.Watermarks(shadow.Inputs).Any(m => m.Value.High.Value != inputEnds[m.Key]);
        var reader = new BoundedReader(offsets.BootstrapServers, offsets.Timeout);
        var shadowEnds = offsets.Watermarks([ShadowTopic(shadowId, Topics.Stream.Name), ShadowTopic(shadowId, Topics.State.Name)])
            .ToDictionary(m => m.Key, m => m.Value.High.Value);
        var liveStream = DropRepeats(reader.Read(Topics.Stream.Name, liveOutputEnds!), out var streamRepeats);
        var shadowStream = DropRepeats(reader.Read(ShadowTopic(shadowId, Topics.Stream.Name), shadowEnds), out _);
        var streamComparison = OutputComparison.Compare(Topics.Stream.Name, liveStream, shadowStream, liveMayBeAhead, TimerDriven);
        var timerKeys = streamComparison.TimerDivergences.Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        var liveState = DropRepeats(reader.Read(Topics.State.Name, liveOutputEnds!), out var stateRepeats);
        var shadowState = DropRepeats(reader.Read(ShadowTopic(shadowId, Topics.State.Name), shadowEnds), out _);
        var stateComparison = OutputComparison.CompareState(Topics.State.Name, liveState, shadowState, liveMayBeAhead, timerKeys);
        if (streamRepeats + stateRepeats > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{streamRepeats + stateRepeats} live record(s) repeat an earlier record of their key byte for byte (a rebuild re-produced them): compared once"));
        }

        foreach (var other in new[] { Topics.Replies.Name, Topics.DeadLetter.Name })
        {
            var count = offsets.Watermarks([ShadowTopic(shadowId, other)]).Sum(m => m.Value.High.Value - m.Value.Low.Value);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{other}: {count} shadow record(s), not compared (replies answer the live API's requests; dead letters of internal topics name the application's own topics)"));
        }

        notes.Add($"{Topics.Audit.Name}: not a topology output (the API writes it per HTTP call): not replayed, not compared");
        if (!keepShadow)
        {
            await DeleteShadowTopicsAsync(created, notes);
        }
        else
        {
            notes.Add($"shadow topics kept (--keep-shadow): {string.Join(", ", created)}");
        }

        return new VerifyResult(shadowId, total, runTime, rate, liveMayBeAhead, streamComparison, stateComparison, streamRepeats + stateRepeats, notes);
    }

    /// <summary>
    /// Whether a record is a wall-clock timer's decision: a reservation expiry, an overdue notification, or the release of a hold
    /// that expired (a VOID's release is not).
    /// </summary>
    public bool TimerDriven(OutputRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.EventType is { } type && TimerEventTypes.Contains(type))
        {
            return true;
        }

        if (record.EventType == "certificate.hold_released" && record.Value is { } value)
        {
            try
            {
                return codec.Decode(Topics.Stream, value).payload is C.CertificateHoldReleased { expired: true };
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Drops, per key, every record equal byte for byte to an earlier record of the key (the copies a rebuild re-produces).</summary>
    public static IReadOnlyList<OutputRecord> DropRepeats(IReadOnlyList<OutputRecord> records, out int dropped)
    {
        ArgumentNullException.ThrowIfNull(records);
        var seen = new Dictionary<string, List<OutputRecord>>(StringComparer.Ordinal);
        var kept = new List<OutputRecord>(records.Count);
        dropped = 0;
        foreach (var record in records)
        {
            if (!seen.TryGetValue(record.Key, out var earlier))
            {
                seen[record.Key] = earlier = [];
            }

            if (earlier.Exists(record.SameAs))
            {
                dropped++;
                continue;
            }

            earlier.Add(record);
            kept.Add(record);
        }

        return kept;
    }

    private sealed class DrainState
    {
        public int Stable { get; set; }
    }

    /// <summary>
    /// Whether <paramref name="group"/> has committed every input partition up to <paramref name="inputEnds"/> and every internal
    /// partition up to its end, twice in a row (an owner may still be writing to the next internal topic at the first look).
    /// </summary>
    private bool Drained(string group, ReplayTopology topology, IReadOnlyDictionary<TopicPartition, long> inputEnds, DrainState state, out long processed)
    {
        var internalMarks = offsets.Watermarks(topology.InternalSources);
        var committed = offsets.Committed(group, [.. inputEnds.Keys, .. internalMarks.Keys]);
        var lows = offsets.Watermarks(topology.Inputs);
        processed = inputEnds.Sum(e => Math.Max(0, Math.Min(committed.GetValueOrDefault(e.Key, lows[e.Key].Low.Value), e.Value) - lows[e.Key].Low.Value));
        var inputsDone = inputEnds.All(e => e.Value <= lows[e.Key].Low.Value || committed.GetValueOrDefault(e.Key, -1) >= e.Value);
        var internalDone = internalMarks.All(m => m.Value.High.Value <= m.Value.Low.Value || committed.GetValueOrDefault(m.Key, -1) >= m.Value.High.Value);
        state.Stable = inputsDone && internalDone ? state.Stable + 1 : 0;
        return state.Stable >= 2;
    }

    private StreamConfig StreamConfig(string shadowId, string stateDir) => new()
    {
        ApplicationId = shadowId,
        ClientId = $"{shadowId}-gcp-replay",
        BootstrapServers = offsets.BootstrapServers,
        Guarantee = ProcessingGuarantee.EXACTLY_ONCE, // as the service
        CommitIntervalMs = 100,
        PollMs = 10,
        FetchWaitMaxMs = 5, // the embedded broker answers an empty fetch only after it
        LingerMs = 5,
        StateDir = stateDir,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        Partitioner = Partitioner.Murmur2Random, // as the service's producers
        AllowAutoCreateTopics = false,
        SessionTimeoutMs = 6_000,
        HeartbeatIntervalMs = 500,
        Logger = NullLoggerFactory.Instance,
    };

    /// <summary>
    /// Creates the shadow topics with the partition count of their live counterparts (Admin CreateTopics). librdkafka's mock
    /// cluster has no CreateTopics: there they are created by asking for their metadata, with the mock's default partition count.
    /// </summary>
    private async Task<IReadOnlyList<string>> CreateShadowTopicsAsync(ReplayTopology live, ReplayTopology shadow, List<string> notes)
    {
        var shadowId = shadow.Settings.ApplicationId;
        var wanted = new List<(string Name, int Partitions, bool Compacted)>();
        int PartitionsOf(string topic) => Math.Max(1, offsets.Partitions(topic).Count);
        foreach (var output in Topics.Outputs.Where(t => shadow.Sinks.Contains(ShadowTopic(shadowId, t))))
        {
            wanted.Add((ShadowTopic(shadowId, output), PartitionsOf(output), output == Topics.State.Name));
        }

        foreach (var (shadowTopic, liveTopic) in shadow.InternalSources.Zip(live.InternalSources))
        {
            wanted.Add((shadowTopic, PartitionsOf(liveTopic), false));
        }

        foreach (var (shadowTopic, liveTopic) in shadow.Changelogs.Zip(live.Changelogs))
        {
            wanted.Add((shadowTopic, PartitionsOf(liveTopic), true));
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = offsets.BootstrapServers }).SetLogHandler((_, _) => { }).Build();
        try
        {
            await admin.CreateTopicsAsync(
                wanted.Select(w => new TopicSpecification
                {
                    Name = w.Name,
                    NumPartitions = w.Partitions,
                    ReplicationFactor = -1, // the broker's default
                    Configs = w.Compacted ? new Dictionary<string, string> { ["cleanup.policy"] = "compact" } : null,
                }),
                new CreateTopicsOptions { RequestTimeout = offsets.Timeout, OperationTimeout = offsets.Timeout });
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // a shadow id given again (--shadow-id): its topics are there already
        }
        catch (KafkaException e) when (e is not CreateTopicsException)
        {
            foreach (var w in wanted)
            {
                admin.GetMetadata(w.Name, offsets.Timeout); // an admin client may create a topic by asking for it (the mock does)
            }

            var counts = wanted.Select(w => (w.Name, w.Partitions, Actual: offsets.Partitions(w.Name).Count)).ToList();
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"the broker does not create topics on request ({e.Error.Reason}): the shadow topics were created by asking for their metadata, with {string.Join("/", counts.Select(c => c.Actual).Distinct())} partition(s) (live: {string.Join("/", counts.Select(c => c.Partitions).Distinct())}); records are compared per key, so the partition count does not matter"));
            if (counts.Any(c => c.Actual == 0))
            {
                throw new InvalidOperationException($"could not create the shadow topics {string.Join(", ", counts.Where(c => c.Actual == 0).Select(c => c.Name))}: create them (partitions as their live counterparts) and run again with --shadow-id {shadowId}");
            }
        }

        return [.. wanted.Select(w => w.Name)];
    }

    private async Task DeleteShadowTopicsAsync(IReadOnlyList<string> topics, List<string> notes)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = offsets.BootstrapServers }).SetLogHandler((_, _) => { }).Build();
        try
        {
            await admin.DeleteTopicsAsync(topics, new DeleteTopicsOptions { RequestTimeout = offsets.Timeout, OperationTimeout = offsets.Timeout });
            notes.Add($"{topics.Count} shadow topics deleted");
        }
        catch (KafkaException e)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"the {topics.Count} shadow topics stay ({e.Error.Reason}: librdkafka's mock cluster cannot delete topics; they go when the standalone broker stops, and count against nothing else)"));
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // RocksDB may hold a file a moment longer: the temp dir is the OS's to clean
        }
    }
}
