using CsCheck;
using GcpStreams.Contracts;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

public class CertificateIndexTests
{
    private static List<string> Ids(CertificateIndex index, CertificateFilter filter, int pageSize = 1000) =>
        PageThrough(index, filter, pageSize).SelectMany(p => p.Items).Select(s => s.certificateId).ToList();

    private static List<CertificatePage> PageThrough(CertificateIndex index, CertificateFilter filter, int pageSize)
    {
        var pages = new List<CertificatePage>();
        string? cursor = null;
        do
        {
            var page = index.Search(filter, pageSize, cursor);
            pages.Add(page);
            cursor = page.NextCursor;
        }
        while (cursor is not null && pages.Count < 100_000);

        return pages;
    }

    [Test]
    public void A_looked_up_state_is_decoded_once_and_every_later_write_is_seen()
    {
        using var index = new CertificateIndex();
        index.Apply(State("c1", "p1", CertificateStatus.ACTIVE, Channel.POS, "o1", "k1"));

        var first = index.Get("c1");
        Assert.That(index.Get("c1"), Is.SameAs(first), "the second lookup is served from the decoded states");

        index.Apply(State("c1", "p1", CertificateStatus.PARTIALLY_REDEEMED, Channel.POS, "o1", "k1"));
        Assert.That(index.Get("c1")?.status, Is.EqualTo(CertificateStatus.PARTIALLY_REDEEMED), "a write drops the decoded state");
        Assert.That(index.Search(new CertificateFilter(Status: CertificateStatus.PARTIALLY_REDEEMED), 10).Items.Select(s => s.status), Is.EqualTo(new[] { CertificateStatus.PARTIALLY_REDEEMED }));

        index.Remove("c1");
        Assert.That(index.Get("c1"), Is.Null, "a tombstone too");
    }

    [Test]
    public void The_decoded_states_stay_bounded()
    {
        using var index = new CertificateIndex();
        for (var i = 0; i < CertificateIndex.DecodedCacheEntries + 10; i++)
        {
            index.Apply(State($"c{i}", "p1", CertificateStatus.ACTIVE, Channel.POS, $"o{i}", "k1"));
        }

        for (var i = 0; i < CertificateIndex.DecodedCacheEntries + 10; i++)
        {
            Assert.That(index.Get($"c{i}")?.orderId, Is.EqualTo($"o{i}"));
        }

        var last = index.Get($"c{CertificateIndex.DecodedCacheEntries + 9}");
        Assert.That(index.Get($"c{CertificateIndex.DecodedCacheEntries + 9}"), Is.SameAs(last));
        Assert.That(index.Get("c0"), Is.Not.SameAs(index.Get("c1")));
    }

    [Test]
    public void AppliedState_IsFoundByIdAndByEveryAttribute()
    {
        using var index = new CertificateIndex();
        index.Apply(State("c1", "p1", CertificateStatus.ACTIVE, Channel.POS, "o1", "k1"));

        Assert.That(index.Get("c1")?.poolId, Is.EqualTo("p1"));
        Assert.That(index.Get("nope"), Is.Null);
        Assert.That(index.Count, Is.EqualTo(1));
        foreach (var filter in new CertificateFilter[]
                 {
                     new(Status: CertificateStatus.ACTIVE), new(Channel: Channel.POS), new(PoolId: "p1"), new(OrderId: "o1"), new(ClientId: "k1"),
                     new(CertificateStatus.ACTIVE, Channel.POS, "p1", "o1", "k1"), CertificateFilter.None,
                 })
        {
            Assert.That(Ids(index, filter), Is.EqualTo(new[] { "c1" }), filter.ToString());
        }

        Assert.That(Ids(index, new CertificateFilter(Status: CertificateStatus.RESERVED)), Is.Empty);
        Assert.That(Ids(index, new CertificateFilter(OrderId: "o2")), Is.Empty);
        Assert.That(Ids(index, new CertificateFilter(Status: CertificateStatus.ACTIVE, ClientId: "k2")), Is.Empty);
    }

