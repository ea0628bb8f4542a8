using GcpStreams.Reliability;

namespace GcpStreams.Ops.Tests;

/// <summary>The reliability suite's own checks (make reliability), over small synthetic event lists: fast and deterministic.</summary>
public sealed class ReliabilityAuditTests
{
    private static Expectations Expected(string[] payments, string[] paid, params (string Key, bool Answered)[] reservations)
    {
        var expected = new Expectations();
        expected.PaymentEventIds.UnionWith(payments);
        expected.PaidCertificates.UnionWith(paid);
        foreach (var (key, answered) in reservations)
        {
            expected.Reservations[key] = answered;
        }

        return expected;
    }

    [Test]
    public void A_clean_stream_passes()
    {
        StreamEvent[] events =
        [
            new("e1", "certificate.reserved", "c1", "cmd-1"),
            new("e2", "certificate.issued", "c1", "order-1"),
            new("e3", "notification.requested", "c1", "order-1"),
            new("e4", "certificate.authorized", "c1", "pay-1"),
            new("e5", "certificate.redeemed", "c1", "pay-2"),
            new("e6", "certificate.hold_released", "c1", "pay-3"),
            new("e7", "operation.rejected", "c1", "pay-4"),
        ];

        var report = StreamAudit.Check(events, Expected(["pay-1", "pay-2", "pay-3", "pay-4"], ["c1"], ("r1", true)));

        Assert.That(report.Ok, Is.True, string.Join("\n", report.Lines()));
        Assert.That((report.Events, report.Payments, report.PaidOrders, report.Reservations), Is.EqualTo((7, 4, 1, 1)));
    }

    [Test]
    public void A_payment_without_outcome_is_lost_and_one_with_two_outcomes_is_duplicated()
    {
        StreamEvent[] events =
        [
            new("e1", "certificate.redeemed", "c1", "pay-1"),
            new("e2", "certificate.redeemed", "c1", "pay-1"), // the same payment applied twice (a new event id)
            new("e3", "certificate.locked", "c1", "pay-2"), // not a payment outcome: pay-2 is still without one
        ];

        var report = StreamAudit.Check(events, Expected(["pay-1", "pay-2", "pay-3"], []));

        Assert.That(report.Ok, Is.False);
        Assert.That((report.PaymentsLost, report.PaymentsDuplicated, report.DuplicatedEventIds), Is.EqualTo((2, 1, 0)));
        Assert.That(report.Examples, Has.Some.Contains("pay-1").And.Some.Contains("pay-3"));
    }

    [Test]
    public void An_event_id_naming_two_different_events_and_a_certificate_issued_twice_are_violations()
    {
        StreamEvent[] events =
        [
            new("e1", "certificate.issued", "c1", "order-1", Content: "A"),
            new("e1", "certificate.issued", "c1", "order-1", Content: "B"), // another event under the same id
            new("e2", "certificate.issued", "c1", "order-9", Content: "C"), // c1 issued by a second order
            new("e3", "certificate.issued", "c2", "order-2", Content: "D"),
        ];

        var report = StreamAudit.Check(events, Expected([], ["c1", "c2", "c3"]));

        Assert.That((report.DuplicatedEventIds, report.IssuedTwice, report.OrdersNotIssued, report.Copies), Is.EqualTo((1, 1, 1, 0)));
        Assert.That(report.Ok, Is.False);
        Assert.That(report.Examples, Has.Some.Contains("e1").And.Contains("different content"));
    }

    [Test]
    public void A_byte_identical_copy_of_an_event_is_read_once_and_counted_apart()
    {
        // on the embedded broker: the writes of a transaction that never committed (visible there), then the same decision
        // committed by the task's next owner — the same record twice
        StreamEvent[] events =
        [
            new("e1", "certificate.issued", "c1", "order-1", Content: "A"),
            new("e2", "certificate.redeemed", "c1", "pay-1", Content: "B"),
            new("e1", "certificate.issued", "c1", "order-1", Content: "A"),
            new("e2", "certificate.redeemed", "c1", "pay-1", Content: "B"),
        ];

        var report = StreamAudit.Check(events, Expected(["pay-1"], ["c1"]));

        Assert.That((report.Copies, report.DuplicatedEventIds, report.IssuedTwice, report.PaymentsDuplicated), Is.EqualTo((2, 0, 0, 0)));
        Assert.That(report.Ok, Is.True, string.Join("\n", report.Lines()));
        Assert.That(report.Lines(), Has.Some.Contains("byte-identical copies 2"));
    }

    [Test]
    public void A_redelivered_input_answered_twice_with_the_same_alert_is_counted_but_not_a_violation()
    {
        StreamEvent[] events =
        [
            new("e1", "certificate.redeemed", "c1", "pay-1"),
            new("e2", "alert", "c1", "pay-1", "DUPLICATE_EVENT capture ignored: input pay-1 was delivered again"),
            new("e2", "alert", "c1", "pay-1", "DUPLICATE_EVENT capture ignored: input pay-1 was delivered again"),
            new("e3", "alert", "c1", "pay-2", "LOCKED_CERTIFICATE_USE capture attempted on locked certificate c1"),
        ];

        var report = StreamAudit.Check(events, Expected(["pay-1"], []));

        Assert.That((report.RedeliveryAlerts, report.RepeatedRedeliveryAlerts, report.DuplicatedEventIds, report.PaymentsDuplicated), Is.EqualTo((2, 1, 0, 0)));
        Assert.That(report.Ok, Is.True);
    }

    [Test]
    public void A_reservation_never_answered_is_a_violation()
    {
        var report = StreamAudit.Check([], Expected([], [], ("r1", true), ("r2", false)));

        Assert.That((report.Reservations, report.ReservationsUnanswered, report.Ok), Is.EqualTo((2, 1, false)));
        Assert.That(report.Lines(), Has.Some.Contains("never answered 1"));
    }

    [Test]
    public void Concurrent_reservations_must_give_each_certificate_once_and_pool_empty_to_the_rest()
    {
        ApiAnswerRecord[] good = [new("k1", "c1", null), new("k2", "c2", null), new("k3", null, "POOL_EMPTY")];
        ApiAnswerRecord[] doubled = [new("k1", "c1", null), new("k2", "c1", null), new("k3", null, "POOL_EMPTY")];
        ApiAnswerRecord[] other = [new("k1", "c1", null), new("k2", "c2", null), new("k3", null, "no answer")];

        Assert.That(StreamAudit.CheckReservations(good, poolSize: 2), Is.Empty);
        Assert.That(StreamAudit.CheckReservations(doubled, poolSize: 2), Has.Some.Contains("reserved twice").And.Some.Contains("1 distinct"));
        Assert.That(StreamAudit.CheckReservations(other, poolSize: 2), Has.Some.Contains("0 POOL_EMPTY").And.Some.Contains("no answer x1"));
    }
}
