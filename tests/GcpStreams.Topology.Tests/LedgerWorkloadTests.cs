using System.Diagnostics;
using System.Text;
using GcpStreams.Client;
using GcpStreams.Topology.Internal;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// The ledger check, a property over a generated history: after thousands of generated payment events (valid, invalid,
/// duplicated, racing one another), returns of orders (cancelling unused certificates, refused for used ones) and the expiry
/// of every hold still open, every certificate's published state is exactly the fold of its own events on
/// GiftCertificates.Stream: balance = nominal - redeemed + refunded - cancelled, held = authorized - captured from holds -
/// released, each event's balance-after and held-after equal to the fold so far, and a gap-free sequence.
/// </summary>
public class LedgerWorkloadTests
{
    private const int PaymentEvents = 3_000;
    private const int CertificatesPerPool = 25;
    private const int ReadEvery = 40;

    [Test]
    public void LedgerCheck_AfterAGeneratedMixedWorkload_EveryBalanceIsTheFoldOfItsEvents()
    {
        var clock = Stopwatch.StartNew();
        using var f = new TopologyFixture();
        var certificates = IssueCertificates(f);
        var generator = new Workload(f, certificates, new Random(20_261_127));

        for (var n = 0; n < PaymentEvents; n++)
        {
            generator.Next();
            if (n % ReadEvery == ReadEvery - 1)
            {
                f.Drain(); // sync mode reads are quadratic in what is unread: read as we go
            }
        }

        f.Drain();
        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.HoldExpiry + TopologyFixture.Settings.HoldSweepInterval); // every hold left open lapses
        f.Drain();
        var events = f.All(Topics.Stream);
        var states = f.All(Topics.State);
        var letters = f.All(Topics.DeadLetter);

        // the workload was what it claims to be: every kind of movement and of refusal happened, many times
        var counts = events.GroupBy(e => e.Value.eventType).ToDictionary(g => g.Key, g => g.Count());
        foreach (var type in new[] { "certificate.authorized", "certificate.redeemed", "certificate.hold_released", "certificate.refunded", "operation.rejected" })
        {
            Assert.That(counts.GetValueOrDefault(type), Is.GreaterThan(50), type);
        }

        var released = events.Where(e => e.Value.eventType == "certificate.hold_released").Select(e => e.Payload<C.CertificateHoldReleased>()).ToList();
        Assert.That(released.Count(r => r.expired), Is.GreaterThan(5), "holds left open expired");
        Assert.That(released.Count(r => !r.expired), Is.GreaterThan(5), "holds were voided");
        Assert.That(counts.GetValueOrDefault("certificate.cancelled"), Is.GreaterThan(0), "unused certificates were returned");

        var reasons = events.Where(e => e.Value.eventType == "operation.rejected").Select(e => e.Payload<C.OperationRejected>().reason).ToHashSet();
        Assert.That(reasons, Is.SupersetOf(new[]
        {
            C.RejectionReason.INSUFFICIENT_FUNDS, C.RejectionReason.EXCEEDS_HOLD, C.RejectionReason.EXCEEDS_CAPTURED, C.RejectionReason.UNKNOWN_AUTHORIZATION,
            C.RejectionReason.CHANNEL_MISMATCH, C.RejectionReason.CURRENCY_MISMATCH, C.RejectionReason.NOT_FOUND, C.RejectionReason.LOCKED,
            C.RejectionReason.INVALID_STATUS,
        }));
        Assert.That(letters.Select(l => l.Value.reason).ToHashSet(), Is.SupersetOf(new[]
        {
            C.DeadLetterReason.UNDECODABLE, C.DeadLetterReason.INVALID_CONTENT, C.DeadLetterReason.CURRENCY_MISMATCH, C.DeadLetterReason.UNKNOWN_CERTIFICATE,
        }));
        Assert.That(generator.Duplicates, Is.GreaterThan(200));