    [Test]
    public void StateTransition_MovesTheIdFromTheOldIndexEntriesToTheNewOnes()
    {
        using var index = new CertificateIndex();
        index.Apply(State("c1", "p1", CertificateStatus.RESERVED, order: "o1", sequence: 7));
        Assert.That(index.StatusCounts("p1")[CertificateStatus.RESERVED], Is.EqualTo(1));

        index.Apply(State("c1", "p1", CertificateStatus.ACTIVE, order: "o1", client: "k1", sequence: 1));

        Assert.That(Ids(index, new CertificateFilter(Status: CertificateStatus.RESERVED)), Is.Empty, "left RESERVED");
        Assert.That(Ids(index, new CertificateFilter(Status: CertificateStatus.ACTIVE)), Is.EqualTo(new[] { "c1" }));
        Assert.That(Ids(index, new CertificateFilter(ClientId: "k1")), Is.EqualTo(new[] { "c1" }), "client learnt at issue");
        Assert.That(Ids(index, new CertificateFilter(OrderId: "o1")), Is.EqualTo(new[] { "c1" }), "order unchanged");
        Assert.That(index.StatusCounts("p1")[CertificateStatus.RESERVED], Is.Zero);
        Assert.That(index.StatusCounts("p1")[CertificateStatus.ACTIVE], Is.EqualTo(1));

        index.Apply(State("c1", "p2", CertificateStatus.EXHAUSTED, Channel.INTERNET_STORE, order: "o2", client: null, sequence: 2));
        Assert.That(Ids(index, new CertificateFilter(PoolId: "p1")), Is.Empty);
        Assert.That(Ids(index, new CertificateFilter(PoolId: "p2")), Is.EqualTo(new[] { "c1" }));
        Assert.That(Ids(index, new CertificateFilter(Channel: Channel.POS)), Is.Empty);
        Assert.That(Ids(index, new CertificateFilter(Channel: Channel.INTERNET_STORE)), Is.EqualTo(new[] { "c1" }));
        Assert.That(Ids(index, new CertificateFilter(OrderId: "o1")), Is.Empty);
        Assert.That(Ids(index, new CertificateFilter(ClientId: "k1")), Is.Empty, "client cleared");
        Assert.That(index.StatusCounts("p1").Values.Sum(), Is.Zero);
        Assert.That(index.PoolIds, Is.EquivalentTo(new[] { "p2" }), "empty entries are dropped");
        Assert.That(index.Count, Is.EqualTo(1));
    }

    [Test]
    public void Tombstone_RemovesTheCertificateFromEveryIndex()
    {
        using var index = new CertificateIndex();
        index.Apply(State("c1", "p1", order: "o1", client: "k1"));
        index.Apply(State("c2", "p1", order: "o1", client: "k1"));

        Assert.That(index.Remove("c1"), Is.True);
        Assert.That(index.Remove("c1"), Is.False, "twice is a no-op");

        Assert.That(index.Get("c1"), Is.Null);
        Assert.That(index.Count, Is.EqualTo(1));
        foreach (var filter in new CertificateFilter[] { CertificateFilter.None, new(PoolId: "p1"), new(OrderId: "o1"), new(ClientId: "k1"), new(Status: CertificateStatus.ACTIVE), new(Channel: Channel.POS) })
        {
            Assert.That(Ids(index, filter), Is.EqualTo(new[] { "c2" }), filter.ToString());
        }

        index.Remove("c2");
        Assert.That(Ids(index, CertificateFilter.None), Is.Empty);
        Assert.That(index.PoolIds, Is.Empty);
        Assert.That(index.CountOf(new CertificateFilter(PoolId: "p1")), Is.Zero);
    }

    [Test]
    public void Paging_ReturnsEveryMatchExactlyOnce_InIdOrder_AndTheLastPageHasNoCursor()
    {
        using var index = new CertificateIndex();
        for (var i = 0; i < 1000; i++)
        {
            index.Apply(State($"c{i:D4}", status: i % 3 == 0 ? CertificateStatus.RESERVED : CertificateStatus.ACTIVE));
        }

        var pages = PageThrough(index, new CertificateFilter(Status: CertificateStatus.RESERVED), 10);
        var ids = pages.SelectMany(p => p.Items).Select(s => s.certificateId).ToList();

        var expected = Enumerable.Range(0, 1000).Where(i => i % 3 == 0).Select(i => $"c{i:D4}").ToList();
        Assert.That(ids, Is.EqualTo(expected));
        Assert.That(pages, Has.Count.EqualTo(34));
        Assert.That(pages[..^1].Select(p => p.Items.Count), Is.All.EqualTo(10));
        Assert.That(pages[^1].NextCursor, Is.Null);
        Assert.That(pages[^1].Items, Has.Count.EqualTo(4));
    }

