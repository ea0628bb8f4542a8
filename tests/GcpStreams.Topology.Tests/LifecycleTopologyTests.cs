using GcpStreams.Topology;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>The seed's scenarios end to end through the real topology (TopologyTestDriver, Avro in and out).</summary>
public class LifecycleTopologyTests
{
    [Test]
    public void Issue_ReservedAndPaidCertificateIsIssuedAndNotificationRequested()
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var loaded = f.Events();
        Assert.That(loaded.Single().Value.eventType, Is.EqualTo("pool.loaded"));

        var reply = f.Reserve();
        Assert.That(reply.outcome, Is.EqualTo(C.ReplyOutcome.ACCEPTED), reply.message);
        var reserved = f.Events().Single();
        Assert.That(reserved.Value.eventType, Is.EqualTo("certificate.reserved"));
        Assert.That(reserved.Key, Is.EqualTo(reply.certificateId));
        Assert.That(f.States().Single().Value.status, Is.EqualTo(C.CertificateStatus.RESERVED));

        f.PayOrder(reply.certificateId);

        var events = f.Events();
        Assert.That(events.Select(e => e.Value.eventType), Is.EqualTo(new[] { "certificate.issued", "notification.requested" }));
        Assert.That(events[0].Payload<C.CertificateIssued>().balanceAfterMinor, Is.EqualTo(Inputs.Nominal));
        Assert.That(events[0].Headers["event-type"], Is.EqualTo("certificate.issued"));
        Assert.That(events[0].Headers["channel"], Is.EqualTo("POS"));
        var state = f.States().Single().Value;
        Assert.That(state.status, Is.EqualTo(C.CertificateStatus.ACTIVE));
        Assert.That(state.balanceMinor, Is.EqualTo(Inputs.Nominal));
        Assert.That(f.DeadLetters(), Is.Empty);
    }
}
