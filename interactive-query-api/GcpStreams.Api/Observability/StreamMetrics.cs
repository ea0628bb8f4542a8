using System.Diagnostics.Metrics;
using System.Globalization;
using GcpStreams.Api.Hosting;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Metrics;

namespace GcpStreams.Api.Observability;

/// <summary>
/// What the running stream tells, as observable instruments read at each scrape (meter <see cref="MeterName"/>):
/// <list type="bullet">
/// <item><c>gcp_stream_state{state}</c>: 1 for the instance's current state (<see cref="ServiceState"/>: Running, Rebalancing,
///   WaitingForKafka, Error…), 0 for the others. Streamiz derives it from its stream threads' states (any thread in error
///   makes it Error, any rebalancing makes it Rebalancing);</item>
/// <item><c>gcp_stream_threads</c>: stream threads of this instance reporting metrics (a thread that died stops reporting);</item>
/// <item><c>gcp_stream_consumer_lag_records{topic, partition}</c>: per partition the stream consumes (inputs and internal topics),
///   committed offset to end, by <see cref="ConsumerLagMonitor"/>;</item>
/// <item><c>gcp_stream_commit_latency_avg_seconds</c>, <c>gcp_stream_commit_latency_max_seconds</c> (per thread): commit duration;</item>
/// <item><c>gcp_stream_restoring_tasks</c>, <c>gcp_stream_restore_remaining_records</c>: restore progress of the state stores on start.</item>
/// </list>
/// The values come from <see cref="KafkaStream.Metrics"/> (Streamiz's sensors, with librdkafka's statistics exposed); nothing is
/// reported before the stream exists.
/// </summary>
public sealed class StreamMetrics : IDisposable
{
    public const string MeterName = "GcpStreams.Stream";

    /// <summary>How often librdkafka reports its statistics (consumer lag), in ms.</summary>
    public const int StatisticsIntervalMs = 5_000;

    private readonly StreamService stream;
    private readonly ConsumerLagMonitor lagMonitor;
    private readonly Meter meter = new(MeterName);

    public StreamMetrics(StreamService stream, ConsumerLagMonitor lagMonitor)
    {
        this.stream = stream;
        this.lagMonitor = lagMonitor;
        meter.CreateObservableGauge("gcp.stream.state", States, description: "1 for the stream's current state (Starting, WaitingForKafka, Rebalancing, Running, Error, Stopped), 0 for the others.");
        meter.CreateObservableGauge("gcp.stream.threads", () => Threads(), description: "Stream threads of this instance reporting metrics.");
        meter.CreateObservableGauge("gcp.stream.consumer_lag_records", ConsumerLag, description: "Records between the group's committed offset and the end (last stable offset) of each partition the stream consumes.");
        meter.CreateObservableGauge("gcp.stream.commit_latency_avg", () => ThreadMetric("commit-latency-avg", 0.001), unit: "s", description: "Average commit duration per stream thread.");
        meter.CreateObservableGauge("gcp.stream.commit_latency_max", () => ThreadMetric("commit-latency-max", 0.001), unit: "s", description: "Longest commit duration per stream thread.");
        meter.CreateObservableGauge("gcp.stream.restoring_tasks", () => Sum("active-restoration"), description: "Active tasks restoring their state stores from the changelogs.");
        meter.CreateObservableGauge("gcp.stream.restore_remaining_records", () => Sum("restoration-records"), description: "Changelog records still to restore before the tasks run.");
    }

    /// <summary>Makes Streamiz expose librdkafka's statistics through its sensors (for <see cref="Describe"/>; the lag comes from <see cref="ConsumerLagMonitor"/>).</summary>
    public static void Configure(StreamConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.ExposeLibrdKafkaStats = true;
        config.StatisticsIntervalMs = StatisticsIntervalMs;
    }

    public void Dispose() => meter.Dispose();

    private IEnumerable<Measurement<int>> States()
    {
        var now = stream.State;
        return Enum.GetValues<ServiceState>().Select(s => new Measurement<int>(s == now ? 1 : 0, new KeyValuePair<string, object?>("state", s.ToString())));
    }

    private IEnumerable<StreamMetric> All()
    {
        List<Sensor> sensors;
        try
        {
            sensors = stream.Stream?.Metrics().ToList() ?? [];
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException)
        {
            yield break; // the stream is starting or closing
        }

        foreach (var sensor in sensors)
        {
            foreach (var metric in sensor.Metrics.Values)
            {
                yield return metric;
            }
        }
    }

    private int Threads() => All()
        .Select(m => m.Tags.TryGetValue(StreamMetricsRegistry.THREAD_ID_TAG, out var t) ? t : null)
        .Where(t => t is not null && t.Contains(StreamThreadMarker, StringComparison.Ordinal)).Distinct().Count();

    private IEnumerable<Measurement<long>> ConsumerLag() =>
        lagMonitor.Lags.Select(l => new Measurement<long>(l.Value,
            new KeyValuePair<string, object?>("topic", l.Key.Topic), new KeyValuePair<string, object?>("partition", l.Key.Partition.Value.ToString(CultureInfo.InvariantCulture))));

    private IEnumerable<Measurement<double>> ThreadMetric(string name, double scale) =>
        All().Where(m => m.Name == name && m.Tags.ContainsKey(StreamMetricsRegistry.THREAD_ID_TAG))
            .Select(m => (Thread: m.Tags[StreamMetricsRegistry.THREAD_ID_TAG], Value: Number(m.Value)))
            .Where(m => m.Value is { } v && !double.IsNaN(v) && !double.IsInfinity(v))
            .GroupBy(m => m.Thread)
            .Select(g => new Measurement<double>(g.Max(m => m.Value!.Value) * scale, new KeyValuePair<string, object?>("thread", ThreadLabel(g.Key))));

    private double Sum(string name) => All().Where(m => m.Name == name).Select(m => Number(m.Value)).Where(v => v is { } d && !double.IsNaN(d)).Sum(v => v!.Value);

    private const string StreamThreadMarker = "-stream-thread-";

    /// <summary>The thread's number (<c>…-stream-thread-0</c> → <c>0</c>): the client id before it names the host.</summary>
    private static string ThreadLabel(string threadId)
    {
        var at = threadId.LastIndexOf(StreamThreadMarker, StringComparison.Ordinal);
        return at >= 0 ? threadId[(at + StreamThreadMarker.Length)..] : threadId;
    }

    private static double? Number(object? value) => value switch
    {
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    /// <summary>Every Streamiz metric as "group/name {tags} = value" (a diagnostic for operators and tests).</summary>
    internal IEnumerable<string> Describe() =>
        All().Select(m => $"{m.Group}/{m.Name} {{{string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}"))}}} = {m.Value}");
}