    [Test]
    public void FullLastPage_HasNoCursor()
    {
        using var index = new CertificateIndex();
        for (var i = 0; i < 20; i++)
        {
            index.Apply(State($"c{i:D2}"));
        }

        var pages = PageThrough(index, CertificateFilter.None, 10);
        Assert.That(pages, Has.Count.EqualTo(2));
        Assert.That(pages[1].NextCursor, Is.Null, "no empty trailing page");
    }

    [Test]
    public void Cursor_StaysValidWhenItsCertificateIsRemovedOrChanges()
    {
        using var index = new CertificateIndex();
        foreach (var id in new[] { "a", "b", "c", "d", "e" })
        {
            index.Apply(State(id));
        }

        var first = index.Search(CertificateFilter.None, 2);
        Assert.That(first.Items.Select(s => s.certificateId), Is.EqualTo(new[] { "a", "b" }));

        index.Remove("b");
        index.Apply(State("c", status: CertificateStatus.EXHAUSTED));
        var second = index.Search(new CertificateFilter(Status: CertificateStatus.ACTIVE), 2, first.NextCursor);
        Assert.That(second.Items.Select(s => s.certificateId), Is.EqualTo(new[] { "d", "e" }));
        Assert.That(second.NextCursor, Is.Null);

        Assert.That(index.Search(CertificateFilter.None, 2, SearchCursor.Encode("zzz")).Items, Is.Empty, "a cursor past the end");
    }

    [Test]
    public void Intersection_WalksTheSmallestIndex_AndChecksTheOthers()
    {
        using var index = new CertificateIndex();
        for (var i = 0; i < 300; i++)
        {
            index.Apply(State($"c{i:D3}", pool: $"p{i % 3}", channel: i % 2 == 0 ? Channel.POS : Channel.INTERNET_STORE,
                client: i % 50 == 0 ? "vip" : null, status: i % 5 == 0 ? CertificateStatus.EXHAUSTED : CertificateStatus.ACTIVE));
        }

        var filter = new CertificateFilter(Status: CertificateStatus.ACTIVE, Channel: Channel.POS, PoolId: "p0");
        Assert.That(Ids(index, filter, 7), Is.EqualTo(Enumerable.Range(0, 300).Where(i => i % 3 == 0 && i % 2 == 0 && i % 5 != 0).Select(i => $"c{i:D3}")));
        Assert.That(Ids(index, new CertificateFilter(ClientId: "vip", Channel: Channel.POS), 1), Is.EqualTo(new[] { "c000", "c050", "c100", "c150", "c200", "c250" }));
        Assert.That(index.CountOf(new CertificateFilter(ClientId: "vip", Channel: Channel.POS)), Is.EqualTo(6), "the smallest set is the client's");
        Assert.That(index.CountOf(new CertificateFilter(ClientId: "nobody", Channel: Channel.POS)), Is.Zero, "an unknown value matches nothing");
    }

