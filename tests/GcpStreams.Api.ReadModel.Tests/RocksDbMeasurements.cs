using System.Diagnostics;
using Avro.IO;
using Avro.Specific;
using GcpStreams.Contracts;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

/// <summary>
/// The RocksDB read model with 1 000 000 issued certificates (<c>GCP_MEASURE_CERTIFICATES</c>): each one's state and 3 events
/// encoded to Avro and decoded again (as the consumer does), applied in batches of 1 000 records with their positions (as the
/// consumer does), default sizes (block cache 64 MiB, memtables 16 MiB). Prints the load rate, the managed heap and the
/// process's RSS (<c>/proc/self/status</c>) after loading, and lookup / history / search latencies. Explicit
/// (<c>--filter TestCategory=Measurement</c>): prints numbers, asserts no timing.
/// </summary>
/// <remarks>
/// 2026-11-30, 2-core container shared with other builds (load 8-10): 1 M loaded in 100 s (10 k certificates/s); heap 80 MiB
/// (53 of it the test's ids), RSS 463 MiB; lookup p50 24 / p99 94 µs, history 73 / 357 µs, pages 2 µs-5 ms, a page spending its
/// 20 000-candidate budget ~0.2 s (README "Costs", docs/benchmarks.md).
/// </remarks>
[Explicit("measurement: loads 1,000,000 certificates into the RocksDB read model")]
[Category("Measurement")]
public class RocksDbMeasurements
{
    [Test]
    public void OneMillionIssuedCertificates_LoadMemoryAndLatencies()
    {
        var n = int.TryParse(Environment.GetEnvironmentVariable("GCP_MEASURE_CERTIFICATES"), out var configured) ? configured : 1_000_000;
        var directory = Directory.CreateTempSubdirectory("gcp-read-model-measure-").FullName;
        try
        {
            Run(n, directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Run(int n, string directory)
    {
        var statuses = new[] { CertificateStatus.ACTIVE, CertificateStatus.PARTIALLY_REDEEMED, CertificateStatus.EXHAUSTED, CertificateStatus.CANCELLED };
        var channels = new[] { Channel.POS, Channel.INTERNET_STORE, Channel.MOBILE_APP, Channel.CALL_CENTER, Channel.PARTNER };
        var ids = new string[n];
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(true);
        var (rssBefore, _) = Rss();
        using var store = new ReadModelStore(storage: new ReadModelStorage(directory));
        var clock = Stopwatch.StartNew();
        var batch = new List<ReadModelStore.Change>(1_000);
        long offset = 0;
        long applyTicks = 0;
        for (var i = 0; i < n; i++)
        {
            var id = $"{(uint)(i * 2654435761u):D10}";
            ids[i] = id;
            var pool = $"pool-{i % 20:D2}";
            var order = $"order-{i / 4:D7}";
            batch.Add(ReadModelStore.Change.Of(RoundTrip(Reserved($"{id}-reserved-{Guid.NewGuid():N}", id, pool, 1000, i + 1, order, i + 1))));
            batch.Add(ReadModelStore.Change.Of(RoundTrip(Issued($"{id}-issued-{Guid.NewGuid():N}", id, pool, order, 1))));
            batch.Add(ReadModelStore.Change.Of(RoundTrip(Redeemed($"{id}-redeemed-{Guid.NewGuid():N}", id, 1000, 4000, 2))));
            batch.Add(ReadModelStore.Change.Of(id, RoundTrip(State(id, pool, statuses[i % 4], channels[i % 5], order, $"client-{i / 4:D7}", 2))));
            if (batch.Count >= 1_000 || i == n - 1)
            {
                offset += batch.Count;
                var applying = Stopwatch.GetTimestamp();
                store.Apply(batch, [KeyValuePair.Create(("GiftCertificates.Stream", 0), offset)]);
                applyTicks += Stopwatch.GetTimestamp() - applying;
                batch.Clear();
            }
        }

        var load = clock.Elapsed;
        Out($"of which applying the batches (RocksDB): {Stopwatch.GetElapsedTime(0, applyTicks).TotalSeconds:F1} s; generating, encoding and decoding the records: the rest");
        var (rssLoaded, hwmLoaded) = Rss();
        GC.Collect();
        var heapAfter = GC.GetTotalMemory(true);
        Assert.That(store.Count, Is.EqualTo(n));
        Assert.That(store.HistoryCount, Is.EqualTo(n));
        Out($"{n:N0} issued certificates (state + 3 events each, decoded from Avro), batches of 1,000: loaded in {load.TotalSeconds:F1} s "
            + $"({n / load.TotalSeconds:N0} certificates/s, {4 * n / load.TotalSeconds:N0} records/s)");
        Out($"managed heap after load {heapAfter / 1048576.0:N0} MiB (+{(heapAfter - heapBefore) / 1048576.0:N0} MiB, ids array of the test included: "
            + $"~{n * 56 / 1048576.0:N0} MiB); RSS {rssBefore / 1024.0:N0} MiB before, {rssLoaded / 1024.0:N0} MiB after load, peak (VmHWM) {hwmLoaded / 1024.0:N0} MiB");
        Out($"RocksDB: {store.StorageUsage}");

        var random = new Random(42);
        Percentiles("lookup (Get)", 20_000, () => Assert.That(store.Get(ids[random.Next(n)]), Is.Not.Null));
        Percentiles("history (3 entries)", 20_000, () => Assert.That(store.GetHistory(ids[random.Next(n)]), Has.Count.EqualTo(3)));
        var filters = new (string Name, CertificateFilter Filter)[]
        {
            ("none", CertificateFilter.None),
            ("status=ACTIVE", new(Status: CertificateStatus.ACTIVE)),
            ("pool+status", new(Status: CertificateStatus.EXHAUSTED, PoolId: "pool-07")),
            ("channel+status+pool", new(CertificateStatus.ACTIVE, Channel.PARTNER, "pool-04")),
            ("client", new(ClientId: "client-0123456")),
            ("order+status(empty)", new(Status: CertificateStatus.AVAILABLE, OrderId: "order-0123456")),
            ("channel+pool (disjoint)", new(Channel: Channel.POS, PoolId: "pool-01")),
        };
        foreach (var (name, filter) in filters)
        {
            string? cursor = null;
            var items = 0;
            Percentiles($"search {name}, pages of 50", 200, () =>
            {
                var page = store.Search(filter, 50, cursor);
                items += page.Items.Count;
                cursor = page.NextCursor;
            });
        }

        var (rssEnd, hwmEnd) = Rss();
        Out($"RSS after the queries {rssEnd / 1024.0:N0} MiB, peak (VmHWM) {hwmEnd / 1024.0:N0} MiB; RocksDB: {store.StorageUsage}");
    }

    private static void Percentiles(string name, int count, Action query)
    {
        for (var i = 0; i < Math.Min(100, count); i++)
        {
            query(); // warm-up
        }

        var timings = new double[count];
        for (var i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            query();
            timings[i] = sw.Elapsed.TotalMicroseconds;
        }

        Array.Sort(timings);
        Out($"{name,-40} p50 {timings[count / 2],8:F1} µs, p99 {timings[count * 99 / 100],8:F1} µs, max {timings[^1],9:F1} µs ({count:N0} calls)");
    }

    /// <summary>VmRSS and VmHWM in KiB.</summary>
    private static (long Rss, long Hwm) Rss()
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return (rss, hwm);
    }

    private static void Out(string line) => TestContext.Out.WriteLine(line);

    /// <summary>Encoded and decoded again with one writer and one reader per type, as the codec's fast path keeps them.</summary>
    private static T RoundTrip<T>(T record)
        where T : ISpecificRecord
    {
        var (writer, reader) = ((SpecificDatumWriter<T>, SpecificDatumReader<T>))Formats.GetOrAdd(typeof(T), _ =>
            (new SpecificDatumWriter<T>(record.Schema), new SpecificDatumReader<T>(record.Schema, record.Schema)))!;
        using var stream = new MemoryStream();
        writer.Write(record, new BinaryEncoder(stream));
        stream.Position = 0;
        var decoded = reader.Read(default!, new BinaryDecoder(stream));
        return decoded;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, object> Formats = new();
}
