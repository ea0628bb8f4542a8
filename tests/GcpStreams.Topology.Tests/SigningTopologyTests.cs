using System.Text;
using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Topology.Internal;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// Issue 10, M3: only the API (with the command signing key) may give commands, and only the topology may write its internal
/// topics and its replies. A command or an internal record without a valid signature, a stale command, or a copy of one
/// already carried out is dead-lettered with an INVALID_EVENT alert, decides nothing and gets no reply.
/// </summary>
public class SigningTopologyTests
{
    private static readonly DateTime T0 = TopologyFixture.T0;
    private static readonly RecordSigner OtherKey = new(Encoding.UTF8.GetBytes("not-the-service-command-signing-key!!"));

    [Test]
    public void GivenAnUnsignedCommand_WhenPiped_ThenItIsDeadLetteredUnauthenticated_WithNoReplyAndNoDecision()
    {
        using var f = new TopologyFixture();

        var offset = f.NextOffset(Topics.Commands.Name);
        f.PipeCommand(Inputs.Pool, Inputs.NewCommand(Load(), "req-unsigned"), sign: false);

        AssertRefused(f, C.DeadLetterReason.UNAUTHENTICATED, offset, "no gcp-signature header");
        Assert.That(f.StoreEntries(StoreNames.Pools), Is.Empty, "no pool was created");
    }

    [Test]
    public void GivenACommandSignedWithAnotherKey_WhenPiped_ThenItIsDeadLetteredUnauthenticated_WithNoReply()
    {
        using var f = new TopologyFixture();

        var offset = f.NextOffset(Topics.Commands.Name);
        f.PipeCommand(Inputs.Pool, Inputs.NewCommand(Load(), "req-other-key"), OtherKey);

        AssertRefused(f, C.DeadLetterReason.UNAUTHENTICATED, offset, "a key this service does not accept");
        Assert.That(f.StoreEntries(StoreNames.Pools), Is.Empty);
    }

    [Test]
    public void GivenASignedCommandWhoseCallerWasChanged_WhenPiped_ThenItIsDeadLetteredUnauthenticated_AndTheCertificateIsNotLocked()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();

        // the API signed a lock asked by pos-terminal-7; someone who can write the topic puts another caller in it
        var signed = Inputs.NewCommand(new C.LockCertificate { certificateId = id, reason = "card reported stolen" }, "req-tampered");
        var key = Encoding.UTF8.GetBytes(id);
        var headers = TopologyFixture.Signer.Signed(Topics.Commands.Name, key, f.Codec.Encode(Topics.Commands, signed));
        signed.caller = "support";
        var offset = f.NextOffset(Topics.Commands.Name);
        f.PipeRaw(Topics.Commands.Name, key, f.Codec.Encode(Topics.Commands, signed), T0, headers);

