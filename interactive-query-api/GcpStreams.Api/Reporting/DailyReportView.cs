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
/// <remarks>
/// The read path does no decoding and no sorting per request: each record is decoded once, as it is read, into its response
/// (<see cref="Endpoints.DailyReportResponse"/>), and a request takes a range of a sorted snapshot (by day, then channel) by
/// binary search; the snapshot is rebuilt at most once per batch of records read, by the first read after them.
/// </remarks>
public sealed class DailyReportView : IDisposable
{
    private readonly ConcurrentDictionary<string, Endpoints.DailyReportResponse> reports = new(StringComparer.Ordinal);
    private readonly Lock snapshotLock = new();
    private readonly ConcurrentDictionary<ResponseKey, (Endpoints.DailyReportResponse[] Snapshot, byte[] Body)> bodies = new();
    private Endpoints.DailyReportResponse[] snapshot = [];
    private int dirty;

    /// <summary>The most response bodies kept (the cache is emptied when it is full, and they are only reused for the same snapshot).</summary>
    public const int MaxCachedBodies = 256;
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

    /// <summary>
    /// The latest report of every (day, channel) from <paramref name="from"/> to <paramref name="to"/> (inclusive), by day then
    /// channel, as read (<see cref="Endpoints.DailyReportResponse.Final"/> is the record's flag: the caller adds the clock's).
    /// </summary>
    public IReadOnlyList<Endpoints.DailyReportResponse> Range(DateOnly from, DateOnly to, C.Channel? channel)
    {
        var all = Snapshot();
        var first = Domain.Reporting.BusinessDay.Format(from);
        var last = Domain.Reporting.BusinessDay.Format(to);
        var result = new List<Endpoints.DailyReportResponse>();
        for (var i = LowerBound(all, first); i < all.Length && string.CompareOrdinal(all[i].Day, last) <= 0; i++)
        {
            if (channel is null || all[i].Channel == channel.Value.ToString())
            {
                result.Add(all[i]);
            }
        }

        return result;
    }

    /// <summary>The latest report of one (day, channel), if read.</summary>
    public Endpoints.DailyReportResponse? Get(string day, C.Channel channel) => reports.GetValueOrDefault($"{day}|{channel}");

    /// <summary>
    /// The body of a response for <paramref name="key"/>, made by <paramref name="make"/> once per snapshot: a report read asked again
    /// while no record was read since is served from the bytes already made (no per-request serialization). The key must name
    /// everything the body depends on besides the snapshot (period, channel, the caller's access, the days made final by the clock).
    /// </summary>
    public byte[] Body(ResponseKey key, Func<byte[]> make)
    {
        ArgumentNullException.ThrowIfNull(make);
        var current = Snapshot();
        if (bodies.TryGetValue(key, out var cached) && ReferenceEquals(cached.Snapshot, current))
        {
            return cached.Body;
        }

        if (bodies.Count >= MaxCachedBodies)
        {
            bodies.Clear();
        }

        var body = make();
        bodies[key] = (current, body);
        return body;
    }

    /// <summary>Every report by day, then channel: the snapshot, rebuilt first if records were read since.</summary>
    private Endpoints.DailyReportResponse[] Snapshot()
    {
        if (Volatile.Read(ref dirty) == 0)
        {
            return Volatile.Read(ref snapshot);
        }

        lock (snapshotLock)
        {
            if (Interlocked.Exchange(ref dirty, 0) != 0)
            {
                var sorted = reports.Values.ToArray();
                Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Day, b.Day) is var d and not 0 ? d : string.CompareOrdinal(a.Channel, b.Channel));
                Volatile.Write(ref snapshot, sorted);
            }

            return snapshot;
        }
    }

    /// <summary>The index of the first report of a day not before <paramref name="day"/>.</summary>
    private static int LowerBound(Endpoints.DailyReportResponse[] sorted, string day)
    {
        var (lo, hi) = (0, sorted.Length);
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(sorted[mid].Day, day) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

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
            Volatile.Write(ref dirty, 1);
            return;
        }

        try
        {
            reports[key] = Endpoints.DailyReportResponse.From(codec.Decode(Topics.DailyReport, value));
            Volatile.Write(ref dirty, 1);
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

/// <summary>What a cached response body depends on besides the view's snapshot (<see cref="DailyReportView.Body"/>).</summary>
public readonly record struct ResponseKey(DateOnly From, DateOnly To, C.Channel? Channel, string Part, bool Csv, Endpoints.CallerAccess Access, int FinalByClock);

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
