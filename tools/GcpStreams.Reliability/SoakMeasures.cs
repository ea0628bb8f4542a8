using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;

namespace GcpStreams.Reliability;

/// <summary>Latencies the customers saw, by kind, since the last sample (<see cref="Drain"/>).</summary>
internal sealed class Latencies
{
    public const string Reservation = "reservation";
    public const string Payment = "payment";

    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> byKind = new(StringComparer.Ordinal);

    public void Add(string kind, TimeSpan latency) => byKind.GetOrAdd(kind, _ => new ConcurrentQueue<double>()).Enqueue(latency.TotalMilliseconds);

    /// <summary>The latencies (ms) of <paramref name="kind"/> recorded since the last drain, sorted; the next interval starts empty.</summary>
    public double[] Drain(string kind)
    {
        var values = new List<double>();
        if (byKind.TryGetValue(kind, out var queue))
        {
            while (queue.TryDequeue(out var value))
            {
                values.Add(value);
            }
        }

        values.Sort();
        return [.. values];
    }

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0–100) of sorted values; NaN when there are none.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>One soak sample: minutes since the traffic started, the instances' RSS, the interval's latencies, the largest partition.</summary>
internal sealed record SoakSample(
    double Minutes,
    IReadOnlyList<double> RssMiB,
    int Reservations,
    double ReservationP50,
    double ReservationP99,
    int Payments,
    double PaymentP50,
    double PaymentP99,
    string LargestPartition,
    double LargestPartitionMiB,
    int PartitionsTrimmed,
    double BrokerCores = double.NaN,
    IReadOnlyList<double>? InstanceCores = null)
{
    /// <summary>The interval's reservation latencies (ms, sorted): the verdict pools them over windows (not in the CSV).</summary>
    public double[] ReservationLatencies { get; init; } = [];

    /// <summary>The interval's payment latencies (ms, sorted).</summary>
    public double[] PaymentLatencies { get; init; } = [];

    public const string CsvHeader = "minutes,rss_mib,reservations,reservation_p50_ms,reservation_p99_ms,payments,payment_p50_ms,payment_p99_ms,largest_partition,largest_partition_mib,partitions_trimmed,broker_cores,instance_cores";

    public string Csv() => string.Join(',',
        F(Minutes), string.Join(';', RssMiB.Select(F)), Reservations.ToString(CultureInfo.InvariantCulture), F(ReservationP50), F(ReservationP99),
        Payments.ToString(CultureInfo.InvariantCulture), F(PaymentP50), F(PaymentP99), LargestPartition, F(LargestPartitionMiB), PartitionsTrimmed.ToString(CultureInfo.InvariantCulture),
        F(BrokerCores), string.Join(';', (InstanceCores ?? []).Select(F)));

    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"{Minutes,7:F1} | {string.Join(" ", RssMiB.Select(r => r.ToString("F0", CultureInfo.InvariantCulture))),11} | {Reservations,5} {ReservationP50,7:F0} {ReservationP99,7:F0} | {Payments,5} {PaymentP50,7:F0} {PaymentP99,7:F0} | {BrokerCores,6:F2} {string.Join(" ", (InstanceCores ?? []).Select(c => c.ToString("F2", CultureInfo.InvariantCulture))),9} | {LargestPartition} {LargestPartitionMiB:F2} MiB ({LargestPartitionMiB / SoakVerdict.PartitionLimitMiB:P0}), trimmed {PartitionsTrimmed}");

    public const string RowHeader = "    min |     RSS MiB | resv   p50 ms  p99 ms |  pays  p50 ms  p99 ms | cores: broker instances | largest partition (of the embedded broker's 5 MiB)";

    private static string F(double value) => double.IsNaN(value) ? string.Empty : value.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>A series' linear trend and whether it is flat: its fitted rise over the judged window within the bound.</summary>
internal sealed record Trend(string Name, string Unit, int Points, double SlopePerMinute, double Mean, double Change, double Bound)
{
    public bool Judged => Points >= SoakVerdict.MinimumPoints;

    /// <summary>No growth beyond the bound over the window: a series that falls (early spikes fading, a cache trimmed) is not a regression.</summary>
    public bool Flat => Judged && Change <= Bound;

    public override string ToString() => Judged
        ? string.Create(CultureInfo.InvariantCulture,
            $"{Name}: slope {SlopePerMinute:+0.00;-0.00} {Unit}/min, fitted change {Change:+0.0;-0.0} {Unit} over the window (mean {Mean:F1} {Unit}, rise allowed {Bound:F1} {Unit}): {(Flat ? "flat" : "NOT flat")}")
        : string.Create(CultureInfo.InvariantCulture, $"{Name}: {Points} sample(s) after the warm-up, too few to judge (at least {SoakVerdict.MinimumPoints})");
}

