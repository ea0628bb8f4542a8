using Confluent.Kafka;
using Confluent.Kafka.Admin;
using GcpStreams.Api.Hosting;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Observability;

/// <summary>
/// The stream's consumer lag per input partition, as Kafka sees it: every <see cref="Interval"/> once the stream runs, the
/// group's committed offsets (<c>Kafka:ApplicationId</c>) against the partitions' last stable offsets. librdkafka's own
/// statistics cannot say it under exactly-once (the offsets are committed by the transactional producers, so the consumer
/// reports -1). The embedded broker keeps no transactional offset commits either: in embedded mode the lag shows only with
/// <c>Kafka:ProcessingGuarantee=AtLeastOnce</c>. Every instance reports every partition of the group, so aggregate with <c>max</c>, not <c>sum</c>.
/// One metadata and two admin requests per interval (<c>Telemetry:ConsumerLagIntervalSeconds</c>, default 15); failures are logged at Debug and the last values kept until the next success.
/// </summary>
public sealed partial class ConsumerLagMonitor(
    StreamService stream, KafkaEnvironment environment, IOptions<KafkaOptions> kafka, IConfiguration configuration, ILogger<ConsumerLagMonitor> logger) : BackgroundService
{
    /// <summary>How often the lag is measured.</summary>
    public TimeSpan Interval { get; } = TimeSpan.FromSeconds(configuration.GetValue("Telemetry:ConsumerLagIntervalSeconds", 15.0) is var s && s >= 0.1 ? s
        : throw new InvalidOperationException("Telemetry:ConsumerLagIntervalSeconds must be at least 0.1"));

    private volatile IReadOnlyDictionary<TopicPartition, long> lags = new Dictionary<TopicPartition, long>();

    /// <summary>The lag of each partition the group has committed offsets for, as of the last successful look.</summary>
    public IReadOnlyDictionary<TopicPartition, long> Lags => lags;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stream.WhenRunning.WaitAsync(stoppingToken);
        IAdminClient admin;
        try
        {
            var config = new AdminClientConfig { BootstrapServers = environment.BootstrapServers };
            foreach (var (key, value) in ReadModelHosting.ConsumerSettings(kafka.Value))
            {
                config.Set(key, value);
            }

            admin = new AdminClientBuilder(config).SetLogHandler((_, m) => LogAdmin(logger, m.Message)).Build();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e.Message); // a metric must never stop the service
            return;
        }

        using (admin)
        {
            var topics = SourceTopics(stream.Topology);
            using var timer = new PeriodicTimer(Interval);
            do
            {
                try
                {
                    lags = await MeasureAsync(admin, kafka.Value.ApplicationId, topics, stoppingToken);
                    LogMeasured(logger, lags.Count);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
    }

    /// <summary>The topics the stream threads consume (inputs and internal repartition topics; not the global store's).</summary>
    internal static IReadOnlyList<string> SourceTopics(Streamiz.Kafka.Net.Stream.Topology topology) =>
        [.. topology.Describe().SubTopologies.SelectMany(s => s.Nodes).OfType<Streamiz.Kafka.Net.Stream.ISourceNodeDescription>()
            .SelectMany(n => n.Topics).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    internal static async Task<Dictionary<TopicPartition, long>> MeasureAsync(IAdminClient admin, string group, IReadOnlyList<string> topics, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(10);
        var partitions = admin.GetMetadata(timeout).Topics
            .Where(t => t.Error.Code == ErrorCode.NoError && topics.Contains(t.Topic, StringComparer.Ordinal))
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))
            .ToList();
        if (partitions.Count == 0)
        {
            return [];
        }

        var committed = (await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = timeout }).WaitAsync(cancellationToken))
            .SelectMany(g => g.Partitions)
            .Where(p => p.Error.Code == ErrorCode.NoError && p.Offset.Value >= 0)
            .ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
        if (committed.Count == 0)
        {
            return [];
        }

        var ends = await admin.ListOffsetsAsync(
                committed.Keys.Select(tp => new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = OffsetSpec.Latest() }),
                new ListOffsetsOptions { IsolationLevel = IsolationLevel.ReadCommitted, RequestTimeout = timeout })
            .WaitAsync(cancellationToken);
        return ends.ResultInfos
            .Where(r => r.TopicPartitionOffsetError.Error.Code == ErrorCode.NoError && committed.ContainsKey(r.TopicPartitionOffsetError.TopicPartition))
            .ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition,
                r => Math.Max(0, r.TopicPartitionOffsetError.Offset.Value - committed[r.TopicPartitionOffsetError.TopicPartition]));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Consumer lag: {Message}")]
    private static partial void LogAdmin(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Consumer lag measured on {Partitions} partitions with committed offsets")]
    private static partial void LogMeasured(ILogger logger, int partitions);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Consumer lag could not be measured: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