    [Test]
    public void ABadlyIntersectingSearch_StopsAtTheScanBudget_AndItsCursorsStillReachEveryMatch()
    {
        using var index = new CertificateIndex();
        for (var i = 0; i < 100; i++)
        {
            index.Apply(State($"c{i:D3}", pool: "big", channel: i is 42 or 97 ? Channel.PARTNER : Channel.POS));
        }

        for (var i = 0; i < 200; i++)
        {
            index.Apply(State($"x{i:D3}", pool: "other", channel: Channel.PARTNER));
        }

        var filter = new CertificateFilter(Channel: Channel.PARTNER, PoolId: "big", Status: CertificateStatus.ACTIVE);
        var first = index.Search(filter, 10, maxScan: 30);
        Assert.That(first.Items, Is.Empty, "30 candidates examined, none matched");
        Assert.That(first.NextCursor, Is.Not.Null, "not the end");

        var pages = new List<CertificatePage> { first };
        while (pages[^1].NextCursor is { } cursor)
        {
            pages.Add(index.Search(filter, 10, cursor, maxScan: 30));
        }

        Assert.That(pages.SelectMany(p => p.Items).Select(s => s.certificateId), Is.EqualTo(new[] { "c042", "c097" }));
        Assert.That(pages, Has.Count.EqualTo(4), "100 candidates in budgets of 30");
        Assert.That(() => index.Search(filter, 10, maxScan: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void BadArguments_AreRefused()
    {
        using var index = new CertificateIndex();
        index.Apply(State("c1"));
        Assert.That(() => index.Search(CertificateFilter.None, 0), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => index.Search(CertificateFilter.None, 10, "not a cursor!"), Throws.TypeOf<FormatException>());
        Assert.That(() => index.Search(CertificateFilter.None, 10, "aGVsbG8"), Throws.TypeOf<FormatException>(), "base64 of something else");
        Assert.That(() => index.Apply(State("")), Throws.ArgumentException);
        Assert.That(() => index.Get(null!), Throws.ArgumentNullException);
        Assert.That(() => new CertificateFilter().Matches(null!), Throws.ArgumentNullException);
        Assert.That(SearchCursor.Decode(SearchCursor.Encode("ünïcode/+=")), Is.EqualTo("ünïcode/+="));
    }

    private static readonly Gen<CertificateState> GenState =
        Gen.Select(Gen.Int[0, 60], Gen.Int[0, 3], Gen.Enum<CertificateStatus>(), Gen.Enum<Channel>(), Gen.Int[-1, 4], Gen.Int[-1, 3], (id, pool, status, channel, order, client) =>
            State($"c{id:D2}", $"p{pool}", status, channel, order < 0 ? null : $"o{order}", client < 0 ? null : $"k{client}"));

    private static readonly Gen<CertificateFilter> GenFilter =
        Gen.Select(Gen.Int[-1, 3], Gen.Enum<CertificateStatus>().Nullable(), Gen.Enum<Channel>().Nullable(), Gen.Int[-1, 4], Gen.Int[-1, 3], (pool, status, channel, order, client) =>
            new CertificateFilter(status, channel, pool < 0 ? null : $"p{pool}", order < 0 ? null : $"o{order}", client < 0 ? null : $"k{client}"));

    [Test]
    public void AnySequenceOfUpdatesAndTombstones_SearchEqualsAFilteredScanOfTheLatestStates()
    {
        // operations: a state (upsert) or a tombstone of one of the ids
        var genOp = Gen.Frequency((4, GenState.Select(s => (s.certificateId, (CertificateState?)s))), (1, Gen.Int[0, 60].Select(i => ($"c{i:D2}", (CertificateState?)null))));
        Gen.Select(genOp.Array[0, 200], GenFilter.Array[1, 6], Gen.Int[1, 12]).Sample((ops, filters, pageSize) =>
        {
            using var index = new CertificateIndex();
            var truth = new Dictionary<string, CertificateState>(StringComparer.Ordinal);
            foreach (var (id, state) in ops)
            {
                if (state is null)
                {
                    index.Remove(id);
                    truth.Remove(id);
                }
                else
                {
                    index.Apply(state);
                    truth[id] = state;
                }
            }

            if (index.Count != truth.Count)
            {
                return false;
            }

            foreach (var filter in filters.Append(CertificateFilter.None))
            {
                var expected = truth.Values.Where(filter.Matches).Select(s => s.certificateId).Order(StringComparer.Ordinal).ToList();
                var pages = PageThrough(index, filter, pageSize);
                var got = pages.SelectMany(p => p.Items).Select(s => s.certificateId).ToList();
                if (!got.SequenceEqual(expected) || pages.Any(p => p.Items.Count > pageSize) || pages[..^1].Any(p => p.Items.Count != pageSize))
                {
                    return false;
                }
            }

            var pools = truth.Values.GroupBy(s => s.poolId);
            return pools.All(g => index.StatusCounts(g.Key).All(kv => kv.Value == g.Count(s => s.status == kv.Key)));
        });
    }
}
