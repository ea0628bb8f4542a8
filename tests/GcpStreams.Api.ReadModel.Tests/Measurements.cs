using System.Diagnostics;
using GcpStreams.Contracts;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

/// <summary>
/// Sizes the index for a million certificates. Explicit (run with <c>--filter TestCategory=Measurement</c>): it
/// prints numbers and checks results, never timings, so a slow machine cannot fail the build.
/// </summary>
/// <remarks>
/// Measured on the 2-core development container (Release; 1 M certificates with scrambled 10-digit ids, 20 pools,
/// 5 channels, 2 in 3 sold with an order and a client shared by 4 certificates; other builds running): loading the
/// index took 8.8 s and 13.9 s in two runs (~72-114 k states/s; index overhead ~322 MiB beyond the states);
/// 100 k status changes 0.8-0.9 s. Pages of 50, p50 / p99: no filter 71 µs / 1.5 ms, status 71 / 148 µs,
/// pool+status 196 / 282 µs, channel+status+pool 100 / 169 µs, client 0.3 / 2.5 µs; a disjoint channel+pool
/// (every page spends its 20 000-candidate budget) 11 / 21 ms.
/// </remarks>
[Explicit("measurement: prints load and search times for 1,000,000 certificates")]
[Category("Measurement")]
public class Measurements
{
    [Test]
    public void OneMillionCertificates_LoadAndSearch()
    {
        const int N = 1_000_000;
        var statuses = new[] { CertificateStatus.AVAILABLE, CertificateStatus.RESERVED, CertificateStatus.ACTIVE, CertificateStatus.PARTIALLY_REDEEMED, CertificateStatus.EXHAUSTED, CertificateStatus.CANCELLED };
        var channels = new[] { Channel.POS, Channel.INTERNET_STORE, Channel.MOBILE_APP, Channel.CALL_CENTER, Channel.PARTNER };
        var states = new CertificateState[N];
        for (var i = 0; i < N; i++)
        {
            var id = $"{(uint)(i * 2654435761u):D10}"; // ids in scrambled order, like certificate numbers
            var sold = i % 3 != 0;
            states[i] = State(id, $"pool-{i % 20:D2}", sold ? statuses[2 + (i % 4)] : statuses[i % 2], channels[i % 5],
                sold ? $"order-{i / 4:D7}" : null, sold ? $"client-{i / 4:D7}" : null, sequence: 1);
        }

        GC.Collect();
        var before = GC.GetTotalMemory(true);
        using var index = new CertificateIndex();
        var clock = Stopwatch.StartNew();
        foreach (var state in states)
        {
            index.Apply(state);
        }

        var load = clock.Elapsed;
        var after = GC.GetTotalMemory(true);
        Assert.That(index.Count, Is.EqualTo(N));

        // a second pass of updates: every 10th certificate changes status (index moves)
        clock.Restart();
        for (var i = 0; i < N; i += 10)
        {
            var s = states[i];
            index.Apply(State(s.certificateId, s.poolId, CertificateStatus.EXHAUSTED, s.channel, s.orderId, s.clientId, sequence: 2));
        }

        var update = clock.Elapsed;

        var filters = new (string Name, CertificateFilter Filter)[]
        {
            ("none", CertificateFilter.None),
            ("status=ACTIVE", new(Status: CertificateStatus.ACTIVE)),
            ("pool+status", new(Status: CertificateStatus.RESERVED, PoolId: "pool-07")),
            ("channel+status+pool", new(CertificateStatus.ACTIVE, Channel.PARTNER, "pool-04")),
            ("client", new(ClientId: "client-0123456")),
            ("order+status(empty)", new(Status: CertificateStatus.AVAILABLE, OrderId: "order-0123456")),
            ("channel+pool (disjoint)", new(Channel: Channel.POS, PoolId: "pool-01")),
        };
        foreach (var (name, filter) in filters)
        {
            string? cursor = null;
            var timings = new List<double>();
            var pages = 0;
            var items = 0;
            for (var i = 0; i < 200; i++)
            {
                var sw = Stopwatch.StartNew();
                var page = index.Search(filter, 50, cursor);
                timings.Add(sw.Elapsed.TotalMicroseconds);
                pages++;
                items += page.Items.Count;
                cursor = page.NextCursor;
            }

            timings.Sort();
            TestContext.Out.WriteLine($"search {name,-24} 200 pages of 50: p50 {timings[100]:F1} µs, p99 {timings[197]:F1} µs, max {timings[^1]:F1} µs ({items} items)");
        }

        TestContext.Out.WriteLine($"load {N:N0} states: {load.TotalMilliseconds:F0} ms ({N / load.TotalSeconds:N0}/s), index ~{(after - before) / (1024.0 * 1024):F0} MiB beyond the states' own memory measured before");
        TestContext.Out.WriteLine($"update {N / 10:N0} states (status change): {update.TotalMilliseconds:F0} ms");
    }
}
