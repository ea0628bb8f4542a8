using Avro.IO;
using Avro.Specific;
using GcpStreams.Contracts;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

/// <summary>
/// What the in-memory read model holds per certificate: states and events decoded from Avro (as the consumer does, so
/// every string is its own), applied to a <see cref="ReadModelStore"/>, managed heap measured before and after. Explicit
/// (<c>--filter TestCategory=Measurement</c>): prints numbers, asserts no timing. The certificate count is
/// <c>GCP_MEASURE_CERTIFICATES</c> (default 200 000).
/// </summary>
/// <remarks>
/// 2026-11-30, 2-core container, other builds running, the in-memory read model: 200 000 certificates +481 MiB, 2 520 B per
/// certificate, ~2.4 GiB projected at 1 000 000 — over issue 11's 1 GB for the whole service, before the stores: why the read
/// model left memory. The RocksDB read model: <see cref="RocksDbMeasurements"/>.
/// </remarks>
[Explicit("measurement: prints the read model's managed memory per issued certificate")]
[Category("Measurement")]
public class MemoryMeasurements
{
    [Test]
    public void IssuedCertificates_ReadModelMemory()
    {
        var n = int.TryParse(Environment.GetEnvironmentVariable("GCP_MEASURE_CERTIFICATES"), out var configured) ? configured : 200_000;
        using var store = new ReadModelStore();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        for (var i = 0; i < n; i++)
        {
            var id = $"{(uint)(i * 2654435761u):D10}";
            var pool = $"pool-{i % 20:D2}";
            var order = $"order-{i / 4:D7}";
            // the life of a sold certificate: reserved (pool's sequence), issued, one redemption; its state after each
            store.ApplyEvent(RoundTrip(Reserved($"{id}-reserved-{Guid.NewGuid():N}", id, pool, 1000, i + 1, order, i + 1)));
            store.ApplyEvent(RoundTrip(Issued($"{id}-issued-{Guid.NewGuid():N}", id, pool, order, 1)));
            store.ApplyEvent(RoundTrip(Redeemed($"{id}-redeemed-{Guid.NewGuid():N}", id, 1000, 4000, 2)));
            store.ApplyState(id, RoundTrip(State(id, pool, CertificateStatus.PARTIALLY_REDEEMED, Channel.POS, order, $"client-{i / 4:D7}", 2)));
        }

        var after = GC.GetTotalMemory(true);
        Assert.That(store.Count, Is.EqualTo(n));
        var perCertificate = (after - before) / (double)n;
        TestContext.Out.WriteLine($"{n:N0} issued certificates (state + 3 events each): managed heap +{(after - before) / 1048576.0:N0} MiB, " +
            $"{perCertificate:N0} B per certificate; at 1,000,000: ~{perCertificate * 1_000_000 / 1048576.0:N0} MiB");
        GC.KeepAlive(store);
    }

    private static T RoundTrip<T>(T record)
        where T : ISpecificRecord
    {
        using var stream = new MemoryStream();
        new SpecificDatumWriter<T>(record.Schema).Write(record, new BinaryEncoder(stream));
        stream.Position = 0;
        return new SpecificDatumReader<T>(record.Schema, record.Schema).Read(default!, new BinaryDecoder(stream));
    }
}
