using System.Text;
using GcpStreams.Domain.Certificates;

namespace GcpStreams.Domain.Tests;

/// <summary>
/// The CVC is a secret: derived, never stored, disclosed to the notifier while a notification request has no result (every read
/// audited), or per support ticket.
/// </summary>
public class CvcDisclosureTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a-test-cvc-key-of-32-bytes-long!");

    [Test]
    public void GettingTheCvc_ForAPendingNotification_IsAllowedAndEveryReadIsAudited()
    {
        var s = CertificateScenario.Issued();

        var disclosed = (CvcDisclosed)s.When(s.RevealForNotification(s.NotificationId)).Single();
        var again = (CvcDisclosed)s.When(s.RevealForNotification(s.NotificationId)).Single(); // a retry after a failed send or a lost answer

        Assert.That((disclosed.Kind, disclosed.KeyVersion, disclosed.DisclosuresSoFar), Is.EqualTo((DisclosureKind.Notification, 3, 1)));
        Assert.That(again.DisclosuresSoFar, Is.EqualTo(2), "each read is its own cvc.disclosed");
        Assert.That(s.Active.PendingNotifications.Select(p => p.NotificationId), Is.EqualTo(new[] { s.NotificationId }), "the grant stays open until the result");
    }

    [TestCase(NotificationOutcome.Sent, false)]
    [TestCase(NotificationOutcome.Failed, false)]
    public void GettingTheCvc_AfterTheNotificationsResult_IsRejected(NotificationOutcome outcome, bool willRetry)
    {
        var s = CertificateScenario.Issued();
        var notificationId = s.NotificationId;
        s.When(s.RevealForNotification(notificationId));

        s.When(s.Result(notificationId, outcome, attempt: 2, willRetry: willRetry));

        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForNotification(notificationId)), RejectionReason.CvcDisclosureNotAllowed);
        Assert.That(s.Active.PendingNotifications, Is.Empty);
        Assert.That(s.Active.CvcDisclosures, Is.EqualTo(1));
    }

    [Test]
    public void GettingTheCvc_AfterAFailureTheNotifierWillRetry_IsStillAllowed()
    {
        var s = CertificateScenario.Issued();
        var notificationId = s.NotificationId;

        s.When(s.Result(notificationId, NotificationOutcome.Failed, attempt: 1, willRetry: true, reason: "smtp 451 try later"));

        Assert.That(s.When(s.RevealForNotification(notificationId)).Single(), Is.TypeOf<CvcDisclosed>());
    }

    [Test]
    public void NotificationRequestedAgain_HasANewIdTheCallerAndTheReason_AndGrantsItsOwnReads()
    {
        var s = CertificateScenario.Issued();
        var first = s.NotificationId;
        s.When(s.Result(first, NotificationOutcome.Sent));

        var again = (NotificationRequested)s.When(s.RequestAgain(contact: ContactChannel.Sms)).Single();

        Assert.That(again.NotificationId, Is.Not.EqualTo(first));
        Assert.That((again.ClientId, again.Contact, again.NominalMinor, again.RequestedBy, again.Reason),
            Is.EqualTo(("client-1", ContactChannel.Sms, CertificateScenario.Nominal, "support-1", "buyer lost the e-mail")));
        Assert.That(s.When(s.RevealForNotification(again.NotificationId)).Single(), Is.TypeOf<CvcDisclosed>());
        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForNotification(first)), RejectionReason.CvcDisclosureNotAllowed);
        Assert.That(s.Active.CvcDisclosuresAllowed, Is.EqualTo(2));
    }

    [Test]
    public void NotificationRequestedAgain_OfALockedCertificateOrWithoutAReason_IsRejected()
    {
        var s = CertificateScenario.Issued();

        CertificateLifecycleTests.AssertRejected(s.When(s.RequestAgain(reason: " ")), RejectionReason.InvalidStatus);
        s.When(s.Lock());
        CertificateLifecycleTests.AssertRejected(s.When(s.RequestAgain()), RejectionReason.Locked);
        Assert.That(s.Active.PendingNotifications, Has.Count.EqualTo(1));
    }

    [Test]
    public void PendingNotifications_AreBounded_TheOldestGrantIsDropped()
    {
        var s = CertificateScenario.Issued();
        var issueNotification = s.NotificationId;

        for (var i = 0; i < PendingNotification.MaxPending + 3; i++)
        {
            s.When(s.RequestAgain());
        }

        Assert.That(s.Active.PendingNotifications, Has.Count.EqualTo(PendingNotification.MaxPending), "a gc.cvc client cannot grow the state without bound");
        Assert.That(s.Active.Pending(issueNotification), Is.Null, "the oldest went first");
        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForNotification(issueNotification)), RejectionReason.CvcDisclosureNotAllowed);
        Assert.That(s.When(s.RevealForNotification(s.NotificationId)).Single(), Is.TypeOf<CvcDisclosed>(), "the newest is open");
    }

    [Test]
    public void ANotificationWithoutAResultAfterTheSla_IsOverdueOnce()
    {
        var s = CertificateScenario.Issued();
        var notificationId = s.NotificationId;
        var due = s.Now + CertificateSettings.DefaultNotificationOverdueAfter;

        var overdue = (NotificationOverdue)s.When(s.OverdueCheck(notificationId, due)).Single();

        Assert.That((overdue.NotificationId, overdue.RequestedAt, overdue.Sla, overdue.ClientId, overdue.At),
            Is.EqualTo((notificationId, CertificateScenario.Start, CertificateSettings.DefaultNotificationOverdueAfter, "client-1", due)));
        Assert.That(s.Active.Pending(notificationId)!.Overdue, Is.True);
        Assert.That(s.When(s.OverdueCheck(notificationId, due)), Is.Empty, "the same timer again: nothing");
        Assert.That(s.When(s.OverdueCheck(notificationId, due.AddMinutes(1)) with { CausationId = "another-timer" }), Is.Empty, "once per notification");
        Assert.That(s.When(s.RevealForNotification(notificationId)).Single(), Is.TypeOf<CvcDisclosed>(), "late is not closed: the notifier may still send it");
    }

    [Test]
    public void ANotificationWithAResult_IsNeverOverdue()
    {
        var s = CertificateScenario.Issued();
        var notificationId = s.NotificationId;
        s.When(s.Result(notificationId, NotificationOutcome.Sent));

        Assert.That(s.When(s.OverdueCheck(notificationId, s.Now.AddMinutes(5))), Is.Empty);
        s.When(s.Cancel());
        Assert.That(s.When(s.OverdueCheck("any", s.Now.AddMinutes(5))), Is.Empty, "a cancelled certificate has nothing pending");
    }

    [Test]
    public void GettingTheCvc_WithoutANotificationRequest_IsRejected()
    {
        var s = CertificateScenario.Issued();

        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForNotification(null)), RejectionReason.CvcDisclosureNotAllowed);
        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForNotification("made-up")), RejectionReason.CvcDisclosureNotAllowed);
    }

    [Test]
    public void GettingTheCvc_ForSupport_NeedsATicketAndIsAllowedOncePerTicket()
    {
        var s = CertificateScenario.Issued();

        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForSupport(" ")), RejectionReason.CvcDisclosureNotAllowed);
        var disclosed = (CvcDisclosed)s.When(s.RevealForSupport("TICKET-7")).Single();
        Assert.That((disclosed.SupportTicket, disclosed.Reason, disclosed.RequestedBy, disclosed.Agent), Is.EqualTo(("TICKET-7", "buyer lost the e-mail", "support-1", "agent-7")),
            "the disclosure event names the ticket, the reason, the client who asked and the agent (never the CVC)");
        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForSupport("TICKET-7")), RejectionReason.CvcDisclosureNotAllowed);
        Assert.That(s.When(s.RevealForSupport("TICKET-8")).Single(), Is.TypeOf<CvcDisclosed>());
        Assert.That(s.Active.CvcDisclosures, Is.EqualTo(2));
        Assert.That(s.Active.CvcDisclosuresAllowed, Is.EqualTo(3), "one notification + two tickets");
    }

    [Test]
    public void GettingTheCvc_ForSupport_WithoutAReason_IsRejected()
    {
        var s = CertificateScenario.Issued();

        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForSupport("TICKET-7", reason: " ")), RejectionReason.CvcDisclosureNotAllowed);
        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForSupport("TICKET-7", reason: null)), RejectionReason.CvcDisclosureNotAllowed);
        Assert.That(s.Active.CvcDisclosures, Is.Zero);
    }

    [Test]
    public void GettingTheCvc_ForSupport_WithInventedTickets_StopsAtTheDailyCap()
    {
        var s = CertificateScenario.Issued();
        for (var i = 1; i <= CertificateSettings.DefaultSupportDisclosuresPerDay; i++)
        {
            Assert.That(s.When(s.RevealForSupport($"made-up-{i}")).Single(), Is.TypeOf<CvcDisclosed>());
            s.Advance(TimeSpan.FromHours(1));
        }

        var refused = s.When(s.RevealForSupport("made-up-99"));

        CertificateLifecycleTests.AssertRejected(refused, RejectionReason.CvcDisclosureNotAllowed);
        Assert.That(((CertificateOperationRejected)refused[0]).Message, Does.Contain("last 24 hours"));
        var alert = (CertificateAlert)refused[1];
        Assert.That((alert.Kind, alert.Severity), Is.EqualTo((AlertKind.CvcDisclosureLimit, AlertSeverity.Warning)), "hitting the cap raises an alert");
        Assert.That(alert.Message, Does.Contain("support-1").And.Contain("made-up-99"));
        s.Advance(TimeSpan.FromHours(22)); // the first disclosure is now more than 24 hours old
        Assert.That(s.When(s.RevealForSupport("made-up-100")).Single(), Is.TypeOf<CvcDisclosed>(), "the cap is per 24 hours, rolling");
    }

    [Test]
    public void SupportDisclosures_AreRememberedBoundedWhateverTheTickets()
    {
        var s = CertificateScenario.Issued();
        var settings = CertificateSettings.Default with { SupportDisclosuresPerDay = 1_000 };
        var state = s.State;
        for (var i = 0; i < SupportDisclosure.MaxRemembered + 50; i++)
        {
            var ticket = new string('T', 60) + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var disclosed = CertificateDecider.Decide(s.RevealForSupport(ticket) with { At = s.Now.AddMinutes(i) }, state, settings).Single();
            state = CertificateDecider.Evolve(state, disclosed);
        }

        var remembered = ((Certificate.Active)state!).SupportDisclosures;
        Assert.That(remembered, Has.Count.EqualTo(SupportDisclosure.MaxRemembered), "the oldest are forgotten");
        Assert.That(remembered.Select(d => d.TicketDigest.Length).Distinct(), Is.EqualTo(new[] { 36 }), "a fixed-size digest, never the ticket itself");

        var later = CertificateDecider.Decide(s.RevealForSupport("T-1") with { At = s.Now + SupportDisclosure.Memory + TimeSpan.FromDays(1) }, state, settings).Single();
        state = CertificateDecider.Evolve(state, later);
        Assert.That(((Certificate.Active)state!).SupportDisclosures, Has.Count.EqualTo(1), "a month later only the new one is remembered");
    }

    [Test]
    public void GettingTheCvc_ForSupport_CapIsConfigured()
    {
        var s = CertificateScenario.Issued();
        var settings = CertificateSettings.Default with { SupportDisclosuresPerDay = 1 };

        var first = CertificateDecider.Decide(s.RevealForSupport("T-1"), s.State, settings).Single();
        var state = CertificateDecider.Evolve(s.State, first);

        Assert.That(first, Is.TypeOf<CvcDisclosed>());
        CertificateLifecycleTests.AssertRejected(CertificateDecider.Decide(s.RevealForSupport("T-2"), state, settings), RejectionReason.CvcDisclosureNotAllowed);
    }

    [Test]
    public void GettingTheCvc_OfALockedCertificate_IsRejectedWithAnAlert()
    {
        var s = CertificateScenario.Issued();
        s.When(s.Lock());

        var events = s.When(s.RevealForNotification(s.NotificationId));

        CertificateLifecycleTests.AssertRejected(events, RejectionReason.Locked);
        Assert.That(events.OfType<CertificateAlert>().Single().Kind, Is.EqualTo(AlertKind.LockedCertificateUse));
    }

    [Test]
    public void GettingTheCvc_OfAnUnknownCertificate_IsRejected()
    {
        var s = new CertificateScenario();

        CertificateLifecycleTests.AssertRejected(s.When(s.RevealForSupport("T-1")), RejectionReason.NotFound);
    }

    [Test]
    public void Cvc_IsDerivedDeterministicallyAndDependsOnKeyVersionAndCertificate()
    {
        var a = Cvc.Derive(Key, 1, "7712345678901234");

        Assert.That(a, Does.Match("^[0-9]{4}$"));
        Assert.That(Cvc.Derive(Key, 1, "7712345678901234"), Is.EqualTo(a));
        var others = Enumerable.Range(0, 20).Select(i => Cvc.Derive(Key, 1, $"77123456789012{i:D2}")).ToHashSet();
        Assert.That(others, Has.Count.GreaterThan(10), "different certificates get spread-out CVCs");
        Assert.That(Enumerable.Range(2, 10).Select(v => Cvc.Derive(Key, v, "7712345678901234")), Has.Some.Not.EqualTo(a));
        Assert.That(Cvc.Derive(Key, 1, "7712345678901234", digits: 3), Does.Match("^[0-9]{3}$"));
    }

    [Test]
    public void Cvc_RefusesAShortKeyAndOddLengths()
    {
        Assert.That(() => Cvc.Derive(new byte[8], 1, "7712345678901234"), Throws.ArgumentException);
        Assert.That(() => Cvc.Derive(Key, 1, "7712345678901234", digits: 2), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => Cvc.Derive(Key, 1, "7712345678901234", digits: 9), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void CvcEvents_NeverContainTheCvc()
    {
        var s = CertificateScenario.Issued();
        s.When(s.RevealForNotification(s.NotificationId));
        var cvc = Cvc.Derive(Key, 3, CertificateScenario.Id);

        foreach (var e in s.History)
        {
            Assert.That(e.ToString(), Does.Not.Contain($"={cvc}").And.Not.Contain($" {cvc},"), e.EventType);
        }

        Assert.That(typeof(CvcDisclosed).GetProperties().Select(p => p.Name), Has.None.EqualTo("Cvc"));
    }
}
