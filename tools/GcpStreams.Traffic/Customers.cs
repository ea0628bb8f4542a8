using System.Collections.Concurrent;
using GcpStreams.Client;
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
/// One customer's journey, as POS or the Internet Store plays it: CRM publishes the buyer's client record (All_Clients, an
/// e-mail address, English or Russian), reserve a certificate through the HTTP API (as the pool's
/// channel client, with an Idempotency-Key), pay the order (a record on the Orders team's topic), wait until it is issued,
/// then redeem partially (directly or authorize + capture, sometimes void the rest: Payments' records), sometimes refund,
/// sometimes have support lock and unlock it through the API, sometimes return the purchase unused. Every capture pays a purchase:
/// Orders records it as a PAID order with the certificate as its tender (same amount, the capture's payment id), as the shops do,
/// so Orders and Payments agree in the BI reconciliation (tenders vs captures).
/// </summary>
public sealed class Customer(Shop shop, GcpApi api, PoolChoice pool, Random random, Tally tally)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the reservation holds the certificate for the order.</summary>
    public const int HoldSeconds = 600;

    private string clientId = "client-1";

    public async Task RunAsync(CancellationToken token)
    {
        var orderId = "order-" + Guid.NewGuid().ToString("N")[..12];
        // CRM knows the buyer before the order: the notifier sends the certificate and its CVC to this record's address
        clientId = "client-" + Guid.NewGuid().ToString("N")[..10];
        await shop.ProduceAsync(Topics.Clients, clientId, TeamRecords.Client(clientId, random), token);
        // one key per customer: a retry after a 503/504 returns the same certificate instead of reserving another
        var reserve = await api.ReserveAsync(pool, orderId, HoldSeconds, "gcp-traffic-" + orderId, token);
        if (!reserve.Done)
        {
            tally.Add($"reserve refused ({reserve.Refusal})");
            return;
        }

        var id = reserve.CertificateId!; // a reservation done names its certificate
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
                lastCapture = await PurchaseAsync(id, amount / 2, auth, token);
                await PayAsync(C.PaymentOperation.VOID, id, 0, auth, token);
                lastAmount = amount / 2;
                tally.Add("authorize+capture+void");
            }
            else
            {
                lastCapture = await PurchaseAsync(id, amount, null, token);
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
            await LockAndUnlockAsync(id, token);
        }

        tally.Add("customers done");
    }

    /// <summary>Support locks the certificate (the customer reported it lost), a capture is refused meanwhile, support unlocks it.</summary>
    private async Task LockAndUnlockAsync(string id, CancellationToken token)
    {
        var locked = await api.LockAsync(id, "customer reported loss", token);
        if (!locked.Done)
        {
            tally.Add($"lock refused ({locked.Refusal})");
            return;
        }

        await PurchaseAsync(id, 1, null, token); // refused while locked (Payments and Orders both record the attempt)
        var unlocked = await api.UnlockAsync(id, "card found", token);
        tally.Add(unlocked.Done ? "lock+unlock" : $"unlock refused ({unlocked.Refusal})");
    }

    /// <summary>
    /// A purchase paid with the certificate: the capture on Payments, and the shop's PAID order on Orders with the certificate as its
    /// tender for the same amount (none for a capture of nothing, which Payments' own validation would not let through either).
    /// </summary>
    private async Task<string> PurchaseAsync(string certificateId, long amount, string? authorization, CancellationToken token)
    {
        var capture = await PayAsync(C.PaymentOperation.CAPTURE, certificateId, amount, authorization, token);
        if (amount > 0)
        {
            var orderId = "order-" + Guid.NewGuid().ToString("N")[..12];
            await shop.ProduceAsync(Topics.SalesOrders, orderId, TeamRecords.TenderOrder(orderId, certificateId, amount, capture, pool.Channel, pool.Currency, clientId), token);
            tally.Add("paid with the certificate");
        }

        return capture;
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
        TeamRecords.Order(orderId, certificateId, pool.PoolId, pool.Channel, pool.NominalMinor, pool.Currency, status, clientId);
}
