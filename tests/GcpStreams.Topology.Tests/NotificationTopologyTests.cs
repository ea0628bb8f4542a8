using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>Telling the buyer: the notification request with the client's contact channel, CRM's results, the CVC once.</summary>
public class NotificationTopologyTests
{
    [Test]
    public void NotificationRequestedAfterIssue_UsesTheClientsContactChannel()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        f.Client("client-sms", C.ContactChannel.SMS);
        f.Client("client-mail", C.ContactChannel.EMAIL);
        var sms = f.Reserve(orderId: "order-1").certificateId;
        var mail = f.Reserve(orderId: "order-2").certificateId;
        var unknown = f.Reserve(orderId: "order-3").certificateId;
        f.Drain();

        f.PayOrder(sms, "order-1", clientId: "client-sms");
        f.PayOrder(mail, "order-2", clientId: "client-mail");
        f.PayOrder(unknown, "order-3", clientId: "client-not-in-crm");

        var requested = f.Events().Where(e => e.Value.eventType == "notification.requested").ToDictionary(e => e.Key!, e => e.Payload<C.NotificationRequested>());
        Assert.That(requested.Keys, Is.EquivalentTo(new[] { sms, mail, unknown }));
        Assert.That((requested[sms].contactChannel, requested[sms].clientId), Is.EqualTo((C.ContactChannel.SMS, "client-sms")));
        Assert.That((requested[mail].contactChannel, requested[mail].clientId), Is.EqualTo((C.ContactChannel.EMAIL, "client-mail")));
        Assert.That(requested[unknown].contactChannel, Is.EqualTo(C.ContactChannel.NONE), "CRM resolves a client it did not publish yet");
        Assert.That(requested.Values.Select(r => r.notificationId).Distinct().Count(), Is.EqualTo(3));
        Assert.That(f.States().Select(s => s.Value.cvcDisclosuresAllowed), Is.All.EqualTo(1), "each notification request allows one CVC disclosure");
    }

    [Test]
    public void NotificationResults_SentAndFailedArePublished()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        f.Client("client-1", C.ContactChannel.SMS);
        var id = f.Reserve().certificateId;
        f.PayOrder(id, clientId: "client-1");
        var notificationId = f.Events().One("notification.requested").Payload<C.NotificationRequested>().notificationId;
        f.Drain();

        f.NotificationResult(id, notificationId, C.NotificationOutcome.FAILED, attempt: 1, reason: "gateway timeout");
        f.NotificationResult(id, notificationId, C.NotificationOutcome.SENT, attempt: 2);
        f.NotificationResult(id, notificationId, C.NotificationOutcome.FAILED, attempt: 5, reason: "number unreachable");

        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "notification.failed", "notification.sent", "notification.failed" }));
        Assert.That(events.Select(e => e.Key), Is.All.EqualTo(id));
        var retried = events[0].Payload<C.NotificationFailed>();
        Assert.That((retried.notificationId, retried.contactChannel, retried.attempt, retried.reason, retried.willRetry),
            Is.EqualTo((notificationId, C.ContactChannel.SMS, 1, "gateway timeout", true)));
        var sent = events[1].Payload<C.NotificationSent>();
        Assert.That((sent.notificationId, sent.contactChannel, sent.attempt), Is.EqualTo((notificationId, C.ContactChannel.SMS, 2)));
        var final = events[2].Payload<C.NotificationFailed>();
        Assert.That((final.attempt, final.willRetry), Is.EqualTo((5, false)), "the last allowed attempt is final");
        Assert.That(f.DeadLetters(), Is.Empty);
    }

    [Test]
    public void CvcReveal_WhileTheNotificationIsPending_ThenRejectedAfterItsResult_AndTheEventCarriesNoCvc()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.Reserve().certificateId;
        f.PayOrder(id);
        var notificationId = f.Events().One("notification.requested").Payload<C.NotificationRequested>().notificationId;
        f.Drain();

        var first = f.RevealCvc(id, notificationId);

        Assert.That((first.outcome, first.cvcKeyVersion, first.certificateId), Is.EqualTo((C.ReplyOutcome.ACCEPTED, (int?)TopologyFixture.Settings.CvcKeyVersion, id)));
        var disclosed = f.Events().Single();
        Assert.That(disclosed.Value.eventType, Is.EqualTo("cvc.disclosed"));
        var payload = disclosed.Payload<C.CvcDisclosed>();
        Assert.That((payload.requestId, payload.kind, payload.notificationId, payload.keyVersion, payload.requestedBy, payload.disclosuresSoFar),
            Is.EqualTo((first.requestId, C.DisclosureKind.NOTIFICATION, notificationId, 2, "pos-terminal-7", 1)));
        // no CVC anywhere: the event, the reply and the state have no field that could hold one
        Assert.That(((Avro.RecordSchema)payload.Schema).Fields.Select(field => field.Name),
            Is.EquivalentTo(new[] { "requestId", "kind", "notificationId", "supportTicket", "reason", "keyVersion", "requestedBy", "disclosuresSoFar", "agent" }));
        Assert.That(((Avro.RecordSchema)C.CommandReply._SCHEMA).Fields.Select(field => field.Name).Where(n => n.Contains("cvc", StringComparison.OrdinalIgnoreCase)), Is.EqualTo(new[] { "cvcKeyVersion" }));
        var state = f.States().Single().Value;
        Assert.That((state.cvcDisclosures, state.cvcDisclosuresAllowed), Is.EqualTo((1, 1)));

        // a retry (after a failed send, a lost answer, a restart): read again, audited again
        Assert.That(f.RevealCvc(id, notificationId).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(f.Events().One("cvc.disclosed").Payload<C.CvcDisclosed>().disclosuresSoFar, Is.EqualTo(2));

        f.NotificationResult(id, notificationId, C.NotificationOutcome.SENT, attempt: 2, contact: C.ContactChannel.EMAIL);
        f.Drain();
        var after = f.RevealCvc(id, notificationId);

        Assert.That((after.outcome, after.reason, after.cvcKeyVersion), Is.EqualTo((C.ReplyOutcome.REJECTED, "CVC_DISCLOSURE_NOT_ALLOWED", (int?)null)));
        var refused = f.Events();
        Assert.That(refused.Types(), Is.EqualTo(new[] { "operation.rejected" }));
        Assert.That(refused.Rejection().reason, Is.EqualTo(C.RejectionReason.CVC_DISCLOSURE_NOT_ALLOWED));
        Assert.That(f.States(), Is.Empty);

        // a notification that was never requested allows nothing either
        var madeUp = f.RevealCvc(id, "notification-that-never-was");
        Assert.That(madeUp.reason, Is.EqualTo("CVC_DISCLOSURE_NOT_ALLOWED"));
        // support may see it once per ticket, with a reason naming it
        Assert.That(f.RevealCvcToSupport(id, "TICKET-42").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        var toSupport = f.Events().One("cvc.disclosed").Payload<C.CvcDisclosed>();
        Assert.That((toSupport.kind, toSupport.supportTicket, toSupport.reason, toSupport.requestedBy, toSupport.agent),
            Is.EqualTo((C.DisclosureKind.SUPPORT, "TICKET-42", "buyer lost the e-mail", Inputs.Caller, Inputs.Agent)), "the event names ticket, reason, caller and agent");
        Assert.That(f.RevealCvcToSupport(id, "TICKET-42").reason, Is.EqualTo("CVC_DISCLOSURE_NOT_ALLOWED"));
    }

    [Test]
    public void NotificationResult_WillRetryAsTheNotifierSays_AFinalFailureClosesTheGrant()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.Reserve().certificateId;
        f.PayOrder(id);
        var notificationId = f.Events().One("notification.requested").Payload<C.NotificationRequested>().notificationId;
        f.Drain();

        f.NotificationResult(id, notificationId, C.NotificationOutcome.FAILED, attempt: 7, reason: "smtp 451", willRetry: true);
        Assert.That(f.Events().One("notification.failed").Payload<C.NotificationFailed>().willRetry, Is.True, "attempt 7 of a notifier that says it retries");
        Assert.That(f.RevealCvc(id, notificationId).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));

        f.NotificationResult(id, notificationId, C.NotificationOutcome.FAILED, attempt: 1, reason: "smtp 550 5.1.1 no such mailbox", willRetry: false);
        Assert.That(f.Events().One("notification.failed").Payload<C.NotificationFailed>().willRetry, Is.False);
        f.Drain();
        Assert.That(f.RevealCvc(id, notificationId).reason, Is.EqualTo("CVC_DISCLOSURE_NOT_ALLOWED"), "a final failure closes the grant: no further reads");
    }

    [Test]
    public void NotificationRequestedAgain_ANewNotificationWithItsOwnGrant_WithTheCallerReasonAndContact()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        f.Client("client-1", C.ContactChannel.EMAIL);
        var id = f.Reserve().certificateId;
        f.PayOrder(id, clientId: "client-1");
        var first = f.Events().One("notification.requested").Payload<C.NotificationRequested>();
        f.NotificationResult(id, first.notificationId, C.NotificationOutcome.SENT, contact: C.ContactChannel.EMAIL);
        f.Client("client-1", C.ContactChannel.SMS); // the buyer changed their preference since
        f.Drain();

        var reply = f.RequestNotification(id, "buyer lost the e-mail");

        Assert.That(reply.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        var again = f.Events().One("notification.requested");
        var payload = again.Payload<C.NotificationRequested>();
        Assert.That(payload.notificationId, Is.Not.EqualTo(first.notificationId).And.EqualTo(reply.notificationId));
        Assert.That((payload.clientId, payload.contactChannel, payload.nominalMinor, payload.requestedBy, payload.reason),
            Is.EqualTo(("client-1", C.ContactChannel.SMS, (long?)first.nominalMinor, "pos-terminal-7", "buyer lost the e-mail")));
        Assert.That(first.nominalMinor, Is.GreaterThan(0));
        Assert.That(f.States().Single().Value.cvcDisclosuresAllowed, Is.EqualTo(2));
        Assert.That(f.RevealCvc(id, payload.notificationId).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(f.RevealCvc(id, first.notificationId).reason, Is.EqualTo("CVC_DISCLOSURE_NOT_ALLOWED"));

        f.Lock(id);
        Assert.That(f.RequestNotification(id).reason, Is.EqualTo("LOCKED"), "unlock before sending the CVC again");
    }

    [Test]
    public void ANotificationWithoutAResultAfterTheSla_RaisesNotificationOverdueOnce()
    {
        var settings = TopologyFixture.Settings with { NotificationOverdueAfter = TimeSpan.FromMinutes(5), NotificationSweepInterval = TimeSpan.FromSeconds(1) };
        using var f = new TopologyFixture(settings);
        f.LoadPool();
        var late = f.Reserve(orderId: "order-1").certificateId;
        var done = f.Reserve(orderId: "order-2").certificateId;
        f.PayOrder(late, "order-1"); // at T0: the driver's wall clock is past T0 + SLA at its first sweep
        f.PayOrder(done, "order-2");
        var requested = f.Events().Where(e => e.Value.eventType == "notification.requested").ToDictionary(e => e.Key!, e => e.Payload<C.NotificationRequested>().notificationId);
        f.NotificationResult(done, requested[done], C.NotificationOutcome.SENT);
        f.Drain();

        f.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(2));

        var overdue = f.Events().Where(e => e.Value.eventType == "notification.overdue").ToList();
        Assert.That(overdue.Select(e => e.Key), Is.EqualTo(new[] { late }), "only the notification without a result");
        var payload = overdue[0].Payload<C.NotificationOverdue>();
        Assert.That((payload.notificationId, payload.slaSeconds), Is.EqualTo((requested[late], 300)));
        Assert.That(overdue[0].Value.occurredAt, Is.EqualTo(payload.requestedAt.AddMinutes(5)).Within(TimeSpan.FromMilliseconds(1)), "decided at its deadline, not the wall clock");

        f.Driver.AdvanceWallClockTime(TimeSpan.FromSeconds(2));
        Assert.That(f.Events().Where(e => e.Value.eventType == "notification.overdue"), Is.Empty, "once");
    }
}
