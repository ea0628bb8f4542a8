using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using GcpStreams.Client;
using GcpStreams.Topology;
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

    /// <summary>Tests only: changes shadow Stream records before the comparison (to see a difference reported).</summary>
    internal Func<OutputRecord, OutputRecord>? AlterShadow { get; init; }

    public async Task<VerifyResult> RunAsync(string shadowId, bool keepShadow, bool forceSandbox, TimeSpan? pace, TimeSpan runTimeout, CancellationToken cancellationToken)
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

        // 2. the shadow topics, internal ones named from the shadow id, public outputs renamed: on the live cluster when it creates
        //    topics on request; else (librdkafka's mock: the standalone broker) in a sandbox, a mock cluster of this process, with
        //    the inputs copied into it
        var wanted = ShadowTopics(liveTopology, shadow);
        var created = forceSandbox || pace is not null ? null : await TryCreateShadowTopicsAsync(wanted, notes);
        using var sandbox = created is null ? new Sandbox(offsets, wanted, shadow, inputEnds, output, notes) : null;
        var shadowOffsets = sandbox?.Offsets ?? offsets;

        // 3. the shadow run, until its group has committed the inputs' ends and drained its internal topics
        var stateDir = Directory.CreateTempSubdirectory("gcp-replay-").FullName;
        var meter = new RateMeter();
        DrainState liveDrain = new(), shadowDrain = new();
        Dictionary<TopicPartition, long>? liveOutputEnds = null;
        var liveBusy = false;
        var runTime = TimeSpan.Zero;
        var liveOutputs = new[] { Topics.Stream.Name, Topics.State.Name };
        void CaptureLive()
        {
            if (liveOutputEnds is null && LiveCaughtUp(liveTopology, inputEnds, liveDrain, notes))
            {
                liveOutputEnds = offsets.Watermarks(liveOutputs).ToDictionary(m => m.Key, m => m.Value.High.Value);
            }
        }

        try
        {
            using var stream = new KafkaStream(shadow.Topology, StreamConfig(shadowId, shadowOffsets.BootstrapServers, stateDir, pace is null ? 100 : 10));
            var failed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            stream.StateChanged += (_, now) =>
            {
                if (now == KafkaStream.State.ERROR)
                {
                    failed.TrySetResult("the shadow stream went to ERROR");
                }
            };
            await stream.StartAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(runTimeout);
            async Task Until(Func<bool> condition, TimeSpan every, string what)
            {
                while (!condition())
                {
                    if (failed.Task.IsCompleted)
                    {
                        throw new InvalidOperationException(await failed.Task);
                    }

                    if (deadline.IsCancellationRequested)
                    {
                        throw new TimeoutException($"{what} within {runTimeout.TotalSeconds:0} s");
                    }

                    await Task.Delay(every, CancellationToken.None); // the polling interval of a condition read from the broker, not a synchronisation
                }
            }

            await progress.TrackAsync("verify", async report =>
            {
                if (sandbox is not null && pace is not null)
                {
                    // paced: one window of input time at a time, each processed through every internal topic before the next, as the
                    // live service saw its inputs arrive (a replay at full speed lets a one-hop input overtake a multi-hop one)
                    while (sandbox.Feed(pace) > 0)
                    {
                        shadowDrain.Stable = 0;
                        var ends = new Dictionary<TopicPartition, long>(sandbox.FedEnds);
                        await Until(() => Drained(shadowOffsets, shadowId, shadow, ends, shadowDrain, out _), Poll(pace), "the shadow run did not process its inputs");
                        report.Report(meter.Sample("shadow run, paced", sandbox.Fed, total));
                        CaptureLive();
                    }
                }
                else
                {
                    var ends = inputEnds;
                    if (sandbox is not null)
                    {
                        sandbox.Feed(null); // every input at once
                        ends = new Dictionary<TopicPartition, long>(sandbox.FedEnds);
                    }

                    await Until(() =>
                    {
                        var done = Drained(shadowOffsets, shadowId, shadow, ends, shadowDrain, out var processed);
                        report.Report(meter.Sample("shadow run", done ? total : Math.Min(processed, total), total));
                        CaptureLive();
                        return done;
                    }, TimeSpan.FromMilliseconds(200), "the shadow run did not reach the inputs' ends");
                }

                report.Report(meter.Sample("done", total, total));
                runTime = meter.Elapsed;
                var shadowDoneAt = meter.Elapsed;
                await Until(() =>
                {
                    CaptureLive();
                    if (liveOutputEnds is null && meter.Elapsed - shadowDoneAt > LiveGrace)
                    {
                        liveOutputEnds = offsets.Watermarks(liveOutputs).ToDictionary(m => m.Key, m => m.Value.High.Value);
                        liveBusy = true;
                        notes.Add($"the live service did not settle within {LiveGrace.TotalSeconds:0} s after the shadow run (traffic goes on): its outputs were read up to their ends then, and a live key may be ahead");
                    }

                    return liveOutputEnds is not null;
                }, TimeSpan.FromMilliseconds(200), "the live service did not reach the replayed inputs' ends");
                return true;
            });
        }
        finally
        {
            TryDelete(stateDir);
        }

        var rate = runTime.TotalSeconds > 0 ? total / runTime.TotalSeconds : 0;

        // 4. compare: the live outputs up to their ends when the live group had passed the replayed inputs; the shadow outputs whole
        var liveMayBeAhead = liveBusy || offsets.Watermarks(shadow.Inputs).Any(m => m.Value.High.Value != inputEnds[m.Key]);
        var liveReader = new BoundedReader(offsets.BootstrapServers, offsets.Timeout);
        var shadowReader = new BoundedReader(shadowOffsets.BootstrapServers, offsets.Timeout);
        var shadowEnds = shadowOffsets.Watermarks([ShadowTopic(shadowId, Topics.Stream.Name), ShadowTopic(shadowId, Topics.State.Name)])
            .ToDictionary(m => m.Key, m => m.Value.High.Value);
        var liveStream = DropRepeats(liveReader.Read(Topics.Stream.Name, liveOutputEnds!), out var streamRepeats);
        var shadowStream = DropRepeats([.. shadowReader.Read(ShadowTopic(shadowId, Topics.Stream.Name), shadowEnds).Select(AlterShadow ?? (r => r))], out _);
        var streamComparison = OutputComparison.Compare(Topics.Stream.Name, liveStream, shadowStream, liveMayBeAhead, TimerDriven);
        var timerKeys = streamComparison.TimerDivergences.Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        var liveState = DropRepeats(liveReader.Read(Topics.State.Name, liveOutputEnds!), out var stateRepeats);
        var shadowState = DropRepeats(shadowReader.Read(ShadowTopic(shadowId, Topics.State.Name), shadowEnds), out _);
        var stateComparison = OutputComparison.CompareState(Topics.State.Name, liveState, shadowState, liveMayBeAhead, timerKeys);
        if (streamRepeats + stateRepeats > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{streamRepeats + stateRepeats} live record(s) repeat an earlier record of their key byte for byte (a rebuild re-produced them): compared once"));
        }

        foreach (var other in new[] { Topics.Replies.Name, Topics.DeadLetter.Name })
        {
            var count = shadowOffsets.Watermarks([ShadowTopic(shadowId, other)]).Sum(m => m.Value.High.Value - m.Value.Low.Value);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{other}: {count} shadow record(s), not compared (replies answer the live API's requests; dead letters of internal topics name the application's own topics)"));
        }

        notes.Add($"{Topics.Audit.Name}: not a topology output (the API writes it per HTTP call): not replayed, not compared");
        if (created is null)
        {
            notes.Add("the sandbox (its topics and the copied inputs) is gone with this process: nothing was written to the live cluster");
        }
        else if (!keepShadow)
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

    /// <summary>The decoded fields of a Stream or State record (no secret is on either topic), for a report line; null when undecodable.</summary>
    public string? Explain(OutputRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Value is not { } value)
        {
            return null;
        }

        try
        {
            Avro.Specific.ISpecificRecord decoded = record.EventType is not null
                ? codec.Decode(Topics.Stream, value)
                : codec.Decode(Topics.State, value);
            var text = Fields(decoded);
            return text.Length > 600 ? text[..600] + "…" : text;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    private static string Fields(Avro.Specific.ISpecificRecord record) =>
        string.Join(", ", ((Avro.RecordSchema)record.Schema).Fields.Select(f => (f.Name, Value: record.Get(f.Pos)))
            .Where(f => f.Value is not null)
            .Select(f => f.Value is Avro.Specific.ISpecificRecord inner ? $"{f.Name}={inner.Schema.Name}({Fields(inner)})" : string.Create(CultureInfo.InvariantCulture, $"{f.Name}={f.Value}")));

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

    /// <summary>How long after the shadow run the live service may take to settle before its outputs are read anyway.</summary>
    private static readonly TimeSpan LiveGrace = TimeSpan.FromSeconds(30);

    private sealed class DrainState
    {
        public int Stable { get; set; }

        public bool NoCommits { get; set; }

        public long[]? LastMarks { get; set; }
    }

    /// <summary>
    /// Whether the live service has processed the replayed inputs: its group committed them and drained its internal topics
    /// (<see cref="Drained"/>). A group that commits no offsets at all (the service under exactly-once on librdkafka's mock cluster,
    /// which drops transactional offset commits) is judged by its internal and output topics instead: caught up once their ends
    /// stayed put for 1 s.
    /// </summary>
    private bool LiveCaughtUp(ReplayTopology liveTopology, IReadOnlyDictionary<TopicPartition, long> inputEnds, DrainState state, List<string> notes)
    {
        if (!state.NoCommits)
        {
            if (Drained(offsets, live.ApplicationId, liveTopology, inputEnds, state, out _))
            {
                return true;
            }

            if (offsets.Committed(live.ApplicationId, inputEnds.Keys).Count > 0)
            {
                return false;
            }

            state.NoCommits = true;
            notes.Add($"the live group '{live.ApplicationId}' has no committed offsets (librdkafka's mock cluster drops the offsets of transactional commits): the live service was taken as caught up once its internal and output topics stopped growing for 1 s");
        }

        long[] marks = [.. offsets.Watermarks([.. liveTopology.InternalSources, Topics.Stream.Name, Topics.State.Name]).OrderBy(m => m.Key.Topic, StringComparer.Ordinal).ThenBy(m => m.Key.Partition.Value).Select(m => m.Value.High.Value)];
        state.Stable = state.LastMarks is { } last && last.SequenceEqual(marks) ? state.Stable + 1 : 0;
        state.LastMarks = marks;
        return state.Stable >= 5; // five polls of 200 ms
    }

    /// <summary>
    /// Whether <paramref name="group"/> has committed every input partition up to <paramref name="inputEnds"/> and every internal
    /// partition up to its end, twice in a row (an owner may still be writing to the next internal topic at the first look).
    /// </summary>
    private static bool Drained(KafkaOffsets offsets, string group, ReplayTopology topology, IReadOnlyDictionary<TopicPartition, long> inputEnds, DrainState state, out long processed)
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

    private static TimeSpan Poll(TimeSpan? pace) => pace is null ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromMilliseconds(10);

    private static StreamConfig StreamConfig(string shadowId, string bootstrapServers, string stateDir, int commitIntervalMs) => new()
    {
        ApplicationId = shadowId,
        ClientId = $"{shadowId}-gcp-replay",
        BootstrapServers = bootstrapServers,
        // at-least-once: librdkafka's mock cluster drops transactional offset commits, and the run's end is read from the group's
        // committed offsets; without a failure the outputs are the same (and a repeat after one is dropped before comparing)
        Guarantee = ProcessingGuarantee.AT_LEAST_ONCE,
        CommitIntervalMs = commitIntervalMs,
        PollMs = 10,
        FetchWaitMaxMs = 5, // the embedded broker answers an empty fetch only after it
        LingerMs = 5,
        StateDir = stateDir,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        Partitioner = Partitioner.Murmur2Random, // as the service's producers
        AllowAutoCreateTopics = false,
        SessionTimeoutMs = 6_000,
        HeartbeatIntervalMs = 500,
        Logger = new StreamLogs(Console.Error, Environment.GetEnvironmentVariable("GCP_REPLAY_STREAM_LOG") is { } level ? Enum.Parse<Microsoft.Extensions.Logging.LogLevel>(level) : Microsoft.Extensions.Logging.LogLevel.Warning),
    };

    /// <summary>The shadow topics with the partition count of their live counterparts, and whether each is compacted.</summary>
    private List<(string Name, int Partitions, bool Compacted)> ShadowTopics(ReplayTopology liveTopology, ReplayTopology shadow)
    {
        var shadowId = shadow.Settings.ApplicationId;
        var wanted = new List<(string Name, int Partitions, bool Compacted)>();
        int PartitionsOf(string topic) => Math.Max(1, offsets.Partitions(topic).Count);
        foreach (var output in Topics.Outputs.Where(t => shadow.Sinks.Contains(ShadowTopic(shadowId, t))))
        {
            wanted.Add((ShadowTopic(shadowId, output), PartitionsOf(output), output == Topics.State.Name));
        }

        foreach (var (shadowTopic, liveTopic) in shadow.InternalSources.Zip(liveTopology.InternalSources))
        {
            wanted.Add((shadowTopic, PartitionsOf(liveTopic), false));
        }

        foreach (var (shadowTopic, liveTopic) in shadow.Changelogs.Zip(liveTopology.Changelogs))
        {
            wanted.Add((shadowTopic, PartitionsOf(liveTopic), true));
        }

        return wanted;
    }

    /// <summary>
    /// Creates the shadow topics on the live cluster (Admin CreateTopics) and returns their names, or null when the cluster does
    /// not create topics on request (librdkafka's mock cluster: "Topic Admin API (KIP-4) not supported by broker").
    /// </summary>
    private async Task<IReadOnlyList<string>?> TryCreateShadowTopicsAsync(List<(string Name, int Partitions, bool Compacted)> wanted, List<string> notes)
    {
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
            notes.Add($"the cluster does not create topics on request ({e.Error.Reason}): the shadow ran in a sandbox, a mock cluster inside gcp-replay, on a copy of the inputs");
            return null;
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