        var store = f.StoreEntries(StoreNames.Certificates).Where(e => Processing.CertificateProcessor.Keys.IsCertificate(e.Key))
            .ToDictionary(e => e.Key, e => InternalJson.Deserialize<CertificateSnapshot>(e.Value).ToDomain());
        Assert.That(f.StoreEntries(StoreNames.Certificates).Count(e => e.Key.StartsWith(Processing.CertificateProcessor.Keys.HoldPrefix, StringComparison.Ordinal)), Is.Zero,
            "every hold expiry entry is gone once its hold was captured, voided or expired and the sweep came by");
        var byCertificate = events.Where(e => e.Key is not null).ToLookup(e => e.Key!);
        foreach (var certificate in certificates)
        {
            var ledger = Fold(certificate, byCertificate[certificate.Id].ToList());
            var latest = states.Last(s => s.Key == certificate.Id).Value;
            var stored = store[certificate.Id];
            Assert.Multiple(() =>
            {
                Assert.That(latest.balanceMinor, Is.EqualTo(ledger.Balance), $"{certificate.Id}: state balance = nominal - redeemed + refunded - cancelled");
                Assert.That(latest.sequence, Is.EqualTo(ledger.LastSequence), $"{certificate.Id}: state sequence = that of its last numbered event");
                Assert.That((latest.clientId, latest.issuedAt), Is.Not.EqualTo(((string?)null, (DateTime?)null)), $"{certificate.Id}: the buyer and issue stay");
                Assert.That(latest.balanceMinor, Is.EqualTo(ledger.LastBalanceAfter), $"{certificate.Id}: state balance = last balanceAfterMinor");
                Assert.That(latest.heldMinor, Is.EqualTo(ledger.Held), $"{certificate.Id}: state held = fold of holds");
                Assert.That(latest.balanceMinor, Is.GreaterThanOrEqualTo(0));
                Assert.That(latest.heldMinor, Is.InRange(0, latest.balanceMinor));
                Assert.That(stored.BalanceMinor, Is.EqualTo(ledger.Balance), $"{certificate.Id}: store");
                Assert.That(stored.HeldMinor, Is.EqualTo(ledger.Held), $"{certificate.Id}: store held");
                Assert.That(latest.status, Is.EqualTo(ledger.Balance switch
                {
                    0 when ledger.Cancelled => C.CertificateStatus.CANCELLED,
                    0 => C.CertificateStatus.EXHAUSTED,
                    var x when x < certificate.Nominal => C.CertificateStatus.PARTIALLY_REDEEMED,
                    _ => C.CertificateStatus.ACTIVE,
                }));
            });
        }

        TestContext.Out.WriteLine($"{events.Count} events, {states.Count} states, {letters.Count} dead letters, {generator.Duplicates} duplicates in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Folds one certificate's events, checking every intermediate balance and hold as it goes.</summary>
    private static LedgerFold Fold(Certificate certificate, List<Output<C.GiftCertificateEvent>> events)
    {
        long balance = 0, held = 0, lastBalanceAfter = -1, lastSequence = 0;
        var issued = 0;
        var cancelled = false;
        var debited = new HashSet<string>(StringComparer.Ordinal);
        var credited = new HashSet<string>(StringComparer.Ordinal);
        var holds = new HashSet<string>(StringComparer.Ordinal);
        var captured = new Dictionary<string, long>(StringComparer.Ordinal);
        var refunded = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            var at = $"{certificate.Id} {e.Value.eventType} #{e.Value.sequence}";
            if (e.Value.eventType is "operation.rejected" or "alert")
            {
                Assert.That(e.Value.sequence, Is.EqualTo(lastSequence), $"{at}: a refusal or alert takes no number");
            }
            else
            {
                Assert.That(e.Value.sequence, Is.EqualTo(lastSequence + 1), $"{at}: every change takes the next number, without a gap");
                lastSequence = e.Value.sequence;
            }

            switch (e.Value.payload)
            {
                case C.CertificateIssued x:
                    issued++;
                    balance = x.nominalMinor;
                    Assert.That(x.heldAfterMinor, Is.Zero, at);
                    Assert.That(x.nominalMinor, Is.EqualTo(certificate.Nominal), at);
                    lastBalanceAfter = Check(x.balanceAfterMinor, balance, at);
                    break;
                case C.CertificateAuthorized x:
                    held += x.amountMinor;
                    Assert.That(holds.Add(x.paymentId), Is.True, $"{at}: authorization {x.paymentId} applied twice");
                    Assert.That((x.balanceAfterMinor, x.heldAfterMinor, x.availableAfterMinor), Is.EqualTo((balance, held, balance - held)), at);
                    Assert.That(x.expiresAt, Is.EqualTo(DateTime.SpecifyKind(e.Value.occurredAt, DateTimeKind.Utc) + TopologyFixture.Settings.HoldExpiry), at);
                    break;
                case C.CertificateRedeemed x:
                    balance -= x.amountMinor;
                    held -= x.authorizationId is null ? 0 : x.amountMinor;
                    Assert.That(debited.Add(x.paymentId), Is.True, $"{at}: capture {x.paymentId} debited twice");
                    captured[x.paymentId] = x.amountMinor;
                    lastBalanceAfter = Check(x.balanceAfterMinor, balance, at);
                    Assert.That(x.heldAfterMinor, Is.EqualTo(held), at);
                    break;
                case C.CertificateHoldReleased x:
                    held -= x.amountMinor;
                    Assert.That((x.balanceAfterMinor, x.heldAfterMinor), Is.EqualTo((balance, held)), at);
                    Assert.That(x.paymentId is null, Is.EqualTo(x.expired), $"{at}: a void names its payment, an expiry none");
                    break;
                case C.CertificateRefunded x:
                    balance += x.amountMinor;
                    Assert.That(credited.Add(x.paymentId), Is.True, $"{at}: refund {x.paymentId} credited twice");
                    refunded[x.capturePaymentId] = refunded.GetValueOrDefault(x.capturePaymentId) + x.amountMinor;
                    Assert.That(refunded[x.capturePaymentId], Is.LessThanOrEqualTo(captured[x.capturePaymentId]), $"{at}: refunded more than captured");
                    lastBalanceAfter = Check(x.balanceAfterMinor, balance, at);
                    Assert.That(x.heldAfterMinor, Is.EqualTo(held), at);
                    break;
                case C.CertificateCancelled x:
                    Assert.That((held, balance), Is.EqualTo((0L, certificate.Nominal)), $"{at}: only an unused certificate is cancelled");
                    balance -= x.amountMinor;
                    cancelled = true;
                    lastBalanceAfter = Check(x.balanceAfterMinor, balance, at);
                    Assert.That(x.heldAfterMinor, Is.EqualTo(held), at);
                    break;
            }

            Assert.That(balance, Is.GreaterThanOrEqualTo(0), at);
            Assert.That(held, Is.InRange(0, balance), at);
        }

        Assert.That(issued, Is.EqualTo(1), $"{certificate.Id} issued once");
        return new LedgerFold(balance, held, lastBalanceAfter, lastSequence, cancelled);
    }

