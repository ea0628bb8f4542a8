using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Reporting;

/// <summary>
/// This instance's copy of the BI daily marts: the compacted <c>GiftCertificates.DailyReport</c> read from its beginning into
/// memory, the latest record per key (<c>{day}|{channel}</c>). Any instance answers <c>GET /reports/daily</c> from it, as with the
/// certificate read model (no routing between instances). Small: one record per day and channel.
/// </summary>
public sealed class DailyReportView : IDisposable
{
    private readonly ConcurrentDictionary<string, C.DailyReport> reports = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<IConsumer<byte[], byte[]>> consumers;
    private readonly Codec codec;
    private readonly ILogger<DailyReportView> logger;
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? stop;
    private Task? loop;

    public DailyReportView(KafkaEnvironment environment, IOptions<KafkaOptions> kafka, ISchemaRegistryClient registry, ILogger<DailyReportView> logger)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(kafka);
        this.logger = logger;
        codec = new Codec(registry);
        var options = kafka.Value;
        consumers = () =>
        {
            var config = new ConsumerConfig(ReadModelHosting.ConsumerSettings(options).ToDictionary(e => e.Key, e => e.Value))
            {
                BootstrapServers = environment.BootstrapServers,
                GroupId = $"{options.ApplicationId}-daily-report-view-{Guid.NewGuid():N}", // never committed: assigned partitions only
                EnableAutoCommit = false,
                EnableAutoOffsetStore = false,
                IsolationLevel = IsolationLevel.ReadCommitted,
                FetchWaitMaxMs = options.FetchWaitMaxMs,
                AllowAutoCreateTopics = false,
            };
            return new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        };
    }

    /// <summary>Completes once the view has read the topic up to where it ended when the view started.</summary>
    public Task WhenCaughtUp => caughtUp.Task;

    /// <summary>Whether the view has caught up (reads before that may miss days).</summary>
    public bool IsCaughtUp => caughtUp.Task.IsCompletedSuccessfully;

    /// <summary>Reports read so far.</summary>
    public int Count => reports.Count;

    /// <summary>The latest report of every (day, channel) from <paramref name="from"/> to <paramref name="to"/> (inclusive), by day then channel.</summary>
    public IReadOnlyList<C.DailyReport> Range(DateOnly from, DateOnly to, C.Channel? channel)
    {
        var first = Domain.Reporting.BusinessDay.Format(from);
        var last = Domain.Reporting.BusinessDay.Format(to);
        return [.. reports.Values
            .Where(r => string.CompareOrdinal(r.day, first) >= 0 && string.CompareOrdinal(r.day, last) <= 0 && (channel is null || r.channel == channel))
            .OrderBy(r => r.day, StringComparer.Ordinal).ThenBy(r => r.channel.ToString(), StringComparer.Ordinal)];
    }

    /// <summary>The latest report of one (day, channel), if read.</summary>
    public C.DailyReport? Get(string day, C.Channel channel) => reports.GetValueOrDefault($"{day}|{channel}");

    /// <summary>
    /// Waits until <paramref name="condition"/> holds on the view (checked now and after every record read), at most
    /// <paramref name="timeout"/>; false when it did not. For tests and the freshness benchmark: no polling interval.
    /// </summary>
    public async Task<bool> WaitForAsync(Func<DailyReportView, bool> condition, TimeSpan timeout, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var next = Volatile.Read(ref changed).Task;
            if (condition(this))
            {
                return true;
            }

            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                return condition(this);
            }
        }
    }

    /// <summary>Starts reading (the topic must exist).</summary>
    public void Start()
    {
        stop = new CancellationTokenSource();
        var token = stop.Token;
        loop = Task.Factory.StartNew(() => Run(token), token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public async Task StopAsync()
    {
        if (stop is null || loop is null)
        {
            return;
        }

        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Run(CancellationToken token)
    {
        try
        {
            using var consumer = consumers();
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var topic = Topics.DailyReport.Name;
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(30)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
            var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(30)).High.Value);
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            CheckCaughtUp(consumer, ends);
            while (!token.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result?.Message is { } message)
                {
                    Apply(message);
                }

                if (!caughtUp.Task.IsCompleted)
                {
                    CheckCaughtUp(consumer, ends);
                }
            }

            consumer.Close();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "The daily report view stopped reading {Topic}", Topics.DailyReport.Name);
            caughtUp.TrySetException(e);
        }
    }

    private void Apply(Message<byte[], byte[]> message)
    {
        var key = message.Key is null ? null : System.Text.Encoding.UTF8.GetString(message.Key);
        if (key is null)
        {
            return;
        }

        if (message.Value is not { Length: > 0 } value)
        {
            reports.TryRemove(key, out _); // a tombstone: the day is gone
            return;
        }

        try
        {
            reports[key] = codec.Decode(Topics.DailyReport, value);
            Interlocked.Exchange(ref changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Skipped an undecodable daily report {Key}", key);
        }
    }

    private void CheckCaughtUp(IConsumer<byte[], byte[]> consumer, Dictionary<TopicPartition, long> ends)
    {
        if (ends.All(e => e.Value == 0 || consumer.Position(e.Key).Value >= e.Value))
        {
            caughtUp.TrySetResult();
        }
    }

    public void Dispose() => stop?.Dispose();
}

/// <summary>Starts the daily report view once the stream is RUNNING (the topics exist then), and stops it with the host.</summary>
public sealed class DailyReportViewStartup(StreamService stream, DailyReportView view) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stream.WhenRunning.WaitAsync(stoppingToken);
        view.Start();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await view.StopAsync();
    }
}

public static class DailyReportHosting
{
    public static IServiceCollection AddGcpReports(this IServiceCollection services)
    {
        services.AddSingleton<DailyReportView>();
        services.AddHostedService<DailyReportViewStartup>();
        return services;
    }
}