/// <summary>
/// The soak's verdict. After a warm-up (the first <see cref="WarmUpMinutes"/> minutes, or the first fifth of a shorter run:
/// JIT, caches and the read model filling), each series gets a least-squares line over the samples; it is flat when the
/// line's rise over the judged window is within <see cref="RelativeBound"/> of the series' mean or an absolute floor
/// (<see cref="RssFloorMiB"/> for RSS, <see cref="P99FloorMs"/> for a p99), whichever is larger (a soak looks for what grows with
/// time: a falling line is flat). The run is "flat" when the RSS of every instance and the p99 of reservations and of payments are.
/// A p99 series is not the samples' own p99s: at a soak's rate a 10-second interval holds a few dozen latencies, whose "p99" is
/// their maximum, one stray spike; the latencies are pooled over windows of at least <see cref="P99Window"/> minutes instead, each
/// with at least <see cref="MinimumLatencies"/> of them (a p99 then has a hundredth of the window above it).
/// </summary>
internal static class SoakVerdict
{
    public const double WarmUpMinutes = 2;
    public const double RelativeBound = 0.10;
    public const double RssFloorMiB = 32;
    public const double P99FloorMs = 50;
    public const int MinimumPoints = 3;
    public const double PartitionLimitMiB = 5;
    public const int MinimumLatencies = 200;

    /// <summary>The window a p99 point pools: a sixth of the run, 1 to 5 minutes (5 in a 30-minute soak: five or six points).</summary>
    public static double P99Window(double runMinutes) => Math.Clamp(runMinutes / 6, 1, 5);

    /// <summary>
    /// The p99 of the latencies pooled over consecutive windows after the warm-up, at each window's mean minute: a window closes
    /// once it spans <see cref="P99Window"/> minutes and holds at least <see cref="MinimumLatencies"/> latencies, so a slow rate
    /// gets longer windows rather than none; a short tail with fewer latencies is left out.
    /// </summary>
    public static IEnumerable<(double Minutes, double Value)> PooledP99(IEnumerable<(double Minutes, double[] Latencies)> samples, double runMinutes)
    {
        var warmUp = WarmUp(runMinutes);
        var window = P99Window(runMinutes);
        var pooled = new List<double>();
        var minutes = new List<double>();
        double? start = null;
        foreach (var (minute, latencies) in samples.Where(s => s.Minutes >= warmUp).OrderBy(s => s.Minutes))
        {
            start ??= minute;
            pooled.AddRange(latencies);
            minutes.Add(minute);
            if (minute - start.Value >= window - 1e-9 && pooled.Count >= MinimumLatencies)
            {
                yield return Point(minutes, pooled);
                pooled.Clear();
                minutes.Clear();
                start = null;
            }
        }

        if (pooled.Count >= MinimumLatencies)
        {
            yield return Point(minutes, pooled);
        }

        static (double Minutes, double Value) Point(List<double> minutes, List<double> pooled)
        {
            pooled.Sort();
            return (minutes.Average(), Latencies.Percentile([.. pooled], 99));
        }
    }

    /// <summary>Least squares: the slope and intercept of y over x; slope 0 for fewer than two distinct x.</summary>
    public static (double Slope, double Intercept) Fit(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count == 0)
        {
            return (0, double.NaN);
        }

        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        if (sxx == 0)
        {
            return (0, meanY);
        }

        var slope = points.Sum(p => (p.X - meanX) * (p.Y - meanY)) / sxx;
        return (slope, meanY - (slope * meanX));
    }

    /// <summary>The minutes after which samples are judged: <see cref="WarmUpMinutes"/>, or a fifth of a shorter run.</summary>
    public static double WarmUp(double runMinutes) => Math.Min(WarmUpMinutes, runMinutes / 5);

    /// <summary>One series' trend over the samples after the warm-up (NaN values, intervals without a measure, are left out).</summary>
    public static Trend Judge(string name, string unit, IEnumerable<(double Minutes, double Value)> samples, double runMinutes, double floor)
    {
        var warmUp = WarmUp(runMinutes);
        var points = samples.Where(s => s.Minutes >= warmUp && !double.IsNaN(s.Value)).ToList();
        if (points.Count < MinimumPoints)
        {
            return new Trend(name, unit, points.Count, 0, points.Count == 0 ? double.NaN : points.Average(p => p.Value), 0, floor);
        }

        var (slope, _) = Fit(points);
        var mean = points.Average(p => p.Value);
        var window = points.Max(p => p.Minutes) - points.Min(p => p.Minutes);
        return new Trend(name, unit, points.Count, slope, mean, slope * window, Math.Max(RelativeBound * Math.Abs(mean), floor));
    }

    /// <summary>Every judged series of a run: each instance's RSS, the reservations' and the payments' p99.</summary>
    public static IReadOnlyList<Trend> Judge(IReadOnlyList<SoakSample> samples, double runMinutes)
    {
        var trends = new List<Trend>();
        var instances = samples.Count == 0 ? 0 : samples.Max(s => s.RssMiB.Count);
        for (var i = 0; i < instances; i++)
        {
            var index = i;
            trends.Add(Judge($"RSS of instance {(char)('a' + i)}", "MiB",
                samples.Select(s => (s.Minutes, index < s.RssMiB.Count ? s.RssMiB[index] : double.NaN)), runMinutes, RssFloorMiB));
        }

        trends.Add(Judge("reservation p99", "ms", PooledP99(samples.Select(s => (s.Minutes, s.ReservationLatencies)), runMinutes), runMinutes, P99FloorMs));
        trends.Add(Judge("payment p99", "ms", PooledP99(samples.Select(s => (s.Minutes, s.PaymentLatencies)), runMinutes), runMinutes, P99FloorMs));
        return trends;
    }

    /// <summary>"flat" when every series was judged and is flat, else "NOT flat".</summary>
    public static string Of(IReadOnlyList<Trend> trends) => trends.Count > 0 && trends.All(t => t.Flat) ? "flat" : "NOT flat";
}