    private static long Check(long balanceAfter, long folded, string at)
    {
        Assert.That(balanceAfter, Is.EqualTo(folded), $"{at}: balanceAfterMinor = fold so far");
        return balanceAfter;
    }

    private static List<Certificate> IssueCertificates(TopologyFixture f)
    {
        f.LoadPool(Inputs.Pool, C.Channel.POS, count: CertificatesPerPool, series: 1, nominal: 5_000_00);
        f.LoadPool(Inputs.WebPool, C.Channel.INTERNET_STORE, count: CertificatesPerPool, series: 2, nominal: 3_000_00);
        var certificates = new List<Certificate>();
        for (var i = 0; i < 2 * CertificatesPerPool; i++)
        {
            var (pool, channel, nominal) = i % 2 == 0 ? (Inputs.Pool, C.Channel.POS, 5_000_00L) : (Inputs.WebPool, C.Channel.INTERNET_STORE, 3_000_00L);
            certificates.Add(new Certificate(f.IssuedCertificate(pool, channel, $"order-{i}", nominal), channel, nominal, $"order-{i}"));
        }

        Assert.That(certificates.Select(c => c.Id).Distinct().Count(), Is.EqualTo(certificates.Count));
        return certificates;
    }

    private sealed record Certificate(string Id, C.Channel Channel, long Nominal, string OrderId);

    private sealed record LedgerFold(long Balance, long Held, long LastBalanceAfter, long LastSequence, bool Cancelled);

    /// <summary>
    /// Generates payment events the way several payers would send them: mostly plausible operations chosen from what it
    /// believes each certificate holds (it does not know what was refused, so some are not), plus invalid ones and duplicates.
    /// </summary>
    private sealed class Workload(TopologyFixture f, List<Certificate> certificates, Random random)
    {
        private readonly Dictionary<string, List<(string PaymentId, long Amount)>> holds = [];
        private readonly Dictionary<string, List<(string PaymentId, long Amount)>> captures = [];
        private readonly HashSet<string> locked = [];
        private readonly HashSet<string> returned = [];
        private readonly List<C.Payment> sent = [];

        public int Duplicates { get; private set; }

