using System.Collections.Concurrent;
using GcpStreams.Topology;
using C = GcpStreams.Contracts;

namespace GcpStreams.Traffic;

/// <summary>A pool a customer can buy from.</summary>
public sealed record PoolChoice(string PoolId, C.Channel Channel, long NominalMinor, string Currency);

/// <summary>What happened to the customers so far (thread-safe counters for the progress line).</summary>
public sealed class Tally
{
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);

    public void Add(string what) => counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    public int this[string what] => counts.GetValueOrDefault(what);

    public IReadOnlyDictionary<string, int> Snapshot() => new SortedDictionary<string, int>(counts, StringComparer.Ordinal);
}

/// <summary>
/// One customer's journey, as POS or the Internet Store plays it: reserve a certificate, pay the order, wait until it is
/// issued, then redeem partially (directly or authorize + capture, sometimes void the rest), sometimes refund, sometimes
/// have support lock and unlock it, sometimes return the purchase unused.
/// </summary>
public sealed class Customer(Shop shop, PoolChoice pool, Random random, Tally tally)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task RunAsync(CancellationToken token)
    {
        var orderId = "order-" + Guid.NewGuid().ToString("N")[..12];
        var reserve = await shop.SendCommandAsync(pool.PoolId, new C.ReserveCertificate
        {
            poolId = pool.PoolId, channel = pool.Channel, nominalMinor = pool.NominalMinor, currency = pool.Currency, orderId = orderId, holdSeconds = 600,
        }, Timeout, token);
        if (reserve.outcome != C.ReplyOutcome.ACCEPTED)
        {
            tally.Add($"reserve refused ({reserve.reason})");
            return;
        }

        var id = reserve.certificateId;
        tally.Add("reserved");
        await shop.ProduceAsync(Topics.SalesOrders, orderId, Order(orderId, id, C.OrderStatus.PAID), token);
        await shop.WaitForEventAsync(id, "certificate.issued", Timeout, token);
        tally.Add("issued");

        if (random.NextDouble() < 0.1)
        {
            await shop.ProduceAsync(Topics.SalesOrders, orderId, Order(orderId, id, C.OrderStatus.RETURNED), token);
            await shop.WaitForEventAsync(id, "certificate.cancelled", Timeout, token);
            tally.Add("returned unused");
            return;
        }

        var balance = pool.NominalMinor;
        string? lastCapture = null;
        long lastAmount = 0;
        for (var visit = random.Next(1, 4); visit > 0 && balance > 0; visit--)
        {
            var amount = Math.Max(1, (long)(balance * random.Next(10, 60) / 100.0));
            if (random.NextDouble() < 0.3)
            {
                var auth = await PayAsync(C.PaymentOperation.AUTHORIZE, id, amount, null, token);
                lastCapture = await PayAsync(C.PaymentOperation.CAPTURE, id, amount / 2, auth, token);
                await PayAsync(C.PaymentOperation.VOID, id, 0, auth, token);
                lastAmount = amount / 2;
                tally.Add("authorize+capture+void");
            }
            else
            {
                lastCapture = await PayAsync(C.PaymentOperation.CAPTURE, id, amount, null, token);
                lastAmount = amount;
                tally.Add("partial redemption");
            }

            balance -= lastAmount;
        }

        if (lastCapture is not null && random.NextDouble() < 0.2)
        {
            await PayAsync(C.PaymentOperation.REFUND, id, lastAmount, lastCapture, token);
            tally.Add("refund");
        }

        if (random.NextDouble() < 0.1)
        {
            var locked = await shop.SendCommandAsync(id, new C.LockCertificate { certificateId = id, reason = "customer reported loss" }, Timeout, token);
            await PayAsync(C.PaymentOperation.CAPTURE, id, 1, null, token); // refused while locked
            var unlocked = await shop.SendCommandAsync(id, new C.UnlockCertificate { certificateId = id, reason = "card found" }, Timeout, token);
            tally.Add(locked.outcome == C.ReplyOutcome.ACCEPTED && unlocked.outcome == C.ReplyOutcome.ACCEPTED ? "lock+unlock" : "lock refused");
        }

        tally.Add("customers done");
    }

    private async Task<string> PayAsync(C.PaymentOperation operation, string certificateId, long amount, string? parent, CancellationToken token)
    {
        var payment = TeamRecords.Payment(operation, certificateId, amount, parent, pool.Channel, pool.Currency);
        var outcome = shop.WaitForOutcomeAsync(payment.eventId, Timeout, token);
        await shop.ProduceAsync(Topics.Payments, payment.paymentId, payment, token);
        var answer = await outcome;
        if (answer.payload is C.OperationRejected rejected)
        {
            tally.Add($"{operation.ToString().ToLowerInvariant()} refused ({rejected.reason})");
        }

        return payment.paymentId;
    }

    private C.SalesOrder Order(string orderId, string certificateId, C.OrderStatus status) =>
        TeamRecords.Order(orderId, certificateId, pool.PoolId, pool.Channel, pool.NominalMinor, pool.Currency, status, "client-" + random.Next(1, 1000));
}
