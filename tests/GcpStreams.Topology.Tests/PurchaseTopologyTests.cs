using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>Orders: buying a certificate (issue), paying with one, paying without one, returning one.</summary>
public class PurchaseTopologyTests
{
    private const long Nominal = Inputs.Nominal;

    [Test]
    public void Issue_GivenAReservedCertificate_WhenItsOrderIsPaid_ThenTheLedgerOpensWithTheNominalOnce()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        var loaded = f.Events().Single();
        Assert.That(loaded.Key, Is.EqualTo(Inputs.Pool));
        Assert.That(loaded.Payload<C.PoolLoaded>().availableAfter, Is.EqualTo(3));
        var reply = f.Reserve(orderId: "order-7");
        Assert.That(reply.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(reply.poolId, Is.EqualTo(Inputs.Pool));
        Assert.That(reply.reservedUntil, Is.EqualTo(TopologyFixture.T0.AddSeconds(900)));
        var reserved = f.Events().Single();
        Assert.That(reserved.Payload<C.CertificateReserved>().orderId, Is.EqualTo("order-7"));
        Assert.That(reserved.Payload<C.CertificateReserved>().availableAfter, Is.EqualTo(2));
        Assert.That(f.States().Single().Value.reservedUntil, Is.EqualTo(TopologyFixture.T0.AddSeconds(900)));
        var id = reply.certificateId;

        f.PayOrder(id, "order-7", clientId: "client-3");

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "certificate.issued", "notification.requested" }));
        Assert.That(events.Select(e => e.Key), Is.All.EqualTo(id));
        var issued = events[0].Payload<C.CertificateIssued>();
        Assert.Multiple(() =>
        {
            Assert.That((issued.orderId, issued.clientId, issued.nominalMinor, issued.balanceAfterMinor), Is.EqualTo(("order-7", (string?)"client-3", Nominal, Nominal)));
            Assert.That(events[0].Value.poolId, Is.EqualTo(Inputs.Pool));
            Assert.That(events[0].Value.channel, Is.EqualTo(C.Channel.POS));
            Assert.That(events[0].Value.correlationId, Is.EqualTo("corr-order-7"));
            Assert.That(events[0].Headers["event-type"], Is.EqualTo("certificate.issued"));
            Assert.That(events[1].Headers["event-type"], Is.EqualTo("notification.requested"));
        });
        var state = f.States().Single().Value;
        Assert.That((state.status, state.balanceMinor, state.orderId, state.clientId), Is.EqualTo((C.CertificateStatus.ACTIVE, Nominal, (string?)"order-7", (string?)"client-3")));
        Assert.That(state.issuedAt, Is.EqualTo(TopologyFixture.T0.AddMinutes(1)));

        // the order event delivered again, or re-sent with a new event id, issues nothing more
        f.PayOrder(id, "order-7", clientId: "client-3");
        f.Events().Duplicates(1);
        Assert.That(f.States(), Is.Empty);

        // another order cannot buy the sold certificate
        f.PayOrder(id, "order-8");
        var refused = f.Events();
        Assert.That(refused.Types(), Is.EqualTo(new[] { "operation.rejected", "alert" }));
        Assert.That(refused.Rejection().reason, Is.EqualTo(C.RejectionReason.ALREADY_EXISTS));
        Assert.That(refused.Alert().kind, Is.EqualTo(C.AlertKind.RECONCILIATION_MISMATCH));
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void PurchaseWithACertificate_CapturesTheTenderFromItsBalance()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        // the shop's order names the certificate as a tender (no certificate is bought) ...
        f.Pipe(Topics.SalesOrders, "order-shoes", new C.SalesOrder
        {
            eventId = "order-shoes-paid",
            orderId = "order-shoes",
            transactionId = "tx-shoes",
            channel = C.Channel.POS,
            storeId = "store-12",
            clientId = "client-9",
            status = C.OrderStatus.PAID,
            currency = Inputs.Rub,
            totalMinor = 3_499_00,
            certificateLines = [],
            returnedLineIds = [],
            certificateTenders = [new C.CertificateTender { certificateId = id, amountMinor = 3_499_00, paymentId = "pay-shoes" }],
            occurredAt = TopologyFixture.T0.AddMinutes(10),
            correlationId = "corr-shoes",
        });
        Assert.That(f.Events(), Is.Empty, "the order alone moves no value: the payment does");

        // ... and the payment debits it
        f.Pipe(Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 3_499_00, paymentId: "pay-shoes"));

        var redeemed = f.Events().Single();
        Assert.That(redeemed.Value.eventType, Is.EqualTo("certificate.redeemed"));
        Assert.That(redeemed.Payload<C.CertificateRedeemed>().paymentId, Is.EqualTo("pay-shoes"));
        Assert.That(redeemed.Payload<C.CertificateRedeemed>().balanceAfterMinor, Is.EqualTo(Nominal - 3_499_00));
        var state = f.States().Single().Value;
        Assert.That((state.balanceMinor, state.status), Is.EqualTo(((Nominal - 3_499_00), C.CertificateStatus.PARTIALLY_REDEEMED)));
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void PurchaseWithoutACertificate_ProducesNoCertificateEventAtAll()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        f.Pipe(Topics.SalesOrders, "order-milk", new C.SalesOrder
        {
            eventId = "order-milk-paid",
            orderId = "order-milk",
            transactionId = "tx-milk",
            channel = C.Channel.POS,
            status = C.OrderStatus.PAID,
            currency = Inputs.Rub,
            totalMinor = 89_00,
            certificateLines = [],
            returnedLineIds = [],
            certificateTenders = [],
            occurredAt = TopologyFixture.T0.AddMinutes(10),
        });
        var card = Inputs.Payment(f, C.PaymentOperation.CAPTURE, null, 89_00, paymentId: "pay-milk");
        card.method = C.PaymentMethod.CARD;
        f.Pipe(card);
        // a failed certificate payment moves nothing either
        var failed = Inputs.Payment(f, C.PaymentOperation.CAPTURE, id, 89_00);
        failed.status = C.PaymentStatus.FAILED;
        f.Pipe(failed);

        Assert.That(f.Events(), Is.Empty);
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.Replies(), Is.Empty);
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void ReturnOfAPurchasedUnusedCertificate_CancelsIt()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate(orderId: "order-1");

        f.ReturnOrder(id, "order-1");

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "certificate.cancelled" }));
        Assert.That(events[0].Key, Is.EqualTo(id));
        var cancelled = events[0].Payload<C.CertificateCancelled>();
        Assert.That((cancelled.orderId, cancelled.reason), Is.EqualTo(("order-1", "order returned")));
        Assert.That((cancelled.amountMinor, cancelled.balanceAfterMinor, cancelled.heldAfterMinor), Is.EqualTo((Nominal, 0L, 0L)),
            "the event says what the return took off: folding the stream gives the balance State shows");
        var state = f.States().Single().Value;
        Assert.That(state.status, Is.EqualTo(C.CertificateStatus.CANCELLED));
        Assert.That(state.balanceMinor, Is.Zero, "a cancelled certificate holds no value");
        Assert.That((state.clientId, state.orderId), Is.EqualTo(("client-1", "order-1")), "a return does not erase the buyer");
        Assert.That(state.issuedAt, Is.Not.Null, "nor when it was issued");
        Assert.That(state.sequence, Is.EqualTo(events[0].Value.sequence));

        // a cancelled certificate cannot be spent, and a second return changes nothing
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00);
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.INVALID_STATUS));
        f.ReturnOrder(id, "order-1");
        f.Events().Duplicates(1);
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void CancelledOrder_ReleasesItsReservedCertificateToThePoolAtOnce()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 2);
        var id = f.Reserve(orderId: "order-5").certificateId;
        f.Drain();

        f.Pipe(Topics.SalesOrders, "order-5", Inputs.Order(f, id, "order-5", Inputs.Pool, C.Channel.POS, "client-1", null, null, C.OrderStatus.CANCELLED));

        var released = f.Events().One("certificate.reservation_released");
        Assert.That(released.Key, Is.EqualTo(id));
        Assert.That((released.Payload<C.CertificateReservationReleased>().orderId, released.Payload<C.CertificateReservationReleased>().reason, released.Payload<C.CertificateReservationReleased>().availableAfter),
            Is.EqualTo(("order-5", "order cancelled", 2L)));
        Assert.That(released.Value.sequence, Is.EqualTo(2), "the certificate's second event, after certificate.reserved");
        var state = f.States().Single().Value;
        Assert.That((state.status, state.reservedUntil, state.sequence), Is.EqualTo((C.CertificateStatus.AVAILABLE, (DateTime?)null, 2L)));

        f.PayOrder(id, "order-5");
        Assert.That(f.Events().Rejection().reason, Is.EqualTo(C.RejectionReason.NOT_RESERVED), "a released certificate can no longer be bought by that order");
    }

    [Test]
    public void FailedPayment_OfAnOrder_ReleasesTheCertificatesItReserved()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 3);
        var first = f.Reserve(orderId: "order-9").certificateId;
        var second = f.Reserve(orderId: "order-9").certificateId;
        var other = f.Reserve(orderId: "order-10").certificateId;
        var placed = Inputs.Order(f, first, "order-9", Inputs.Pool, C.Channel.POS, "client-1", null, null, C.OrderStatus.CREATED);
        placed.certificateLines.Add(new C.CertificateOrderLine { lineId = "line-2", certificateId = second, poolId = Inputs.Pool, nominalMinor = Inputs.Nominal });
        f.Pipe(Topics.SalesOrders, "order-9", placed);
        f.Drain();

        var card = Inputs.Payment(f, C.PaymentOperation.CAPTURE, null, 10_000_00, paymentId: "card-1");
        (card.method, card.status, card.orderId) = (C.PaymentMethod.CARD, C.PaymentStatus.FAILED, "order-9");
        f.Pipe(card);
        f.Settle();

        Assert.That(f.DeadLetters(), Is.Empty);
        var events = f.Events();

        Assert.That(events.Where(e => e.Value.eventType == "certificate.reservation_released").Select(e => e.Key), Is.EquivalentTo(new[] { first, second }));
        Assert.That(events.Select(e => e.Payload<C.CertificateReservationReleased>().reason).Distinct(), Is.EqualTo(new[] { "payment card-1 failed" }));
        Assert.That(f.States().Select(s => (s.Key, s.Value.status)), Is.EquivalentTo(new[] { (first, C.CertificateStatus.AVAILABLE), (second, C.CertificateStatus.AVAILABLE) }));
        Assert.That(f.Reserve(orderId: "order-11").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), "the pool has them again");
        Assert.That(f.StoreEntries(StoreNames.Pools).Select(e => e.Key), Has.Some.EqualTo($"r/{Inputs.Pool}/{other}"), "another order's reservation stays");
    }

    [Test]
    public void ReturnOfAUsedCertificate_IsRejected()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate(orderId: "order-1");
        f.Pay(C.PaymentOperation.CAPTURE, id, 1_00);
        f.Drain();

        f.ReturnOrder(id, "order-1");

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "operation.rejected" }));
        Assert.That(events.Rejection().reason, Is.EqualTo(C.RejectionReason.INVALID_STATUS));
        Assert.That(f.States(), Is.Empty);
    }
}
