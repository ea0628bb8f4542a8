using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// The daily cap of support CVC disclosures per client, kept by the intake: every support disclosure of a client is keyed by
/// the client's key, so one task counts them all, exactly once, whatever API instance they came through.
/// </summary>
public class SupportDisclosureCapTopologyTests
{
    private const int Cap = 2;
    private const string OtherClient = "support-desk-2";

    private static readonly TopologySettings CappedSettings = TopologyFixture.Settings with { SupportDisclosuresPerClientPerDay = Cap };

    [Test]
    public void GivenAClientAtItsDailyCap_WhenItAsksForAnotherSupportDisclosure_ThenTheIntakeRefusesIt_WithAnAlertKeyedByTheClient()
    {
        using var f = new TopologyFixture(CappedSettings);
        var certificates = Issued(f, 3);

        // Given: the client used its cap on two certificates
        Assert.That(f.RevealCvcToSupport(certificates[0], "TICKET-1").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(f.RevealCvcToSupport(certificates[1], "TICKET-2", at: TopologyFixture.T0.AddHours(1)).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        f.Drain();

        // When: a third certificate, later the same day
        var refused = f.RevealCvcToSupport(certificates[2], "TICKET-3", at: TopologyFixture.T0.AddHours(23));

        // Then: refused before the certificate's owner, with a message naming the client's cap
        Assert.That((refused.outcome, refused.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "CVC_DISCLOSURE_NOT_ALLOWED")));
        Assert.That(refused.message, Does.Contain($"client '{Inputs.Caller}' reached its daily cap of {Cap} support CVC disclosures").And.Contain("Gcp:SupportCvcDisclosuresPerClientPerDay"));
        Assert.That(refused.cvcKeyVersion, Is.Null);
        var events = f.Events();
        Assert.That(events.Types(), Is.EqualTo(new[] { "alert" }), "no cvc.disclosed, and no operation.rejected: the certificate never saw the request");
        var alert = events[0];
        Assert.That((alert.Key, alert.Value.certificateId, alert.Value.causationId), Is.EqualTo(((string?)Inputs.Caller, (string?)null, refused.requestId)), "keyed by the client");
        var payload = alert.Payload<C.Alert>();
        Assert.That((payload.kind, payload.severity), Is.EqualTo((C.AlertKind.CVC_DISCLOSURE_LIMIT, C.AlertSeverity.WARNING)));
        Assert.That(payload.message, Does.Contain(Inputs.Caller).And.Contain(Inputs.Agent).And.Contain(certificates[2]).And.Contain("TICKET-3"));
        Assert.That(payload.details, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["clientId"] = Inputs.Caller, ["certificateId"] = certificates[2], ["supportTicket"] = "TICKET-3", ["agent"] = Inputs.Agent, ["cap"] = "2",
        }));
        Assert.That(f.States(), Is.Empty);
        Assert.That(f.DeadLetters(), Is.Empty);