/// <summary>
/// The size of every partition on the broker, as the embedded broker counts it against its 5 MiB: every record read
/// (read_uncommitted: the broker keeps aborted and open transactions' records too) from each partition's log start, its key,
/// value and headers plus <see cref="RecordOverheadBytes"/> (an upper estimate: each record taken as a batch of its own);
/// records below a partition's log start (trimmed by the broker) no longer count.
/// <para>
/// Read in a sweep at each sample, the partitions paused in between: the embedded broker finds a fetch's first batch by walking
/// the partition's log from its start, so a reader following every partition's tail (one fetch per new batch) would add a walk
/// of the whole log per batch written anywhere, a broker load that grows with the logs and that the soak would then measure
/// as the service's latency creeping. A sweep costs one walk per partition and fetch.
/// </para>
/// </summary>
internal sealed class PartitionSizes : IDisposable
{
    /// <summary>A record batch's header (61 bytes) and a record's own framing (about 9).</summary>
    public const int RecordOverheadBytes = 70;

    private static readonly TimeSpan SweepBound = TimeSpan.FromSeconds(20);

    private readonly IConsumer<byte[], byte[]> consumer;
    private readonly List<TopicPartition> partitions;
    private readonly Dictionary<TopicPartition, Queue<(long Offset, int Bytes)>> records = [];
    private readonly Dictionary<TopicPartition, long> bytes = [];
    private readonly Dictionary<TopicPartition, long> readUpTo = []; // the end offset at the partition's last end of partition

    public PartitionSizes(string bootstrapServers)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        partitions = [.. admin.GetMetadata(TimeSpan.FromSeconds(30)).Topics.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))];
        consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-reliability-soak-sizes",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadUncommitted,
            AutoOffsetReset = AutoOffsetReset.Earliest, // a partition trimmed under the reader goes on from its log start
            EnablePartitionEof = true,
            FetchWaitMaxMs = 100,
        }).Build();
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        consumer.Pause(partitions);
    }

    public int Partitions => partitions.Count;

    /// <summary>Reads what was written since the last call; then the largest partition, its size in MiB, and how many partitions the broker has trimmed (log start above 0).</summary>
    public (string Partition, double MiB, int Trimmed) Largest()
    {
        var trimmed = 0;
        var behind = new HashSet<TopicPartition>();
        foreach (var partition in partitions)
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10));
            if (watermarks.Low.Value > 0)
            {
                trimmed++;
                Forget(partition, below: watermarks.Low.Value);
            }

            if (watermarks.High.Value > readUpTo.GetValueOrDefault(partition))
            {
                behind.Add(partition);
            }
        }

        Sweep(behind);
        if (bytes.Count == 0)
        {
            return ("-", 0, trimmed);
        }

        var largest = bytes.MaxBy(b => b.Value);
        return ($"{largest.Key.Topic}[{largest.Key.Partition.Value}]", largest.Value / 1024.0 / 1024.0, trimmed);
    }

    /// <summary>Resumes the partitions with records not read yet and reads each to its end (or for <see cref="SweepBound"/>: the rest comes next time).</summary>
    private void Sweep(HashSet<TopicPartition> behind)
    {
        if (behind.Count == 0)
        {
            return;
        }

        consumer.Resume(behind);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (behind.Count > 0 && clock.Elapsed < SweepBound)
        {
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException)
            {
                continue; // e.g. a record trimmed while it was fetched: the next fetch goes on from the log start
            }

            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                readUpTo[result.TopicPartition] = result.Offset.Value;
                behind.Remove(result.TopicPartition);
                consumer.Pause([result.TopicPartition]);
                continue;
            }

            var message = result.Message;
            var size = (message.Key?.Length ?? 0) + (message.Value?.Length ?? 0) + RecordOverheadBytes
                + (message.Headers?.Sum(h => h.Key.Length + (h.GetValueBytes()?.Length ?? 0)) ?? 0);
            if (!records.TryGetValue(result.TopicPartition, out var queue))
            {
                records[result.TopicPartition] = queue = new Queue<(long, int)>();
                bytes[result.TopicPartition] = 0;
            }

            queue.Enqueue((result.Offset.Value, size));
            bytes[result.TopicPartition] += size;
        }

        consumer.Pause(behind);
    }

    private void Forget(TopicPartition partition, long below)
    {
        if (!records.TryGetValue(partition, out var queue))
        {
            return;
        }

        while (queue.TryPeek(out var record) && record.Offset < below)
        {
            queue.Dequeue();
            bytes[partition] -= record.Bytes;
        }
    }

    public void Dispose()
    {
        consumer.Close();
        consumer.Dispose();
    }
}