        public void Next()
        {
            var c = certificates[random.Next(certificates.Count)];
            var myHolds = Of(holds, c.Id);
            var myCaptures = Of(captures, c.Id);
            var roll = random.Next(100);
            switch (roll)
            {
                case < 22:
                    var auth = Send(C.PaymentOperation.AUTHORIZE, c, random.NextInt64(1, c.Nominal / 3));
                    myHolds.Add((auth.paymentId, auth.amountMinor));
                    break;
                case < 42 when myHolds.Count > 0 && random.Next(2) == 0:
                    var h = random.Next(myHolds.Count);
                    var part = random.NextInt64(1, myHolds[h].Amount + (myHolds[h].Amount / 5) + 2); // sometimes more than held
                    var fromHold = Send(C.PaymentOperation.CAPTURE, c, part, myHolds[h].PaymentId);
                    myCaptures.Add((fromHold.paymentId, part));
                    myHolds[h] = (myHolds[h].PaymentId, Math.Max(0, myHolds[h].Amount - part));
                    break;
                case < 42:
                    var direct = Send(C.PaymentOperation.CAPTURE, c, random.NextInt64(1, c.Nominal / 4));
                    myCaptures.Add((direct.paymentId, direct.amountMinor));
                    break;
                case < 52:
                    if (myHolds.Count > 0)
                    {
                        var v = random.Next(myHolds.Count);
                        Send(C.PaymentOperation.VOID, c, 0, myHolds[v].PaymentId);
                        myHolds.RemoveAt(v);
                    }
                    else
                    {
                        Send(C.PaymentOperation.VOID, c, 0, "auth-that-never-was");
                    }

                    break;
                case < 66 when myCaptures.Count > 0:
                    var k = random.Next(myCaptures.Count);
                    var back = random.NextInt64(1, myCaptures[k].Amount + (myCaptures[k].Amount / 5) + 2); // sometimes more than captured
                    Send(C.PaymentOperation.REFUND, c, back, myCaptures[k].PaymentId);
                    myCaptures[k] = (myCaptures[k].PaymentId, Math.Max(0, myCaptures[k].Amount - back));
                    break;
                case < 66:
                    Send(C.PaymentOperation.REFUND, c, 1_00, "capture-that-never-was");
                    break;
                case < 74 when sent.Count > 0:
                    f.Pipe(sent[random.Next(sent.Count)]); // redelivered as is
                    Duplicates++;
                    break;
                case < 80 when sent.Count > 0:
                    var again = Copy(sent[random.Next(sent.Count)]);
                    again.eventId = f.NextId("resent-evt"); // re-sent by the payer under a new event id
                    f.Pipe(again);
                    Duplicates++;
                    break;
                case < 84:
                    Send(C.PaymentOperation.CAPTURE, c, 1_00, currency: "USD");
                    break;
                case < 87:
                    Send(C.PaymentOperation.AUTHORIZE, c, 1_00, channel: c.Channel == C.Channel.POS ? C.Channel.MOBILE_APP : C.Channel.POS);
                    break;
                case < 90:
                    Send(C.PaymentOperation.CAPTURE, c, -random.NextInt64(0, 1_000_00));
                    break;
                case < 92:
                    f.Pipe(Inputs.Payment(f, C.PaymentOperation.CAPTURE, "7711111111111111", 1_00));
                    break;
                case < 94:
                    f.Pipe(Inputs.Payment(f, C.PaymentOperation.CAPTURE, null, 1_00));
                    break;
                case < 95:
                    var garbage = new byte[random.Next(1, 40)];
                    random.NextBytes(garbage);
                    f.PipeRaw(Topics.Payments.Name, Encoding.UTF8.GetBytes("garbage"), garbage);
                    break;
                case < 96:
                    // the buyer returns the order: cancels the certificate if unused, refused if not
                    f.ReturnOrder(c.Id, c.OrderId, c.Channel == C.Channel.POS ? Inputs.Pool : Inputs.WebPool, c.Channel);
                    returned.Add(c.Id);
                    break;
                case < 100 when returned.Contains(c.Id):
                    // support cannot lock what may be cancelled: refused unless the return was refused (the certificate was used)
                    var refused = locked.Remove(c.Id) ? f.Unlock(c.Id) : Lock(c.Id);
                    Assert.That(refused.reason, Is.AnyOf(null, "INVALID_STATUS", "LOCKED"), refused.message);
                    break;
                default:
                    // support locks and unlocks: payments in between are refused
                    var reply = locked.Remove(c.Id) ? f.Unlock(c.Id) : Lock(c.Id);
                    Assert.That(reply.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reply.message);
                    break;
            }
        }

        private C.Payment Send(C.PaymentOperation operation, Certificate c, long amount, string? parent = null, string currency = Inputs.Rub, C.Channel? channel = null)
        {
            var payment = f.Pay(operation, c.Id, amount, parent, channel ?? c.Channel, currency: currency);
            sent.Add(payment);
            return payment;
        }

        private C.CommandReply Lock(string id)
        {
            locked.Add(id);
            return f.Lock(id);
        }

        private static List<(string PaymentId, long Amount)> Of(Dictionary<string, List<(string PaymentId, long Amount)>> map, string id)
        {
            if (!map.TryGetValue(id, out var list))
            {
                list = [];
                map[id] = list;
            }

            return list;
        }

        private static C.Payment Copy(C.Payment p) => new()
        {
            eventId = p.eventId,
            paymentId = p.paymentId,
            orderId = p.orderId,
            correlationId = p.correlationId,
            operation = p.operation,
            method = p.method,
            certificateId = p.certificateId,
            parentPaymentId = p.parentPaymentId,
            amountMinor = p.amountMinor,
            currency = p.currency,
            status = p.status,
            channel = p.channel,
            storeId = p.storeId,
            occurredAt = p.occurredAt,
        };
    }
}