        // another client has a cap of its own
        Assert.That(f.RevealCvcToSupport(certificates[2], "TICKET-4", caller: OtherClient, at: TopologyFixture.T0.AddHours(23)).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        // the window rolls: 24 hours after its first disclosure the client may disclose one more, not two
        Assert.That(f.RevealCvcToSupport(certificates[2], "TICKET-5", at: TopologyFixture.T0.AddHours(24).AddSeconds(1)).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        Assert.That(f.RevealCvcToSupport(certificates[2], "TICKET-6", at: TopologyFixture.T0.AddHours(24).AddSeconds(2)).reason, Is.EqualTo("CVC_DISCLOSURE_NOT_ALLOWED"));
    }

    [Test]
    public void TheCap_CountsEveryRequestLetThrough_WhateverTheCertificateDecides()
    {
        using var f = new TopologyFixture(CappedSettings);
        var id = Issued(f, 1)[0];

        Assert.That(f.RevealCvcToSupport(id, "TICKET-1").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        var again = f.RevealCvcToSupport(id, "TICKET-1");
        f.Drain();
        var third = f.RevealCvcToSupport(id, "TICKET-2");

        Assert.That(again.message, Does.Contain("already disclosed for support ticket 'TICKET-1'"), "the certificate's owner refused the reuse");
        Assert.That(third.message, Does.Contain("daily cap of 2"), "the refused reuse counted: probing spends the cap as disclosing does");
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "alert" }));
    }

    [Test]
    public void ASupportDisclosureNotKeyedByItsClient_IsDeadLetteredAndRefused_AndNothingIsDisclosed()
    {
        using var f = new TopologyFixture(CappedSettings);
        var id = Issued(f, 1)[0];

        // keyed by the certificate, as any certificate command: the client's count lives in another partition's task
        var reply = f.RevealCvcToSupport(id, "TICKET-1", recordKey: id);

        Assert.That((reply.outcome, reply.reason), Is.EqualTo((C.ReplyOutcome.REJECTED, "UNKNOWN")));
        Assert.That(reply.message, Is.EqualTo($"a support CVC disclosure must be keyed by '{{caller}}:cvc-support' ('{Inputs.Caller}:cvc-support'), not '{id}'"));
        Assert.That(f.DeadLetters().Single().Value.reason, Is.EqualTo(C.DeadLetterReason.INVALID_CONTENT));
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "alert" }), "the INVALID_EVENT alert of the dead letter, no disclosure");
        Assert.That(SupportCounts(f), Is.Empty, "nothing counted");
    }

    [Test]
    public void NotificationDisclosures_AreNotCounted()
    {
        using var f = new TopologyFixture(CappedSettings with { SupportDisclosuresPerClientPerDay = 1 });
        for (var i = 0; i < 3; i++)
        {
            Assert.That(f.RevealCvc("7700000000000000", $"notification-{i}").reason, Is.EqualTo("NOT_FOUND"));
        }

        Assert.That(SupportCounts(f), Is.Empty);
    }

    [Test]
    public void TheClientsCount_IsForgottenByTheIntakesSweep_24HoursAfterEachDisclosure()
    {
        using var f = new TopologyFixture(CappedSettings);
        // Streamiz's processing-time punctuation starts from the real clock: disclosures two days ago are due to be forgotten
        var twoDaysAgo = DateTime.UtcNow.AddDays(-2);
        f.RevealCvcToSupport("7700000000000000", "TICKET-1", at: twoDaysAgo);
        f.RevealCvcToSupport("7700000000000000", "TICKET-2", at: twoDaysAgo.AddSeconds(1));
        Assert.That(SupportCounts(f).Select(key => key[..2]), Is.EquivalentTo(new[] { "s/", "s/", "x/", "x/" }), "two counted, each with its retention");

        f.Driver.AdvanceWallClockTime(TopologyFixture.Settings.ReservationSweepInterval * 2);

        Assert.That(SupportCounts(f), Is.Empty, "forgotten: the state is bounded by the cap per client and day");
    }

    [Test]
    public void AClientIdWithASlash_DoesNotShareTheCountOfAnotherClient()
    {
        using var f = new TopologyFixture(CappedSettings with { SupportDisclosuresPerClientPerDay = 1 });
        var at = TopologyFixture.T0;
        var ms = new DateTimeOffset(at).ToUnixTimeMilliseconds();

        f.RevealCvcToSupport("7700000000000000", "TICKET-1", caller: $"a/{ms + 1:D15}", at: at);

        Assert.That(f.RevealCvcToSupport("7700000000000000", "TICKET-2", caller: "a", at: at.AddMilliseconds(2)).reason, Is.EqualTo("NOT_FOUND"), "let through: the count of 'a' is empty");
        Assert.That(f.StoreEntries(StoreNames.IdempotencyKeys).Select(e => e.Key).Where(k => k.StartsWith("s/", StringComparison.Ordinal)),
            Has.Some.StartsWith("s/a%2F"), "the client is escaped in the key");
    }

    /// <summary>Issues <paramref name="count"/> certificates (reserved and paid) and drains their events.</summary>
    private static List<string> Issued(TopologyFixture f, int count)
    {
        f.LoadPool(count: count);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = f.Reserve(orderId: $"order-{i}").certificateId;
            f.PayOrder(id, $"order-{i}");
            ids.Add(id);
        }

        f.Drain();
        return ids;
    }

    /// <summary>The intake store's entries of the support counts (<c>s/…</c>) and their retention entries (<c>x/…/s/…</c>), not the request ids it also keeps (<c>q/…</c>).</summary>
    private static List<string> SupportCounts(TopologyFixture f) =>
        [.. f.StoreEntries(StoreNames.IdempotencyKeys).Select(e => e.Key).Where(k => k.StartsWith("s/", StringComparison.Ordinal) || (k.StartsWith("x/", StringComparison.Ordinal) && k.Contains("/s/", StringComparison.Ordinal)))];
}
