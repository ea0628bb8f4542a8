using System.Runtime.CompilerServices;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Domain.Tests;

public class EventTypeTests
{
    private static IEnumerable<(Type Type, string EventType)> DomainEventTypes() =>
        typeof(CertificateEvent).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && (t.IsSubclassOf(typeof(CertificateEvent)) || t.IsSubclassOf(typeof(PoolEvent))))
            .Select(t => (t, RuntimeHelpers.GetUninitializedObject(t) switch
            {
                CertificateEvent c => c.EventType,
                PoolEvent p => p.EventType,
                _ => throw new InvalidOperationException(t.Name),
            }));

    [Test]
    public void EveryDomainEvent_HasAStreamEventType()
    {
        foreach (var (type, eventType) in DomainEventTypes())
        {
            Assert.That(EventTypes.All, Does.Contain(eventType), type.Name);
        }
    }

    [Test]
    public void EveryStreamEventType_IsDecidedBySomeDomainEvent() =>
        Assert.That(DomainEventTypes().Select(e => e.EventType).Distinct(), Is.EquivalentTo(EventTypes.All));

    [Test]
    public void StreamEventTypes_AreDistinctDottedNames()
    {
        Assert.That(EventTypes.All, Is.Unique);
        Assert.That(EventTypes.All, Is.All.Matches("^[a-z]+(\\.[a-z_]+)?$"));
    }
}
