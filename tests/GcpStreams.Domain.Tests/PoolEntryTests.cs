using GcpStreams.Domain.Pools;

namespace GcpStreams.Domain.Tests;

/// <summary>The entries a pool keeps beside its counters, as <see cref="PoolDecider.EntryChanges"/> says events change them.</summary>
public class PoolEntryTests
{
    [Test]
    public void EntryChanges_OverAGeneratedWalk_KeepSlotsReservationsAndCountsInStepWithThePool()
    {
        var s = PoolScenario.Loaded(40);
        var random = new Random(20_261_130);
        var callers = new[] { "pos-terminal", "internet-store", "support" };
        for (var step = 0; step < 400; step++)
        {
            s.Now += TimeSpan.FromSeconds(random.Next(1, 90));
            var open = s.History.OfType<PoolCertificateReserved>().Select(r => r.CertificateId).Where(id => s.ReservationOf(PoolScenario.Id, id) is { IssuedToOrder: null }).ToList();
            var pick = open.Count == 0 ? null : open[random.Next(open.Count)];
            switch (random.Next(7))
            {
                case 0 or 1 or 2:
                    s.When(s.Reserve(caller: callers[random.Next(callers.Length)], holdFor: TimeSpan.FromMinutes(random.Next(1, 30))));
                    break;
                case 3 when pick is not null:
                    s.When(s.Issue(pick, orderId: $"order-{step}"));
                    break;
                case 4 when pick is not null:
                    s.Now += TimeSpan.FromMinutes(30); // past any hold: the timer expires it
                    s.When(s.Expire(pick));
                    break;
                case 5 when pick is not null:
                    s.When(s.Release(pick, orderId: "order-x"));
                    break;
                case 6:
                    s.When(s.Load(random.Next(0, 3)));
                    break;
            }

            var pool = s.State!;
            var reservations = s.History.OfType<PoolCertificateReserved>().Select(r => s.ReservationOf(PoolScenario.Id, r.CertificateId)).OfType<Reservation>().Distinct().ToList();
            var held = reservations.Where(r => r.IssuedToOrder is null).ToList();
            Assert.That(held, Has.Count.EqualTo(pool.Reserved), $"step {step}: open reservations = the pool's reserved count");
            Assert.That(Enumerable.Range(0, (int)pool.Available).Select(i => s.CertificateAt(PoolScenario.Id, pool.Head + i).CertificateId).Distinct().Count(), Is.EqualTo(pool.Available),
                $"step {step}: every available slot holds a distinct certificate");
            foreach (var caller in callers)
            {
                Assert.That(s.OpenReservationsOf(PoolScenario.Id, caller), Is.EqualTo(held.Count(r => r.Caller == caller)), $"step {step}: {caller}'s open count");
            }

            Assert.That(s.Deadlines, Is.EquivalentTo(held.Select(r => (r.ReservedUntil, r.CertificateId))), $"step {step}: a deadline per open reservation, no other");
        }

        Assert.That(s.History.OfType<ReservationIssued>().Count(), Is.GreaterThan(10));
        Assert.That(s.History.OfType<ReservationExpired>().Count(), Is.GreaterThan(10));
        Assert.That(s.History.OfType<ReservationReleased>().Count(), Is.GreaterThan(10));
    }
}
