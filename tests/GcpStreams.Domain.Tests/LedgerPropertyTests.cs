using CsCheck;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Domain.Tests;

/// <summary>
/// Invariants that hold for ANY sequence of operations (CsCheck generates and shrinks them):
/// balance = nominal - captured + refunded = fold(history), never negative; holds never negative;
/// a pool never hands out a certificate that is still reserved or was issued.
/// </summary>
public class LedgerPropertyTests
{
    private const int Iterations = 400;

    private static readonly Gen<(int Kind, long Amount, int Pick)[]> Operations =
        Gen.Select(Gen.Int[0, 9], Gen.Long[-10, 2_000_00], Gen.Int[0, 20]).Array[0, 120];

    [Test]
    public void AnySequenceOfPayments_KeepsTheLedgerConsistent()
    {
        Operations.Sample(ops =>
        {
            var s = CertificateScenario.Issued();
            var sent = new List<CertificateCommand>();
            foreach (var (kind, amount, pick) in ops)
            {
                var command = NextPaymentCommand(s, sent, kind, amount, pick);
                sent.Add(command);
                s.When(command);
                AssertLedgerInvariants(s);
            }

            var replayed = (Certificate.Active)CertificateDecider.Fold(s.History)!;
            Assert.That(replayed.BalanceMinor, Is.EqualTo(s.Active.BalanceMinor), "replaying the history rebuilds the balance");
            Assert.That(replayed.HeldMinor, Is.EqualTo(s.Active.HeldMinor));
            Assert.That(replayed.Sequence, Is.EqualTo(s.History.Count(CertificateDecider.ChangesState)), "one number per change, refusals and alerts take none");
        }, iter: Iterations);
    }

    [Test]
    public void AnySequenceOfPayments_DecidesTheSameWhenReplayed()
    {
        Operations.Sample(ops =>
        {
            var first = Run(ops);
            var second = Run(ops);
            Assert.That(second, Is.EqualTo(first), "Decide is deterministic: no clock, no randomness");
        }, iter: 100);

        static List<CertificateEvent> Run((int Kind, long Amount, int Pick)[] ops)
        {
            var s = CertificateScenario.Issued();
            var sent = new List<CertificateCommand>();
            foreach (var (kind, amount, pick) in ops)
            {
                var command = NextPaymentCommand(s, sent, kind, amount, pick);
                sent.Add(command);
                s.When(command);
            }

            return s.History;
        }
    }

    [Test]
    public void AnySequenceOfOperations_EveryEventCarriesTheFoldOfTheLedgerBeforeIt()
    {
        Gen.Select(Gen.Int[0, 12], Gen.Long[-10, 2_000_00], Gen.Int[0, 20]).Array[0, 120].Sample(ops =>
        {
            var s = CertificateScenario.Issued();
            var sent = new List<CertificateCommand>();
            foreach (var (kind, amount, pick) in ops)
            {
                var command = kind switch
                {
                    10 => s.Cancel(),
                    11 when s.State is Certificate.Active { Holds.Count: > 0 } a => Expiry(s, a, pick),
                    12 => s.RevealForSupport($"T-{pick}"),
                    _ when s.State is Certificate.Active => NextPaymentCommand(s, sent, kind, amount, pick),
                    _ => s.Capture(Math.Max(1, amount)), // refused: the certificate is cancelled
                };
                sent.Add(command);
                s.When(command);
                AssertEventsCarryTheFold(s);
            }

            var replayed = CertificateDecider.Fold(s.History)!;
            Assert.That((replayed.BalanceMinor, replayed.HeldMinor, replayed.Status), Is.EqualTo((s.State!.BalanceMinor, s.State.HeldMinor, s.State.Status)));
        }, iter: Iterations);

        // a hold expires at its expiry, or a timer fires early and finds nothing to do
        static ExpireHold Expiry(CertificateScenario s, Certificate.Active a, int pick)
        {
            var (id, hold) = a.Holds.ElementAt(pick % a.Holds.Count);
            return s.ExpireHold(id, pick % 3 == 0 ? hold.ExpiresAt.AddMinutes(-1) : hold.ExpiresAt);
        }
    }

    /// <summary>
    /// Folds the history as a consumer of the stream does (balance = nominal - captured + refunded - cancelled; held =
    /// authorized - captured from holds - released) and checks every event's balance-after and held-after against it, and the state.
    /// </summary>
    private static void AssertEventsCarryTheFold(CertificateScenario s)
    {
        long balance = 0, held = 0;
        foreach (var e in s.History)
        {
            (long? BalanceAfter, long? HeldAfter) carried;
            switch (e)
            {
                case CertificateIssued x:
                    balance += x.Identity.NominalMinor;
                    carried = (x.BalanceAfterMinor, null);
                    break;
                case PaymentAuthorized x:
                    held += x.AmountMinor;
                    carried = (x.BalanceAfterMinor, x.HeldAfterMinor);
                    Assert.That(x.AvailableAfterMinor, Is.EqualTo(balance - held));
                    break;
                case CertificateRedeemed x:
                    balance -= x.AmountMinor;
                    held -= x.AuthorizationId is null ? 0 : x.AmountMinor;
                    carried = (x.BalanceAfterMinor, x.HeldAfterMinor);
                    break;
                case HoldReleased x:
                    held -= x.AmountMinor;
                    carried = (x.BalanceAfterMinor, x.HeldAfterMinor);
                    break;
                case CertificateRefunded x:
                    balance += x.AmountMinor;
                    carried = (x.BalanceAfterMinor, x.HeldAfterMinor);
                    break;
                case CertificateCancelled x:
                    balance -= x.AmountMinor;
                    carried = (x.BalanceAfterMinor, x.HeldAfterMinor);
                    break;
                default:
                    continue;
            }

            Assert.That(carried.BalanceAfter ?? balance, Is.EqualTo(balance), $"{e.EventType} carries the balance after it");
            Assert.That(carried.HeldAfter ?? held, Is.EqualTo(held), $"{e.EventType} carries the held amount after it");
        }

        Assert.That((s.State!.BalanceMinor, s.State.HeldMinor), Is.EqualTo((balance, held)), "the state is the fold of the events");
        Assert.That(balance, Is.InRange(0, CertificateScenario.Nominal));
        Assert.That(held, Is.InRange(0, balance));
    }

