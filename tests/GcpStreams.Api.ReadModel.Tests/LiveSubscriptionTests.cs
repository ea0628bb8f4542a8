using GcpStreams.Contracts;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

public class LiveSubscriptionTests
{
    [Test]
    public void CertificateTail_GetsItsEventsAppliedAfterOpening_InOrder_NotOthersNorDuplicates()
    {
        using var store = new ReadModelStore();
        store.ApplyEvent(Issued("before", "c1", "p1"));
        using var tail = store.Subscribe(LiveFilter.Certificate("c1"), capacity: 10);

        store.ApplyEvent(Redeemed("e1", "c1", 1000, 4000, sequence: 2));
        store.ApplyEvent(Redeemed("other", "c2", 1000, 4000, sequence: 2));
        store.ApplyEvent(Redeemed("e1", "c1", 1000, 4000, sequence: 2)); // a replay: not applied, not published
        store.ApplyEvent(Rejected("e2", "c1", sequence: 2));

        var received = Drain(tail);
        Assert.That(received.Select(e => e.Entry.EventId), Is.EqualTo(new[] { "e1", "e2" }));
        Assert.That(received[0].CertificateId, Is.EqualTo("c1"));
        Assert.That(received[0].Entry.BalanceAfterMinor, Is.EqualTo(4000));
        Assert.That(tail.Overflowed, Is.False);
    }

    [Test]
    public void PoolTail_GetsThePoolsOwnEventsAndItsCertificates()
    {
        using var store = new ReadModelStore();
        using var tail = store.Subscribe(LiveFilter.Pool("p1"), capacity: 10);

        store.ApplyEvent(Loaded("l1", "p1", count: 2, availableAfter: 2, sequence: 1));
        store.ApplyEvent(Reserved("r1", "c1", "p1", availableAfter: 1, sequence: 2));
        store.ApplyEvent(Loaded("l2", "p2", count: 2, availableAfter: 2, sequence: 1));
        store.ApplyEvent(Blocked("b1", "p1", sequence: 3));

        var received = Drain(tail);
        Assert.That(received.Select(e => (e.Entry.EventId, e.CertificateId)), Is.EqualTo(new[] { ("l1", (string?)null), ("r1", "c1"), ("b1", null) }));
    }

    [Test]
    public void SlowReader_IsEndedAsOverflowed_WithWhatWasBuffered_AndTheStoreGoesOn()
    {
        using var store = new ReadModelStore();
        var tail = store.Subscribe(LiveFilter.Certificate("c1"), capacity: 2);
        using var other = store.Subscribe(LiveFilter.Certificate("c1"), capacity: 10);

        for (var i = 0; i < 5; i++)
        {
            Assert.That(store.ApplyEvent(Redeemed($"e{i}", "c1", 10, 5000 - (10 * (i + 1)), sequence: i + 2)), Is.True, "the store never waits for a reader");
        }

        Assert.That(tail.Overflowed, Is.True);
        Assert.That(Drain(tail).Select(e => e.Entry.EventId), Is.EqualTo(new[] { "e0", "e1" }), "what was buffered is still read");
        Assert.That(tail.Events.Completion.IsCompleted, Is.True);
        Assert.That(store.LiveSubscriptions, Is.EqualTo(1), "the overflowed tail is removed");
        Assert.That(Drain(other), Has.Count.EqualTo(5), "another reader is not affected");
        tail.Dispose();
    }

    [Test]
    public void Dispose_Unsubscribes_AndDisposingTheStoreEndsEveryTail()
    {
        var store = new ReadModelStore();
        var closed = store.Subscribe(LiveFilter.Certificate("c1"), capacity: 4);
        var open = store.Subscribe(LiveFilter.Pool("p1"), capacity: 4);
        closed.Dispose();
        closed.Dispose();
        Assert.That(store.LiveSubscriptions, Is.EqualTo(1));
        Assert.That(closed.Events.Completion.IsCompleted, Is.True);

        store.Dispose();
        Assert.That(open.Events.Completion.IsCompleted, Is.True);
        Assert.That(store.LiveSubscriptions, Is.Zero);
        Assert.Throws<ObjectDisposedException>(() => store.Subscribe(LiveFilter.Pool("p1"), 4));
        open.Dispose();
    }

    [Test]
    public void Subscribe_RefusesAnEmptyFilterOrCapacity()
    {
        using var store = new ReadModelStore();
        Assert.Throws<ArgumentException>(() => store.Subscribe(new LiveFilter(null, null), 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Subscribe(LiveFilter.Pool("p1"), 0));
        Assert.That(new LiveFilter("c1", "p1").Matches("c2", "p1"), Is.True);
        Assert.That(LiveFilter.Certificate("c1").Matches(null, "p1"), Is.False);
    }

    private static List<LiveEvent> Drain(LiveSubscription tail)
    {
        var events = new List<LiveEvent>();
        while (tail.Events.TryRead(out var e))
        {
            events.Add(e);
        }

        return events;
    }
}
