using System.Text;
using GcpStreams.Domain;
using GcpStreams.Topology.Internal;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// An aggregate's recent input ids are stored as 8-byte digests, so its record, rewritten with every decision, keeps a small
/// bounded size (it carried up to 128 whole ids before, ~5 KB for a busy pool); records stored with the ids themselves still read.
/// </summary>
public sealed class RecentIdsStorageTests
{
    [Test]
    public void APoolRecord_StaysSmall_AfterHundredsOfDecisions()
    {
        using var f = new TopologyFixture();
        for (var i = 0; i < 2 * RecentIds.Capacity; i++)
        {
            f.LoadPool(count: 1, requestId: $"a-request-id-as-long-as-the-apis-guids-{Guid.NewGuid():N}");
        }

        var pool = PoolRecord(f);
        var stored = InternalJson.Deserialize<PoolSnapshot>(pool);
        Assert.That(stored.ToDomain().Seen.Count, Is.EqualTo(RecentIds.Capacity), "the window is full");
        Assert.That(stored.ToDomain().Loaded, Is.EqualTo(2 * RecentIds.Capacity));
        Assert.That(pool.Length, Is.LessThan(RecentIds.Capacity * sizeof(ulong) * 4 / 3 + 600), "8 bytes per remembered id (base64), plus the counters");
        Assert.That(Encoding.UTF8.GetString(pool), Does.Not.Contain("a-request-id"));
    }

    [Test]
    public void RecordsStoredWithTheirIds_ReadAsTheSameWindow_AndAreWrittenBackAsDigests()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var certificateId = f.IssuedCertificate();
        var ids = new[] { "evt-1", "req-2", "order-evt-3" };

        var pool = InternalJson.Deserialize<PoolSnapshot>(PoolRecord(f)) with { SeenDigests = null, Seen = ids };
        var readPool = InternalJson.Deserialize<PoolSnapshot>(InternalJson.Serialize(pool)).ToDomain();
        var ledger = InternalJson.Deserialize<CertificateSnapshot>(f.StoreEntries(StoreNames.Certificates).Single(e => e.Key == certificateId).Value)
            with { SeenDigests = null, Seen = ids };
        var readLedger = InternalJson.Deserialize<CertificateSnapshot>(InternalJson.Serialize(ledger)).ToDomain();

        Assert.Multiple(() =>
        {
            Assert.That(readPool.Seen, Is.EqualTo(RecentIds.From(ids)));
            Assert.That(readLedger.Seen, Is.EqualTo(RecentIds.From(ids)));
            Assert.That(ids.All(readLedger.Seen.Contains), Is.True);
            Assert.That(readLedger.Seen.Contains("evt-4"), Is.False);
            var written = Encoding.UTF8.GetString(InternalJson.Serialize(CertificateSnapshot.From(readLedger)));
            Assert.That(written, Does.Contain("\"seenDigests\":").And.Not.Contain("\"seen\":").And.Not.Contain("evt-1"));
            Assert.That(InternalJson.Deserialize<CertificateSnapshot>(Encoding.UTF8.GetBytes(written)).ToDomain().Seen, Is.EqualTo(readLedger.Seen));
            Assert.That(InternalJson.Deserialize<PoolSnapshot>(InternalJson.Serialize(PoolSnapshot.From(readPool))).ToDomain().Seen, Is.EqualTo(readPool.Seen));
        });
    }

    private static byte[] PoolRecord(TopologyFixture f) =>
        f.StoreEntries(StoreNames.Pools).Single(e => e.Key == Processing.PoolProcessor.Keys.Pool(Inputs.Pool)).Value;
}
