using System.Diagnostics;
using GcpStreams.Client;
using GcpStreams.Traffic;
using C = GcpStreams.Contracts;

namespace GcpStreams.Reliability;

/// <summary>
/// The customers of the kill and soak phases: one journey each, started at a steady rate until cancelled: a reservation over
/// HTTP (Idempotency-Key; retried on any live instance), the paid order, <c>certificate.issued</c>, 1–3 visits of capture or
/// authorize + capture + void, sometimes a refund, sometimes lock, a capture refused while locked, unlock.
/// </summary>
internal sealed class CustomerTraffic(Shop shop, ServiceInstance[] instances, PoolChoice[] pools, Expectations expected, Tally tally, int seed, Latencies? latencies = null)
{
    /// <summary>How long a customer waits for an answer (a reservation over the live instances, a payment's outcome).</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(180);

    private readonly Random random = new(seed);

    /// <summary>Starts customers until <paramref name="token"/> is cancelled, then waits for them; returns how many did not finish.</summary>
    public async Task<int> RunAsync(double rate, CancellationToken token)
    {
        var journeys = new List<Task<bool>>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; !token.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, token).ContinueWith(_ => { }, TaskScheduler.Default); // pacing
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            int journeySeed;
            PoolChoice pool;
            lock (random)
            {
                journeySeed = random.Next();
                pool = pools[random.Next(pools.Length)];
            }

            journeys.Add(Task.Run(() => JourneyAsync(pool, new Random(journeySeed))));
        }

        var done = await Task.WhenAll(journeys);
        return done.Count(d => !d);
    }

    private async Task<bool> JourneyAsync(PoolChoice pool, Random r)
    {
        try
        {
            await CustomerAsync(pool, r);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or ApiUnavailableException or HttpRequestException or Confluent.Kafka.KafkaException or InvalidOperationException)
        {
            tally.Add($"failed ({e.GetType().Name})");
            Console.WriteLine($"  journey failed: {e.Message}");
            return false;
        }
    }

    private async Task CustomerAsync(PoolChoice pool, Random r)
    {
        var orderId = "order-" + Guid.NewGuid().ToString("N")[..12];
        var key = "reliability-" + orderId;
        lock (expected)
        {
            expected.Reservations[key] = false;
        }

        var asked = Stopwatch.GetTimestamp();
        var answer = await AnyInstanceAsync("reserve", api => api.ReserveAsync(pool, orderId, 1800, key, CancellationToken.None));
        latencies?.Add(Latencies.Reservation, Stopwatch.GetElapsedTime(asked));
        lock (expected)
        {
            expected.Reservations[key] = true;
        }

        if (!answer.Done)
        {
            tally.Add($"reserve refused ({answer.Refusal})");
            return;
        }

        var id = answer.CertificateId!;
        tally.Add("reserved");
        var issued = shop.WaitForEventAsync(id, "certificate.issued", AnswerTimeout, CancellationToken.None);
        lock (expected)
        {
            expected.PaidCertificates.Add(id);
        }

        await shop.ProduceAsync(Topics.SalesOrders, orderId, TeamRecords.Order(orderId, id, pool.PoolId, pool.Channel, pool.NominalMinor, pool.Currency), CancellationToken.None);
        await issued;
        tally.Add("issued");
        var balance = pool.NominalMinor;
        string? lastCapture = null;
        long lastAmount = 0;
        for (var visit = r.Next(1, 4); visit > 0 && balance > 0; visit--)
        {
            var amount = Math.Max(1, (long)(balance * r.Next(10, 60) / 100.0));
            if (r.NextDouble() < 0.3)
            {
                var auth = await PayAsync(pool, C.PaymentOperation.AUTHORIZE, id, amount, null);
                lastCapture = await PayAsync(pool, C.PaymentOperation.CAPTURE, id, amount / 2, auth);
                await PayAsync(pool, C.PaymentOperation.VOID, id, 0, auth);
                lastAmount = amount / 2;
                tally.Add("authorize+capture+void");
            }
            else
            {
                lastCapture = await PayAsync(pool, C.PaymentOperation.CAPTURE, id, amount, null);
                lastAmount = amount;
                tally.Add("capture");
            }

            balance -= lastAmount;
        }

        if (lastCapture is not null && r.NextDouble() < 0.2)
        {
            await PayAsync(pool, C.PaymentOperation.REFUND, id, lastAmount, lastCapture);
            tally.Add("refund");
        }

        if (r.NextDouble() < 0.15)
        {
            var locked = await AnyInstanceAsync("lock", api => api.LockAsync(id, "customer reported loss", CancellationToken.None), retried: "LOCKED");
            await PayAsync(pool, C.PaymentOperation.CAPTURE, id, 1, null); // refused while locked
            var unlocked = await AnyInstanceAsync("unlock", api => api.UnlockAsync(id, "card found", CancellationToken.None), retried: "INVALID_STATUS");
            tally.Add(locked.Done && unlocked.Done ? "lock+unlock" : $"lock/unlock refused ({locked.Refusal ?? unlocked.Refusal})");
        }

        tally.Add("customers done");
    }

    private async Task<string> PayAsync(PoolChoice pool, C.PaymentOperation operation, string certificateId, long amount, string? parent)
    {
        var payment = TeamRecords.Payment(operation, certificateId, amount, parent, pool.Channel, pool.Currency);
        lock (expected)
        {
            expected.PaymentEventIds.Add(payment.eventId);
        }

        var outcome = shop.WaitForOutcomeAsync(payment.eventId, AnswerTimeout, CancellationToken.None);
        var sent = Stopwatch.GetTimestamp();
        await shop.ProduceAsync(Topics.Payments, payment.paymentId, payment, CancellationToken.None);
        var answered = await outcome;
        latencies?.Add(Latencies.Payment, Stopwatch.GetElapsedTime(sent));
        if (answered.payload is C.OperationRejected rejected)
        {
            tally.Add($"{operation.ToString().ToLowerInvariant()} refused ({rejected.reason})");
        }

        return payment.paymentId;
    }

    /// <summary>
    /// Calls the API on a live instance; when it gives no final answer (killed meanwhile, 503/504 after its retries) the same
    /// call (the same Idempotency-Key for a reservation) goes to a live instance again, until <see cref="AnswerTimeout"/>.
    /// A refusal <paramref name="retried"/> after such a retry counts as done (the first try was carried out).
    /// </summary>
    private async Task<ApiAnswer> AnyInstanceAsync(string what, Func<GcpApi, Task<ApiAnswer>> call, string? retried = null)
    {
        var deadline = DateTime.UtcNow + AnswerTimeout;
        var tries = 0;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            GcpApi? api;
            lock (random)
            {
                var live = instances.Where(i => i.Api is not null).ToList();
                api = live.Count == 0 ? null : live[random.Next(live.Count)].Api;
            }

            if (api is null)
            {
                await Task.Delay(500); // every instance is restarting
                continue;
            }

            tries++;
            try
            {
                var answer = await call(api);
                if (tries > 1)
                {
                    tally.Add($"{what} answered after a retry");
                    if (retried is not null && answer.Refusal == retried)
                    {
                        return answer with { Refusal = null };
                    }
                }

                return answer;
            }
            catch (Exception e) when (e is ApiUnavailableException or HttpRequestException or ObjectDisposedException or TaskCanceledException)
            {
                last = e;
                tally.Add($"{what} retryable");
            }
        }

        throw new TimeoutException($"{what}: no answer within {AnswerTimeout.TotalSeconds:F0} s ({tries} tries; last: {last?.Message})");
    }
}
