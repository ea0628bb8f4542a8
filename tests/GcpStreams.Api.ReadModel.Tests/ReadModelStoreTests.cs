using GcpStreams.Contracts;
using static GcpStreams.Api.ReadModel.Tests.Samples;

namespace GcpStreams.Api.ReadModel.Tests;

public class ReadModelStoreTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Test]
    public void History_KeepsEachCertificatesEventsInOrder_WithoutDuplicates()
    {
        using var store = new ReadModelStore();
        Assert.That(store.ApplyEvent(Reserved("e1", "c1", "p1", availableAfter: 9, sequence: 11)), Is.True);
        Assert.That(store.ApplyEvent(Issued("e2", "c1", "p1")), Is.True);
        Assert.That(store.ApplyEvent(Redeemed("e3", "c1", 1500, 3500, sequence: 2)), Is.True);
        Assert.That(store.ApplyEvent(Redeemed("e3", "c1", 1500, 3500, sequence: 2)), Is.False, "a replayed event id is ignored");
        Assert.That(store.ApplyEvent(Rejected("e4", "c1", 2)), Is.True);
        store.ApplyEvent(Issued("x1", "c2", "p1"));

        var history = store.GetHistory("c1");
        Assert.That(history.Select(h => h.EventId), Is.EqualTo(new[] { "e1", "e2", "e3", "e4" }));
        Assert.That(history.Select(h => h.EventType), Is.EqualTo(new[] { "certificate.reserved", "certificate.issued", "certificate.redeemed", "operation.rejected" }));
        Assert.That(history[1].BalanceAfterMinor, Is.EqualTo(5000));
        Assert.That(history[2], Has.Property(nameof(HistoryEntry.AmountMinor)).EqualTo(1500).And.Property(nameof(HistoryEntry.BalanceAfterMinor)).EqualTo(3500));
        Assert.That(history[3].AmountMinor, Is.EqualTo(99999));
        Assert.That(history[3].Detail, Does.Contain("INSUFFICIENT_FUNDS"));
        Assert.That(history[0].OccurredAt, Is.EqualTo(new DateTimeOffset(Epoch.AddSeconds(11))));
        Assert.That(store.GetHistory("unknown"), Is.Empty);
        Assert.That(store.HistoryCount, Is.EqualTo(2));
    }

    [Test]
    public void HistoryEntry_ProjectsEveryPayloadWithAnAmountOrDetail()
    {
        HistoryEntry Of(object payload) => HistoryEntry.From(Event("e", "t", payload, "c1"));
        Assert.That(Of(new CertificateAuthorized { paymentId = "a", amountMinor = 10, heldAfterMinor = 10, availableAfterMinor = 90 }), Has.Property("HeldAfterMinor").EqualTo(10).And.Property("AmountMinor").EqualTo(10));
        Assert.That(Of(new CertificateHoldReleased { paymentId = "v", authorizationId = "a", amountMinor = 10, heldAfterMinor = 0 }).HeldAfterMinor, Is.Zero);
        Assert.That(Of(new CertificateRefunded { paymentId = "r", amountMinor = 5, balanceAfterMinor = 95 }).BalanceAfterMinor, Is.EqualTo(95));
        Assert.That(Of(new CertificateCancelled { orderId = "o", reason = "returned" }).Detail, Is.EqualTo("returned"));
        Assert.That(Of(new CertificateLocked { reason = "fraud", requestedBy = "support" }).Detail, Is.EqualTo("fraud"));
        Assert.That(Of(new CertificateUnlocked { reason = "ok", requestedBy = "support" }).Detail, Is.EqualTo("ok"));
        Assert.That(Of(new Alert { kind = AlertKind.CHANNEL_MISMATCH, severity = AlertSeverity.WARNING, message = "m", details = new Dictionary<string, string>() }).Detail, Does.StartWith("CHANNEL_MISMATCH"));
        Assert.That(Of(new NotificationSent { notificationId = "n", contactChannel = ContactChannel.EMAIL, attempt = 1 }).Detail, Is.EqualTo("n by EMAIL, attempt 1"));
        Assert.That(Of(new NotificationFailed { notificationId = "n", contactChannel = ContactChannel.SMS, attempt = 2, reason = "SMTP 451", willRetry = true }).Detail,
            Is.EqualTo("n by SMS, attempt 2 (will retry): SMTP 451"));
        Assert.That(Of(new NotificationRequested { notificationId = "n", requestedBy = "support", reason = "lost" }).Detail, Is.EqualTo("n again, asked by support: lost"));
        Assert.That(Of(new NotificationRequested { notificationId = "n" }).Detail, Is.EqualTo("n"));
        Assert.That(Of(new NotificationOverdue { notificationId = "n", slaSeconds = 300 }).Detail, Is.EqualTo("n has no result after 300 s"));
    }

    [Test]
    public void PhantomPools_RefusalsAndAlertsNamingUnknownPools_CreateNoPool()
    {
        using var store = new ReadModelStore();
        for (var i = 0; i < 1_000; i++)
        {
            store.ApplyEvent(Blocked($"b{i}", $"nowhere-{i}", sequence: 1));
            store.ApplyEvent(Event($"r{i}", "operation.rejected", new OperationRejected { operation = "reserve", reason = RejectionReason.NOT_FOUND, message = "m" }, null, $"nowhere-{i}"));
            store.ApplyEvent(Event($"a{i}", "alert", new Alert { kind = AlertKind.POOL_EMPTY, severity = AlertSeverity.CRITICAL, message = "m", details = new Dictionary<string, string>() }, null, $"nowhere-{i}"));
        }

        Assert.That(store.GetPools(), Is.Empty, "only a load (or a reservation of a loaded pool) makes a pool known");
        store.ApplyEvent(Loaded("l1", "p1", count: 1, availableAfter: 1, sequence: 1));
        Assert.That(store.GetPools().Select(p => p.PoolId), Is.EqualTo(new[] { "p1" }));
    }

    [Test]
    public void Pools_LevelsFollowThePoolVersion_NotTheCertificatesSequences()
    {
        using var store = new ReadModelStore();
        store.ApplyEvent(Loaded("l1", "p1", count: 3, availableAfter: 3, sequence: 1));
        // two reservations, each the first event of its certificate (sequence 1), read out of the pool's order
        var later = Reserved("r2", "c2", "p1", availableAfter: 1, sequence: 1);
        ((CertificateReserved)later.payload).poolVersion = 3;
        var earlier = Reserved("r1", "c1", "p1", availableAfter: 2, sequence: 1);
        ((CertificateReserved)earlier.payload).poolVersion = 2;
        store.ApplyEvent(later);
        store.ApplyEvent(earlier);

        Assert.That(store.GetPool("p1")!.Available, Is.EqualTo(1));
        Assert.That(store.GetPool("p1")!.Sequence, Is.EqualTo(1), "the pool's own sequence: its one load");
    }

    [Test]
    public void Pools_AreProjectedFromPoolEvents_AndCountReservedAndIssuedFromStates()
    {
        using var store = new ReadModelStore();
        store.ApplyEvent(Loaded("l1", "p1", count: 3, availableAfter: 3, sequence: 1));
        // reservations are keyed by certificate: they can be read out of pool order; the highest sequence wins
        store.ApplyEvent(Reserved("r2", "c2", "p1", availableAfter: 1, sequence: 3));
        store.ApplyEvent(Reserved("r1", "c1", "p1", availableAfter: 2, sequence: 2));
        store.ApplyEvent(Loaded("l2", "p1", count: 2, availableAfter: 3, sequence: 4, series: null)); // an import keeps the pool's series
        store.ApplyEvent(Loaded("l2", "p1", count: 2, availableAfter: 3, sequence: 4, series: null)); // replay
        store.ApplyEvent(Blocked("b1", "p1", sequence: 5));
        store.ApplyEvent(Loaded("l0", "p1", count: 2, availableAfter: 3, sequence: 1)); // an older replay
        store.ApplyState("c1", State("c1", "p1", CertificateStatus.RESERVED, sequence: 2));
        store.ApplyState("c2", State("c2", "p1", CertificateStatus.ACTIVE, order: "o2"));
        store.ApplyState("c9", State("c9", "p9", CertificateStatus.CANCELLED, Channel.PARTNER)); // a pool only known from states

        var p1 = store.GetPool("p1")!;
        Assert.That(p1, Has.Property("Loaded").EqualTo(5).And.Property("Available").EqualTo(3).And.Property("Reserved").EqualTo(1)
            .And.Property("Issued").EqualTo(1).And.Property("IssueBlocked").EqualTo(1).And.Property("Sequence").EqualTo(5)
            .And.Property("LowWatermark").EqualTo(2).And.Property("NominalMinor").EqualTo(5000).And.Property("Currency").EqualTo("EUR")
            .And.Property("Channel").EqualTo(Channel.POS).And.Property("Series").EqualTo(3));
        Assert.That(p1.IsLow, Is.False);

        var p9 = store.GetPool("p9")!;
        Assert.That(p9, Has.Property("Channel").EqualTo(Channel.PARTNER).And.Property("Issued").EqualTo(1).And.Property("Loaded").EqualTo(0).And.Property("Series").Null);
        Assert.That(store.GetPools().Select(p => p.PoolId), Is.EqualTo(new[] { "p1", "p9" }));
        Assert.That(store.GetPool("nope"), Is.Null);

        store.ApplyEvent(Expired("x1", "c1", "p1", availableAfter: 4, sequence: 6));
        store.ApplyState("c1", State("c1", "p1", CertificateStatus.AVAILABLE, sequence: 6));
        Assert.That(store.GetPool("p1"), Has.Property("Available").EqualTo(4).And.Property("Reserved").EqualTo(0));
    }

    [Test]
    public void StateUnderAnotherKey_IsRefused_AndATombstoneForgets()
    {
        using var store = new ReadModelStore();
        Assert.That(() => store.ApplyState("c1", State("c2")), Throws.ArgumentException);
        store.ApplyState("c1", State("c1"));
        Assert.That(store.Get("c1"), Is.Not.Null);
        store.ApplyState("c1", null);
        Assert.That(store.Get("c1"), Is.Null);
        Assert.That(store.Count, Is.Zero);
        Assert.That(store.Search(CertificateFilter.None, 10).Items, Is.Empty);
    }

    [Test]
    public async Task WaitFor_CompletesAtOnceWhenTheStateIsThere_AndWhenALaterStateArrives()
    {
        using var store = new ReadModelStore();
        store.ApplyState("c1", State("c1", sequence: 3));
        Assert.That(await store.WaitForAsync("c1", 3, Long), Is.True);

        var pending = store.WaitForAsync("c1", 5, Long);
        var other = store.WaitForAsync("c2", 1, Long);
        Assert.That(pending.IsCompleted, Is.False);
        store.ApplyState("c1", State("c1", sequence: 4));
        Assert.That(pending.IsCompleted, Is.False, "sequence 4 is not enough");
        store.ApplyState("c1", State("c1", sequence: 5));
        Assert.That(await pending, Is.True);
        Assert.That(other.IsCompleted, Is.False);
        store.ApplyState("c2", State("c2", sequence: 1));
        Assert.That(await other, Is.True);
        Assert.That(store.PendingWaits, Is.Zero);
    }

    [Test]
    public async Task WaitFor_FollowsTheCertificatesOneSequenceFromReservationToIssue()
    {
        using var store = new ReadModelStore();
        store.ApplyState("c1", State("c1", status: CertificateStatus.RESERVED, sequence: 1)); // certificate.reserved is the certificate's first event

        var issued = store.WaitForAsync("c1", 2, Long); // certificate.issued, its second
        Assert.That(issued.IsCompleted, Is.False);
        Assert.That(await store.WaitForAsync("c1", 1, Long), Is.True);

        store.ApplyState("c1", State("c1", status: CertificateStatus.ACTIVE, sequence: 2));
        Assert.That(await issued, Is.True);
    }

    [Test]
    public async Task WaitFor_ReturnsFalseAfterTheTimeout_AndForgetsTheWaiter()
    {
        using var store = new ReadModelStore();
        Assert.That(await store.WaitForAsync("c1", 1, TimeSpan.FromMilliseconds(20)), Is.False);
        Assert.That(await store.WaitForEventAsync("e1", TimeSpan.FromMilliseconds(20)), Is.False);
        Assert.That(store.PendingWaits, Is.Zero);

        using var cancel = new CancellationTokenSource();
        var cancelled = store.WaitForAsync("c1", 1, Long, cancellationToken: cancel.Token);
        var cancelledEvent = store.WaitForEventAsync("e1", Long, cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        Assert.That(async () => await cancelled, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await cancelledEvent, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(store.PendingWaits, Is.Zero);
    }

    [Test]
    public async Task WaitForEvent_NeedsTheEventAndTheStateOfItsDecision_WhicheverArrivesFirst()
    {
        using var store = new ReadModelStore();

        // stream first, then state
        var redeem = store.WaitForEventAsync("e2", Long);
        store.ApplyEvent(Redeemed("e2", "c1", 100, 4900, sequence: 2));
        Assert.That(redeem.IsCompleted, Is.False, "the event is read but the lookup would not show it yet");
        store.ApplyState("c1", State("c1", sequence: 2, lastEventId: "e2"));
        Assert.That(await redeem, Is.True);

        // state first, then stream
        store.ApplyState("c1", State("c1", sequence: 3, lastEventId: "e3"));
        var locked = store.WaitForEventAsync("e3", Long);
        Assert.That(locked.IsCompleted, Is.False);
        store.ApplyEvent(Event("e3", "certificate.locked", new CertificateLocked { reason = "r", requestedBy = "s" }, "c1", sequence: 3));
        Assert.That(await locked, Is.True);

        // an event that changes no state: reading it is enough
        var rejected = store.WaitForEventAsync("e4", Long);
        store.ApplyEvent(Rejected("e4", "c1", sequence: 3));
        Assert.That(await rejected, Is.True);
        Assert.That(await store.WaitForEventAsync("e4", Long), Is.True, "already applied");

        // a pool-level event
        store.ApplyEvent(Loaded("l1", "p1", 10, 10, 1));
        Assert.That(await store.WaitForEventAsync("l1", Long), Is.True);

        // a reservation: pool-scoped sequence
        store.ApplyEvent(Reserved("r1", "c7", "p1", 9, sequence: 2));
        var reservation = store.WaitForEventAsync("r1", Long);
        Assert.That(reservation.IsCompleted, Is.False);
        store.ApplyState("c7", State("c7", "p1", CertificateStatus.RESERVED, sequence: 2, lastEventId: "r1"));
        Assert.That(await reservation, Is.True);
    }

    [Test]
    public async Task WaitForEvent_FindsAnOldEventThroughTheCertificateHint()
    {
        using var store = new ReadModelStore(recentEventCapacity: 1);
        store.ApplyEvent(Issued("e1", "c1", "p1"));
        store.ApplyState("c1", State("c1", sequence: 1));
        store.ApplyEvent(Issued("e9", "c9", "p1")); // pushes e1 out of the recent window

        Assert.That(await store.WaitForEventAsync("e1", Long, certificateId: "c1"), Is.True);
        Assert.That(await store.WaitForEventAsync("e1", TimeSpan.FromMilliseconds(20)), Is.False, "without the hint the old id is not found");
        Assert.That(await store.WaitForEventAsync("e9", TimeSpan.FromMilliseconds(20), certificateId: "c9"), Is.False, "its state is not there yet");
    }

    [Test]
    public async Task Dispose_CompletesPendingWaitsWithFalse_AndRefusesNewOnes()
    {
        var store = new ReadModelStore();
        var pending = store.WaitForAsync("c1", 1, Long);
        var pendingEvent = store.WaitForEventAsync("e1", Long);
        store.Dispose();
        store.Dispose();
        Assert.That(await pending, Is.False);
        Assert.That(await pendingEvent, Is.False);
        Assert.That(() => store.WaitForAsync("c1", 1, Long), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => new ReadModelStore(0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public async Task ManyReaders_WhileOneWriterApplies_SeeConsistentPages()
    {
        using var store = new ReadModelStore();
        const int Certificates = 2000;
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            var reads = 0;
            while (!done.IsCancellationRequested || reads == 0)
            {
                var page = store.Search(new CertificateFilter(Status: CertificateStatus.ACTIVE), 50);
                Assert.That(page.Items.Select(s => s.certificateId), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
                Assert.That(page.Items.Select(s => s.status), Is.All.EqualTo(CertificateStatus.ACTIVE));
                _ = store.GetPools();
                reads++;
            }

            return reads;
        })).ToList();

        var writer = Task.Run(() =>
        {
            for (var i = 0; i < Certificates; i++)
            {
                store.ApplyState($"c{i:D5}", State($"c{i:D5}", status: CertificateStatus.RESERVED, sequence: i));
                store.ApplyState($"c{i:D5}", State($"c{i:D5}", status: CertificateStatus.ACTIVE, sequence: 1));
            }
        });
        var last = store.WaitForAsync($"c{Certificates - 1:D5}", 1, Long);
        await writer;
        Assert.That(await last, Is.True);
        await done.CancelAsync();
        var reads = await Task.WhenAll(readers);

        Assert.That(reads, Is.All.GreaterThan(0));
        Assert.That(store.Count, Is.EqualTo(Certificates));
        Assert.That(store.GetPool("pool-pos-50")!.Issued, Is.EqualTo(Certificates));
    }

    [Test]
    public void AReopenedStore_HasEverything_AndADirectoryInUseIsRefused()
    {
        var directory = Directory.CreateTempSubdirectory("gcp-read-model-").FullName;
        try
        {
            var storage = new ReadModelStorage(directory, 8L << 20, 4L << 20);
            using (var store = new ReadModelStore(storage: storage))
            {
                store.ApplyEvent(Loaded("l1", "p1", count: 5, availableAfter: 5, sequence: 1));
                store.ApplyEvent(Reserved("r1", "c1", "p1", availableAfter: 4, sequence: 2));
                store.ApplyState("c1", State("c1", "p1", CertificateStatus.RESERVED, order: "o1", sequence: 2));
                store.ApplyEvent(Redeemed("d1", "c1", 100, 4900, sequence: 3));
                store.ApplyState("c2", State("c2", "p1", CertificateStatus.ACTIVE, client: "k1"));
                store.ApplyState("c2", null);
                Assert.That(() => new ReadModelStore(storage: storage), Throws.InvalidOperationException.With.Message.Contains("ReadModel:Dir").And.Message.Contains(directory));
            }

            using var reopened = new ReadModelStore(storage: storage);
            Assert.That(reopened.WipedBecause, Is.Null);
            Assert.That((reopened.Count, reopened.HistoryCount), Is.EqualTo((1, 1)));
            Assert.That(reopened.Get("c1"), Has.Property("status").EqualTo(CertificateStatus.RESERVED));
            Assert.That(reopened.Search(new CertificateFilter(OrderId: "o1"), 10).Items, Has.Count.EqualTo(1));
            Assert.That(reopened.Search(new CertificateFilter(ClientId: "k1"), 10).Items, Is.Empty);
            Assert.That(reopened.GetPool("p1"), Has.Property("Loaded").EqualTo(5).And.Property("Available").EqualTo(4).And.Property("Reserved").EqualTo(1));
            Assert.That(reopened.ApplyEvent(Redeemed("d1", "c1", 100, 4900, sequence: 3)), Is.False, "still a duplicate after the restart");
            Assert.That(reopened.GetHistory("c1").Select(h => h.EventId), Is.EqualTo(new[] { "r1", "d1" }));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
