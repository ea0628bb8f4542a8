using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Topology;
using Microsoft.Extensions.Options;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Errors;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.State;

namespace GcpStreams.Api.Hosting;

/// <summary>Where the service is in its life, for readiness and the banner.</summary>
public enum ServiceState
{
    Starting,
    WaitingForKafka,
    Rebalancing,
    Running,
    Error,
    Stopped,
}

/// <summary>
/// Runs the Streamiz topology as a hosted service. In embedded mode it first pre-creates every topic the topology needs
/// and wipes the state dir; attached to the standalone broker it wipes the state dir too (the broker may be a new one); in
/// cluster mode it wipes the state dir only when the last stop was not clean
/// (<see cref="StateDirectory"/>), then waits (with backoff, saying why) until the cluster answers and every required topic
/// exists, then starts. Readiness follows the stream's state. While it runs, <see cref="StreamSupervisor"/> watches the stream
/// threads' progress: a stream stuck beyond <c>Kafka:StreamStallSeconds</c> is abandoned (its consumers leave the group, its
/// close runs on a thread of its own, bounded) and a new one started with the same transactional ids, which fences the old one.
/// </summary>
public sealed class StreamService : BackgroundService
{
    private readonly KafkaOptions kafka;
    private readonly KafkaEnvironment environment;
    private readonly TopologySettings settings;
    private readonly Codec codec;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger<StreamService> logger;
    private readonly ProductionFailures productionFailures;
    private readonly StreamSupervisor supervisor;
    private readonly TaskCompletionSource running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile KafkaStream? stream;
    private AbandonableClients? clients;
    private int generation;
    private TaskCompletionSource? restarted;

    public StreamService(IOptions<KafkaOptions> kafka, KafkaEnvironment environment, TopologySettings settings, ISchemaRegistryClient registry, ProductionFailures productionFailures,
        StreamSupervisor supervisor, ILoggerFactory loggerFactory)
    {
        this.productionFailures = productionFailures;
        this.supervisor = supervisor;
        this.kafka = kafka.Value;
        this.environment = environment;
        this.settings = settings;
        codec = new Codec(registry);
        this.loggerFactory = loggerFactory;
        logger = loggerFactory.CreateLogger<StreamService>();
        Topology = BuildTopology();
    }