        AssertRefused(f, C.DeadLetterReason.UNAUTHENTICATED, offset, "does not match the record");
        Assert.That(f.Lock(id).outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), "the ledger was not locked by the changed command: a signed lock is the first");
    }

    [Test]
    public void GivenAStaleSignedCommand_WhenAppendedLaterThanTheWindow_ThenItIsDeadLetteredReplayed_WithNoReply_AndOneWithinTheWindowIsCarriedOut()
    {
        using var f = new TopologyFixture();
        var window = TopologyFixture.Settings.CommandMaxAge;

        var offset = f.NextOffset(Topics.Commands.Name);
        f.PipeCommand(Inputs.Pool, Inputs.NewCommand(Load(), "req-stale", at: T0), appendedAt: T0 + window + TimeSpan.FromSeconds(1));
        AssertRefused(f, C.DeadLetterReason.REPLAYED, offset, "more than the 300 s allowed");

        f.PipeCommand(Inputs.Pool, Inputs.NewCommand(Load(), "req-fresh", at: T0), appendedAt: T0 + window - TimeSpan.FromSeconds(1));
        Assert.That(f.Replies("req-fresh").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), "within the window: carried out");
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "pool.loaded" }));
    }

    [Test]
    public void GivenACopyOfACommandAlreadyCarriedOut_WhenPipedAgainWithinTheWindow_ThenItIsDeadLetteredReplayed_AndNothingIsReservedTwice()
    {
        using var f = new TopologyFixture();
        f.LoadPool(count: 5);
        f.Drain();
        var reserve = Inputs.NewCommand(new C.ReserveCertificate { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, orderId = "order-1", holdSeconds = 900 },
            "req-copied", at: T0.AddMinutes(1));
        f.PipeCommand(Inputs.Pool, reserve);
        Assert.That(f.Replies("req-copied").outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED));
        f.Drain();

        // the same signed bytes, written again by someone who read the topic
        var offset = f.NextOffset(Topics.Commands.Name);
        f.PipeCommand(Inputs.Pool, reserve, appendedAt: T0.AddMinutes(2));

        var letter = AssertRefused(f, C.DeadLetterReason.REPLAYED, offset, "carried out already");
        Assert.That(letter.message, Does.Contain($"{Topics.Commands}/0/{offset - 1}"), "names the record that carried it out");
        Assert.That(f.StoreEntries(StoreNames.Pools).Count(e => e.Key.StartsWith("r/", StringComparison.Ordinal)), Is.EqualTo(1), "one reservation");
    }

    [Test]
    public void GivenAForgedIssueCertificateOnTheCertificateInputTopic_WhenUnsignedOrSignedWithAnotherKey_ThenItIsDeadLettered_AndNoCertificateIsMinted()
    {
        using var f = new TopologyFixture();
        var topic = new InternalTopics(TopologyFixture.AppId).CertificateInput.Name;
        var (key, value) = ForgedIssue("7700000000000017");

        f.PipeInternal(topic, key, value);
        f.PipeInternal(topic, key, value, OtherKey);
        f.Settle();

        var letters = f.DeadLetters();
        Assert.That(letters.Select(l => (l.Value.sourceTopic, l.Value.reason)), Is.EqualTo(new[] { (topic, C.DeadLetterReason.UNAUTHENTICATED), (topic, C.DeadLetterReason.UNAUTHENTICATED) }));
        Assert.That(letters.Select(l => l.Value.value), Is.All.EqualTo(value), "the forged record is kept for inspection");
        var events = f.Events();
        Assert.That(events.Select(e => e.Payload<C.Alert>().kind), Is.EqualTo(new[] { C.AlertKind.INVALID_EVENT, C.AlertKind.INVALID_EVENT }), "announced, and nothing else");
        Assert.That(f.StoreEntries(StoreNames.Certificates), Is.Empty, "no ledger was opened");
        Assert.That(f.States(), Is.Empty);

        // the control: the same record signed by the topology's key is what the owner decides
        f.PipeInternal(topic, key, value, TopologyFixture.Signer);
        f.Settle();
        Assert.That(f.Events().Types(), Does.Contain("certificate.issued"));
    }

    [Test]
    public void GivenAForgedReleaseOnThePoolInputTopic_WhenUnsigned_ThenItIsDeadLettered_AndTheReservationHolds()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var reserved = f.Reserve();
        f.Drain();
        var topic = new InternalTopics(TopologyFixture.AppId).PoolInput.Name;
        var release = new GcpStreams.Domain.Pools.ReleaseReservation(Inputs.Pool, "forged-release", new DateTimeOffset(T0.AddMinutes(2)),
            reserved.certificateId, "order-1", "forged");

        f.PipeInternal(topic, Encoding.UTF8.GetBytes(Inputs.Pool), InternalJson.Serialize(new PoolInput(release, null, null, null, null)));
        f.Settle();

        Assert.That(f.DeadLetters().Single().Value.reason, Is.EqualTo(C.DeadLetterReason.UNAUTHENTICATED));
        Assert.That(f.Events().Types(), Is.EqualTo(new[] { "alert" }));
        Assert.That(f.States(), Is.Empty, "the certificate did not go back to the pool");
    }

    [Test]
    public void WhatTheTopologyWritesToItsOwnTopics_InternalRecordsAndReplies_IsSignedWithTheCommandSigningKey()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate(); // intake -> pool input -> certificate input, with replies on the way

        var replies = f.AllRaw(Topics.Replies.Name);
        Assert.That(replies, Is.Not.Empty);
        foreach (var reply in replies)
        {
            var headers = new Headers();
            foreach (var (name, value) in reply.Headers)
            {
                headers.Add(name, Encoding.ASCII.GetBytes(value));
            }

            Assert.That(TopologyFixture.Signer.Verify(Topics.Replies.Name, reply.Key, reply.Value, headers).Status, Is.EqualTo(SignatureStatus.Valid));
            Assert.That(OtherKey.Verify(Topics.Replies.Name, reply.Key, reply.Value, headers).Status, Is.EqualTo(SignatureStatus.UnknownKey));
        }

        Assert.That(f.DeadLetters(), Is.Empty, "every internal record the owners read was signed: none was refused");
        Assert.That(f.StoreEntries(StoreNames.Certificates).Select(e => e.Key), Does.Contain(id));
    }

    [Test]
    public void Signer_AcceptsTheKeysGivenForARotation_AndRefusesShortKeys_AndShowsNoKey()
    {
        var next = Encoding.UTF8.GetBytes("the-next-command-signing-key-for-rotation");
        var current = TopologyFixture.Settings.CommandSigningKey;
        var rotating = new RecordSigner(current, [next]);
        var afterRotation = new RecordSigner(next);
        var key = Encoding.UTF8.GetBytes("7700000000000017");
        var value = Encoding.UTF8.GetBytes("value");

        Assert.That(rotating.Verify(Topics.Commands.Name, key, value, afterRotation.Signed(Topics.Commands.Name, key, value)).IsValid, Is.True, "the next key is accepted before it signs");
        Assert.That(rotating.Verify(Topics.Commands.Name, key, value, rotating.Signed(Topics.Commands.Name, key, value)).IsValid, Is.True);
        Assert.That(afterRotation.Verify(Topics.Commands.Name, key, value, rotating.Signed(Topics.Commands.Name, key, value)).Status, Is.EqualTo(SignatureStatus.UnknownKey));
        Assert.That(rotating.Verify(Topics.Replies.Name, key, value, rotating.Signed(Topics.Commands.Name, key, value)).Status, Is.EqualTo(SignatureStatus.Invalid), "bound to its topic");
        Assert.That(rotating.Verify(Topics.Commands.Name, key, value, new Headers { { RecordSigner.Header, "v1:abc:not base64"u8.ToArray() } }).Status, Is.EqualTo(SignatureStatus.Malformed));
        Assert.Throws<ArgumentException>(() => _ = new RecordSigner(new byte[31]));
        Assert.That(rotating.ToString(), Does.Not.Contain(Convert.ToBase64String(current)).And.Contain(rotating.KeyId));
    }

    private static C.LoadPool Load() =>
        new() { poolId = Inputs.Pool, channel = C.Channel.POS, nominalMinor = Inputs.Nominal, currency = Inputs.Rub, count = 3, lowWatermark = 0, series = 1, importedNumbers = [] };

    /// <summary>What the pool writes for the certificate ledger when a paid order confirms a reservation: here, made up.</summary>
    private static (byte[] Key, byte[] Value) ForgedIssue(string certificateId)
    {
        var at = new DateTimeOffset(T0);
        var issue = new IssueCertificate(certificateId, "forged-order-evt/l1", at, new CertificateIdentity(certificateId, Inputs.Pool, Channel.Pos, 1_000_000_00, Inputs.Rub),
            "forged-order", "client-x", ContactChannel.Email, 2);
        return (Encoding.UTF8.GetBytes(certificateId), InternalJson.Serialize(new CertificateInput(issue, null, null, "forger", null)));
    }

    /// <summary>Asserts the one dead letter (reason, offset, message), its INVALID_EVENT alert, and that nothing else was written.</summary>
    private static C.DeadLetter AssertRefused(TopologyFixture f, C.DeadLetterReason reason, long offset, string message)
    {
        var letter = f.DeadLetters().Single().Value;
        Assert.Multiple(() =>
        {
            Assert.That((letter.reason, letter.sourceTopic, letter.offset), Is.EqualTo((reason, Topics.Commands.Name, offset)));
            Assert.That(letter.message, Does.Contain(message));
            Assert.That(f.Replies(), Is.Empty, "no reply: the record's replyTo is not to be trusted");
            var events = f.Events();
            Assert.That(events.Types(), Is.EqualTo(new[] { "alert" }), "nothing is decided");
            Assert.That(events.Alert().details["reason"], Is.EqualTo(reason.ToString()));
            Assert.That(events.Alert().kind, Is.EqualTo(C.AlertKind.INVALID_EVENT));
        });
        return letter;
    }
}
