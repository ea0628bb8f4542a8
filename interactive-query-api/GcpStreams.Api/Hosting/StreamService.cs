using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Topology;
using Microsoft.Extensions.Options;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Errors;
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
/// exists, then starts. Readiness follows the stream's state.
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
    private readonly TaskCompletionSource running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private KafkaStream? stream;

    public StreamService(IOptions<KafkaOptions> kafka, KafkaEnvironment environment, TopologySettings settings, ISchemaRegistryClient registry, ProductionFailures productionFailures,
        ILoggerFactory loggerFactory)
    {
        this.productionFailures = productionFailures;
        this.kafka = kafka.Value;
        this.environment = environment;
        this.settings = settings;
        codec = new Codec(registry);
        this.loggerFactory = loggerFactory;
        logger = loggerFactory.CreateLogger<StreamService>();
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, settings, codec);
        Topology = builder.Build();
    }

    public Streamiz.Kafka.Net.Stream.Topology Topology { get; }

    /// <summary>How long stopping waits for the stream to commit and close its threads.</summary>
    public static TimeSpan CloseTimeout { get; } = TimeSpan.FromSeconds(30);

    public ServiceState State { get; private set; } = ServiceState.Starting;

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
        var config = StreamConfig();
        stream = kafka.CommitsOffsetsOutsideTransactions && config.Guarantee == ProcessingGuarantee.EXACTLY_ONCE
            ? new KafkaStream(Topology, config, new MockBrokerOffsets(config, loggerFactory.CreateLogger<MockBrokerOffsets>()))
            : new KafkaStream(Topology, config);
        stream.StateChanged += OnStateChanged;
        await stream.StartAsync(CancellationToken.None); // stopped by StopAsync, with a bound on how long closing may take
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (stream is not null)
        {
            stream.StateChanged -= OnStateChanged;
            var failed = State == ServiceState.Error;
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
        }
    }

    private StreamConfig StreamConfig()
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
            StateDir = kafka.StateDir,
            RocksDbConfigHandler = StoreMemory(kafka),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            Partitioner = Partitioner.Murmur2Random,
            Logger = StreamizLogging.Instance,
            // every processor dead-letters its own failures; these only see what escapes them
            DeserializationExceptionHandler = (_, record, e) => LogAndContinue("deserialization", record.Topic, record.Partition, record.Offset, e),
            // a lost output must not be committed past: the task fails; the instance says so (log, readiness, alert on the stream)
            ProductionExceptionHandler = productionFailures.Handle,
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