    private static CertificateCommand NextPaymentCommand(CertificateScenario s, List<CertificateCommand> sent, int kind, long amount, int pick)
    {
        var holds = s.Active.Holds.Keys.ToList();
        var captures = s.Active.Captures.Keys.ToList();
        return kind switch
        {
            0 => s.Authorize(amount),
            1 => s.Capture(amount),
            2 when holds.Count > 0 => s.Capture(amount, authorizationId: holds[pick % holds.Count]),
            3 when holds.Count > 0 => s.Void(holds[pick % holds.Count]),
            4 when captures.Count > 0 => s.Refund(amount, captures[pick % captures.Count]),
            5 => s.Lock(),
            6 => s.Unlock(),
            7 when sent.Count > 0 => sent[pick % sent.Count], // a duplicate delivery
            8 => s.Capture(amount, channel: Channel.InternetStore),
            _ => s.Refund(amount, "cap-unknown"),
        };
    }

    private static void AssertLedgerInvariants(CertificateScenario s)
    {
        var a = s.Active;
        var captured = s.History.OfType<CertificateRedeemed>().Sum(e => e.AmountMinor);
        var refunded = s.History.OfType<CertificateRefunded>().Sum(e => e.AmountMinor);
        Assert.That(a.BalanceMinor, Is.EqualTo(CertificateScenario.Nominal - captured + refunded));
        Assert.That(a.BalanceMinor, Is.InRange(0, CertificateScenario.Nominal));
        Assert.That(a.HeldMinor, Is.InRange(0, a.BalanceMinor));
        Assert.That(a.Holds.Values.Select(h => h.AmountMinor), Is.All.Positive);
        Assert.That(a.Captures.Values, Is.All.Matches<Capture>(c => c!.RefundedMinor >= 0 && c.RefundedMinor <= c.AmountMinor));
        Assert.That((a.CapturedMinor, a.RefundedMinor), Is.EqualTo((a.Captures.Values.Sum(c => c.AmountMinor), a.Captures.Values.Sum(c => c.RefundedMinor))),
            "the folded totals are the sums over every capture");
        var lastBalance = s.History.Select(e => e switch
        {
            CertificateIssued i => i.BalanceAfterMinor,
            CertificateRedeemed r => r.BalanceAfterMinor,
            CertificateRefunded r => r.BalanceAfterMinor,
            _ => (long?)null,
        }).Last(b => b is not null);
        Assert.That(lastBalance, Is.EqualTo(a.BalanceMinor), "the last balance-after on the stream is the balance");
        var lastHeld = s.History.Select(e => e switch
        {
            PaymentAuthorized x => x.HeldAfterMinor,
            CertificateRedeemed x => x.HeldAfterMinor,
            HoldReleased x => x.HeldAfterMinor,
            _ => (long?)null,
        }).LastOrDefault(h => h is not null);
        Assert.That(lastHeld ?? 0, Is.EqualTo(a.HeldMinor), "the last held-after on the stream is what is held");
    }

    [Test]
    public void AnySequenceOfPoolOperations_NeverHandsOutACertificateTwice()
    {
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 20], Gen.Int[0, 50]).Array[0, 150].Sample(ops =>
        {
            var s = PoolScenario.Loaded(5, lowWatermark: 2);
            var outstanding = new List<string>();
            var issued = new HashSet<string>();
            long returned = 0;
            foreach (var (kind, count, pick) in ops)
            {
                switch (kind)
                {
                    case 0:
                        foreach (var reserved in s.When(s.Reserve()).OfType<PoolCertificateReserved>())
                        {
                            Assert.That(outstanding, Does.Not.Contain(reserved.CertificateId), "handed out while still reserved");
                            Assert.That(issued, Does.Not.Contain(reserved.CertificateId), "handed out after it was sold");
                            outstanding.Add(reserved.CertificateId);
                        }

                        break;
                    case 1:
                        s.When(s.Load(count));
                        break;
                    case 2 when outstanding.Count > 0:
                        var back = outstanding[pick % outstanding.Count];
                        s.Now = s.Now.AddHours(1); // past every deadline
                        s.When(s.Expire(back));
                        outstanding.Remove(back);
                        returned++;
                        break;
                    case 3 when outstanding.Count > 0:
                        var sold = outstanding[pick % outstanding.Count];
                        var issue = s.Issue(sold) with { At = s.ReservationOf(PoolScenario.Id, sold)!.ReservedUntil };
                        Assert.That(s.When(issue).Single(), Is.TypeOf<ReservationIssued>());
                        outstanding.Remove(sold);
                        issued.Add(sold);
                        break;
                }

                var pool = s.State!;
                Assert.That(pool.Reserved, Is.EqualTo(outstanding.Count));
                Assert.That(pool.Issued, Is.EqualTo(issued.Count));
                Assert.That(pool.Available, Is.EqualTo(pool.Loaded - outstanding.Count - issued.Count), "every loaded certificate is available, reserved or sold");
                Assert.That(pool.Tail - pool.Loaded, Is.EqualTo(returned), "returns append at the tail");
                Assert.That(pool.Available, Is.GreaterThanOrEqualTo(0));
            }
        }, iter: Iterations);
    }
}