    /// <summary>A topology of its own for each stream: Streamiz rewrites the topology it is given (a second stream on one fails).</summary>
    private Streamiz.Kafka.Net.Stream.Topology BuildTopology()
    {
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, settings, codec);
        return builder.Build();
    }

    public Streamiz.Kafka.Net.Stream.Topology Topology { get; }

    /// <summary>How long stopping waits for the stream to commit and close its threads.</summary>
    public static TimeSpan CloseTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the supervisor waits for a stuck stream's consumers to leave the group before it starts the new stream anyway.</summary>
    public static TimeSpan AbandonTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the supervisor looks at the stream threads' progress.</summary>
    private static readonly TimeSpan SuperviseEvery = TimeSpan.FromSeconds(1);

    public ServiceState State { get; private set; } = ServiceState.Starting;

    /// <summary>The supervisor of the stream: its restarts, and whether it gave up.</summary>
    public StreamSupervisor Supervisor => supervisor;

    /// <summary>Completes when the stream first reaches RUNNING.</summary>
    public Task WhenRunning => running.Task;

    /// <summary>The running stream, for interactive queries; null before start.</summary>
    public KafkaStream? Stream => stream;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var required = TopologyTopics.Of(Topology, settings.ApplicationId);
        if (kafka.Mode == KafkaMode.Embedded)
        {
            StateDirectory.Wipe(kafka.StateDir, settings.ApplicationId);
            environment.CreateTopics(required, kafka.Partitions);
        }
        else
        {
            if (kafka.Mode == KafkaMode.Attached)
            {
                // the standalone broker keeps everything in memory: a state dir left from before may belong to an earlier broker,
                // whose changelog offsets a new one does not have (a store restored past the new changelog's end would count
                // twice, STREAMIZ-NOTES), so the stores are restored from the broker's changelogs at every start
                StateDirectory.Wipe(kafka.StateDir, settings.ApplicationId);
                logger.LogInformation("Attached to the standalone broker at {BootstrapServers}: the state stores are restored from its changelogs", environment.BootstrapServers);
            }
            else if (StateDirectory.PrepareForStart(kafka.StateDir, settings.ApplicationId) is { } wiped)
            {
                logger.LogWarning("Local state: {Reason}", wiped);
            }

            State = ServiceState.WaitingForKafka;
            await WaitForClusterAsync(required, stoppingToken);
        }

        StreamizLogging.Instance.Attach(loggerFactory);
        await StartStreamAsync(Topology, kafka.StateDir);
        await SuperviseAsync(stoppingToken);
    }

    /// <summary>Creates and starts a stream of <paramref name="topology"/> on <paramref name="stateDir"/>; stopped by <see cref="StopAsync"/> or replaced by the supervisor.</summary>
    private async Task StartStreamAsync(Streamiz.Kafka.Net.Stream.Topology topology, string stateDir)
    {
        AbandonableClients? next = null;
        var config = StreamConfig(stateDir, () => next?.Abandoned == true);
        IKafkaSupplier inner = kafka.CommitsOffsetsOutsideTransactions && config.Guarantee == ProcessingGuarantee.EXACTLY_ONCE
            ? new MockBrokerTransactions(config, loggerFactory.CreateLogger<MockBrokerTransactions>())
            : new DefaultKafkaClientSupplier(new KafkaLoggerAdapter(config), config);
        next = new AbandonableClients(inner);
        var created = new KafkaStream(topology, config, next);
        State = ServiceState.Starting;
        clients = next;
        stream = created;
        created.StateChanged += OnStateChanged;
        await created.StartAsync(CancellationToken.None);
    }

    /// <summary>Looks at the stream threads' progress every second; replaces a stuck stream, or gives up (liveness fails).</summary>
    private async Task SuperviseAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SuperviseEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var current = stream;
                if (current is null)
                {
                    continue;
                }

                long? progress;
                try
                {
                    progress = StreamSupervisor.ProgressOf(current, State);
                }
                catch (Exception e) when (e is InvalidOperationException or NullReferenceException)
                {
                    continue; // Streamiz's sensors change while threads start or stop: look again at the next tick
                }

                var verdict = supervisor.Observe(progress, DateTimeOffset.UtcNow);
                if (verdict.Action == SupervisorAction.Restart)
                {
                    logger.LogError("Stream supervisor: {Reason}", verdict.Reason);
                    await RestartAsync(current);
                }
                else if (verdict.Action == SupervisorAction.GiveUp)
                {
                    logger.LogCritical("Stream supervisor gave up: {Reason}. /health/live now fails so that the instance is restarted", verdict.Reason);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>
    /// Abandons a stuck stream and starts a new one. The stuck thread may never return: its consumers leave the group (bounded
    /// by <see cref="AbandonTimeout"/>), its close runs on a background thread of its own and is never awaited, its stores stay
    /// open (the new stream restores into a directory of its own), its producer is not disposed (librdkafka's handle is in use
    /// by the stuck call). The new stream has the same transactional ids, so its first InitTransactions fences the old producer
    /// and aborts its open transaction: its inputs are processed again by the new stream, exactly once.
    /// </summary>
    private async Task RestartAsync(KafkaStream stuck)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        stuck.StateChanged -= OnStateChanged;
        var abandoned = clients;
        if (abandoned is not null)
        {
            var leave = Task.Run(abandoned.Abandon);
            try
            {
                foreach (var error in await leave.WaitAsync(AbandonTimeout))
                {
                    logger.LogWarning("Stream supervisor: closing a consumer of the stuck stream failed: {Error}", error);
                }
            }
            catch (TimeoutException)
            {
                logger.LogError("Stream supervisor: the stuck stream's consumers did not leave the group within {Timeout}; starting the new stream anyway", AbandonTimeout);
            }
        }

        var close = new Thread(() =>
        {
            try
            {
                stuck.Dispose(); // returns only if the stuck thread ever does
                logger.LogInformation("Stream supervisor: the abandoned stream closed after all ({Elapsed})", clock.Elapsed);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Stream supervisor: closing the abandoned stream failed");
            }
        })
        {
            IsBackground = true, // never keeps the process alive
            Name = "gcp-abandoned-stream-close",
        };
        close.Start();

        try
        {
            var next = Interlocked.Increment(ref generation);
            var dir = StateDirectory.PrepareRestart(kafka.StateDir, settings.ApplicationId, next);
            restarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var whenRunning = restarted.Task;
            await StartStreamAsync(BuildTopology(), dir);
            logger.LogWarning("Stream supervisor: a new stream (restart {Generation}) started on {StateDir} {Elapsed} after the stuck one was abandoned", next, dir, clock.Elapsed);
            _ = whenRunning.ContinueWith(_ =>
            {
                supervisor.Recovered(clock.Elapsed);
                logger.LogWarning("Stream supervisor: the new stream is RUNNING, {Elapsed} after the restart was decided", clock.Elapsed);
            }, TaskScheduler.Default);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // the supervisor sees no progress and decides again after a whole window
            logger.LogError(e, "Stream supervisor: starting a new stream failed");
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (stream is not null)
        {
            stream.StateChanged -= OnStateChanged;
            var failed = State == ServiceState.Error || Volatile.Read(ref generation) > 0; // a replaced stream's directory was abandoned
            var close = Task.Run(stream.Dispose); // closes the stream threads and commits; ~0.5 s
            try
            {
                await close.WaitAsync(CloseTimeout, cancellationToken);
                if (!failed && kafka.Mode == KafkaMode.Cluster)
                {
                    StateDirectory.MarkClosedCleanly(kafka.StateDir, settings.ApplicationId); // the next start may trust the stores
                }
            }
            catch (TimeoutException)
            {
                // seen on the embedded broker: a consumer's close can block in librdkafka during the last rebalance
                logger.LogError("The stream did not close within {Timeout}; stopping without waiting for it", CloseTimeout);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // the host's shutdown timeout (30 s by default, as long as CloseTimeout) came first: the same case, not a failure of the stop
                logger.LogError("The stream did not close within the host's shutdown timeout; stopping without waiting for it");
            }
        }

        StreamizLogging.Instance.Detach(loggerFactory);
        State = ServiceState.Stopped;
    }

    private void OnStateChanged(KafkaStream.State old, KafkaStream.State now)
    {
        // runs on a stream thread: record and return, never block it
        State = now == KafkaStream.State.RUNNING ? ServiceState.Running
            : now == KafkaStream.State.REBALANCING ? ServiceState.Rebalancing
            : now == KafkaStream.State.ERROR ? ServiceState.Error
            : now == KafkaStream.State.NOT_RUNNING || now == KafkaStream.State.PENDING_SHUTDOWN ? ServiceState.Stopped
            : State;
        logger.LogInformation("Stream state {Old} -> {New}", old, now);
        if (now == KafkaStream.State.RUNNING)
        {
            running.TrySetResult();
            restarted?.TrySetResult();
        }
    }

    /// <param name="abandoned">Whether the supervisor abandoned the stream: a write it fails then says nothing of this instance's health.</param>
    private StreamConfig StreamConfig(string stateDir, Func<bool> abandoned)
    {
        var config = new StreamConfig
        {
            ApplicationId = settings.ApplicationId,
            ClientId = $"{settings.ApplicationId}-{Environment.MachineName}",
            BootstrapServers = environment.BootstrapServers,
            Guarantee = string.Equals(kafka.ProcessingGuarantee, "AtLeastOnce", StringComparison.OrdinalIgnoreCase)
                ? ProcessingGuarantee.AT_LEAST_ONCE
                : ProcessingGuarantee.EXACTLY_ONCE,
            CommitIntervalMs = kafka.CommitIntervalMs,
            PollMs = kafka.PollMs,
            FetchWaitMaxMs = kafka.FetchWaitMaxMs,
            LingerMs = kafka.LingerMs,
            NumStreamThreads = kafka.NumStreamThreads,
            StateDir = stateDir,
            RocksDbConfigHandler = StoreMemory(kafka),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            Partitioner = Partitioner.Murmur2Random,
            Logger = StreamizLogging.Instance,
            // every processor dead-letters its own failures; these only see what escapes them
            DeserializationExceptionHandler = (_, record, e) => LogAndContinue("deserialization", record.Topic, record.Partition, record.Offset, e),
            // a lost output must not be committed past: the task fails; the instance says so (log, readiness, alert on the stream)
            ProductionExceptionHandler = report => abandoned() ? ProductionExceptionHandlerResponse.FAIL : productionFailures.Handle(report),
            InnerExceptionHandler = e =>
            {
                logger.LogError(e, "Unexpected error in a stream thread");
                return ExceptionHandlerResponse.FAIL;
            },
        };
        if (kafka.Mode == KafkaMode.Embedded)
        {
            config.AllowAutoCreateTopics = false;
            // one process owns the whole group: a member that goes away is noticed in seconds, not the default 45 s
            config.SessionTimeoutMs = 6_000;
            config.HeartbeatIntervalMs = 500;
        }
        else
        {
            config.SecurityProtocol = Security.Protocol;
            config.SaslMechanism = Security.Mechanism;
            config.SaslUsername = kafka.SaslUsername;
            config.SaslPassword = kafka.SaslPassword;
            config.SslCaLocation = kafka.SslCaLocation;
        }

        Observability.StreamMetrics.Configure(config); // librdkafka statistics (consumer lag) into Streamiz's sensors, before Kafka:Settings
        foreach (var (key, value) in kafka.Settings)
        {
            AddSetting(config, key, value);
        }

        return config;
    }

    /// <summary>
    /// Passes a <c>Kafka:Settings</c> entry (any librdkafka key) through to every Kafka client of the stream. Streamiz maps the
    /// keys it knows onto typed properties (so the string is given as a number or a boolean when it reads as one) and keeps the
    /// others for itself, so each entry is also given to the consumers and the producer through Streamiz's client prefixes.
    /// </summary>
    internal static void AddSetting(StreamConfig config, string key, string value)
    {
        object[] candidates = int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var i) ? [i, (long)i, value]
            : long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var l) ? [l, value]
            : bool.TryParse(value, out var b) ? [b, value]
            : [value];
        foreach (var candidate in candidates)
        {
            try
            {
                config.AddConfig(key, candidate);
                break;
            }
            catch (ArgumentException) when (!ReferenceEquals(candidate, candidates[^1]))
            {
                // the property has another type: try the next reading
            }
        }

        foreach (var prefixed in new[] { config.MainConsumerPrefix(key), config.RestoreConsumerPrefix(key), config.GlobalConsumerPrefix(key), config.ProducerPrefix(key) })
        {
            config.AddConfig(prefixed, value);
        }
    }

    private ExceptionHandlerResponse LogAndContinue(string what, string topic, Partition partition, Offset offset, Exception e)
    {
        logger.LogError(e, "Skipped a record of {Topic}[{Partition}]@{Offset} after a {What} error", topic, partition.Value, offset.Value, what);
        return ExceptionHandlerResponse.CONTINUE;
    }

    private (SecurityProtocol? Protocol, SaslMechanism? Mechanism) Security =>
    (
        kafka.SecurityProtocol is { Length: > 0 } protocol ? Enum.Parse<SecurityProtocol>(protocol, ignoreCase: true) : null,
        kafka.SaslMechanism is { Length: > 0 } mechanism ? Enum.Parse<SaslMechanism>(mechanism, ignoreCase: true) : null
    );

    private void ApplySecurity(ClientConfig config)
    {
        config.SecurityProtocol = Security.Protocol;
        config.SaslMechanism = Security.Mechanism;
        config.SaslUsername = kafka.SaslUsername;
        config.SaslPassword = kafka.SaslPassword;
        config.SslCaLocation = kafka.SslCaLocation;
    }

    /// <summary>Cluster mode: retry with backoff until the cluster answers and every required topic exists; say what is missing.</summary>
    private async Task WaitForClusterAsync(IReadOnlyList<RequiredTopic> required, CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(kafka.RetryBackoffSeconds);
        var adminConfig = new AdminClientConfig { BootstrapServers = environment.BootstrapServers };
        ApplySecurity(adminConfig);
        foreach (var (key, value) in kafka.Settings)
        {
            adminConfig.Set(key, value);
        }

        using var admin = new AdminClientBuilder(adminConfig).SetLogHandler((_, m) => logger.LogDebug("admin: {Message}", m.Message)).Build();
        while (true)
        {
            stoppingToken.ThrowIfCancellationRequested();
            string problem;
            try
            {
                var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
                var present = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count, StringComparer.Ordinal);
                var missing = required.Where(t => !present.ContainsKey(t.Name)).Select(t => t.Name).ToList();
                if (missing.Count == 0)
                {
                    foreach (var topic in required.Where(t => present[t.Name] != kafka.Partitions))
                    {
                        logger.LogWarning("Topic {Topic} has {Actual} partitions, Kafka:Partitions says {Expected}", topic.Name, present[topic.Name], kafka.Partitions);
                    }

                    logger.LogInformation("Kafka at {Servers} has every required topic ({Count})", environment.BootstrapServers, required.Count);
                    return;
                }

                problem = $"missing topics (provision them, see charts/): {string.Join(", ", missing)}";
            }
            catch (KafkaException e)
            {
                problem = $"unreachable: {e.Error.Reason}";
            }

            logger.LogWarning("Kafka at {Servers} is not ready ({Problem}); retrying in {Delay}", environment.BootstrapServers, problem, backoff);
            await Task.Delay(backoff, stoppingToken);
            backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, kafka.MaxRetryBackoffSeconds));
        }
    }

    /// <summary>
    /// Bounds the state stores' memory: one block cache shared by every store of the instance (<c>Kafka:StoreBlockCacheMiB</c>)
    /// instead of Streamiz's 50 MiB per store and task, and memtables of <c>Kafka:StoreWriteBufferMiB</c> (at most 3 per store).
    /// Streamiz calls this for each store after its own settings, so the table options (block size, Bloom filter) are given
    /// again with the shared cache.
    /// </summary>
    internal static Action<string, RocksDbOptions> StoreMemory(KafkaOptions kafka)
    {
        var cache = RocksDbSharp.Cache.CreateLru((ulong)kafka.StoreBlockCacheMiB << 20);
        return (_, options) => options
            .SetWriteBufferSize((ulong)kafka.StoreWriteBufferMiB << 20)
            .SetMaxWriteBufferNumber(3)
            .SetBlockBasedTableFactory(new RocksDbSharp.BlockBasedTableOptions()
                .SetBlockCache(cache)
                .SetBlockSize(4096)
                .SetFilterPolicy(RocksDbSharp.BloomFilterPolicy.Create()));
    }

    internal static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
