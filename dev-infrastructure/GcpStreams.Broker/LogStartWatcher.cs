using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Broker;

/// <summary>A partition whose log start moved: the mock broker dropped its oldest records.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Role">What the topic is to the service: input, output, internal or changelog.</param>
/// <param name="Previous">The log start seen before (0 at first).</param>
/// <param name="LogStart">The new log start: the first offset still there.</param>
internal sealed record LogStartMove(string Topic, int Partition, string Role, long Previous, long LogStart);

/// <summary>
/// Reads every partition's log start (ListOffsets earliest, through a consumer's watermark query) every interval and warns,
/// naming the topic, the partition and the new log start, each time one moves above where it was: librdkafka's mock cluster
/// keeps at most 5 MiB or 100,000 batches per partition and silently drops the oldest beyond that, so a changelog can no
/// longer restore its store, and an input or output can no longer be replayed from its beginning.
/// </summary>
internal sealed partial class LogStartWatcher : IAsyncDisposable
{
    private readonly IConsumer<byte[], byte[]> consumer;
    private readonly IReadOnlyList<(TopicPartition Partition, string Role)> partitions;
    private readonly Dictionary<TopicPartition, long> seen = [];
    private readonly TimeSpan interval;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private readonly Lock gate = new();
    private long checks;

    public LogStartWatcher(string bootstrapServers, IEnumerable<(string Topic, int Partitions, string Role)> topics, TimeSpan interval, ILogger logger)
    {
        this.interval = interval;
        this.logger = logger;
        partitions = [.. topics.SelectMany(t => Enumerable.Range(0, t.Partitions).Select(p => (new TopicPartition(t.Topic, p), t.Role)))];
        consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-broker-log-start", // never joins: watermark queries only
            EnableAutoCommit = false,
        }).SetLogHandler((_, m) => LogClient(logger, m.Message)).Build();
        loop = RunAsync();
    }

    /// <summary>Raised, on the watcher's task, for every move it warned about.</summary>
    public event Action<LogStartMove>? Moved;

    /// <summary>How many checks of every partition have completed.</summary>
    public long Checks => Interlocked.Read(ref checks);

    /// <summary>Reads every partition's log start once now; warns for each that moved. Returns the moves.</summary>
    public IReadOnlyList<LogStartMove> CheckNow()
    {
        lock (gate)
        {
            return Check();
        }
    }

    private List<LogStartMove> Check()
    {
        var moves = new List<LogStartMove>();
        foreach (var (partition, role) in partitions)
        {
            long low;
            try
            {
                low = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(5)).Low.Value;
            }
            catch (KafkaException e)
            {
                LogCheckFailed(logger, partition.Topic, partition.Partition.Value, e.Error.Reason);
                continue;
            }

            var previous = seen.GetValueOrDefault(partition);
            if (low > previous)
            {
                seen[partition] = low;
                var move = new LogStartMove(partition.Topic, partition.Partition.Value, role, previous, low);
                LogMoved(logger, move.Topic, move.Partition, move.LogStart, move.Previous, move.Role, Consequence(role));
                moves.Add(move);
                Moved?.Invoke(move);
            }
        }

        Interlocked.Increment(ref checks);
        return moves;
    }

    private static string Consequence(string role) => role switch
    {
        "changelog" => "a state store restored from it would miss those records: do not restart or add service instances on this broker",
        "input" => "a replay of this input from its beginning would miss them",
        "internal" => "records not yet processed from it are lost",
        _ => "readers from the beginning (the read model of a new instance, BI, ledger-check) miss them",
    };

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                await Task.Run(CheckNow, stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        consumer.Close();
        consumer.Dispose();
        stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log start of {Topic}[{Partition}] moved to offset {LogStart} (was {Previous}): the embedded broker "
        + "dropped the oldest records of this {Role} topic (at most 5 MiB or 100,000 batches per partition); {Consequence}")]
    private static partial void LogMoved(ILogger logger, string topic, int partition, long logStart, long previous, string role, string consequence);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the log start of {Topic}[{Partition}]: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "log-start consumer: {Message}")]
    private static partial void LogClient(ILogger logger, string message);
}
