using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// With a publish interval (the service's default), a BI mart changed by many events is published once per interval, as the
/// last of the per-event records would have been; which marts wait survives a restart.
/// </summary>
public class ReportPublicationTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TopologySettings EveryChange = ReportingTopologyTests.Settings with { ReportPublishInterval = TimeSpan.Zero };
    private static readonly TopologySettings Batched = ReportingTopologyTests.Settings with { ReportPublishInterval = Interval };

    [Test]
    public void GivenAPublishInterval_AMartChangedByManyEvents_IsPublishedOnceAtTheTick_AsItsLastPerEventRecord()
    {
        using var everyChange = new TopologyFixture(EveryChange);
        using var batched = new TopologyFixture(Batched);
        foreach (var f in new[] { everyChange, batched })
        {
            Traffic(f);
        }

        var perEvent = everyChange.AllRaw(Topics.DailyReport.Name);
        Assert.That(perEvent, Has.Count.GreaterThan(5), "without an interval every change is a record");
        Assert.That(batched.AllRaw(Topics.DailyReport.Name), Is.Empty, "nothing before the interval has passed");

        batched.Driver.AdvanceWallClockTime(Interval);

        var published = batched.AllRaw(Topics.DailyReport.Name);
        Assert.That(published.Select(r => Key(r)), Is.Unique, "one record per changed mart");
        Assert.That(published.ToDictionary(Key, Body),
            Is.EqualTo(LastPerKey(perEvent)), "the same Avro body as the last per-event record of each mart");

        batched.Driver.AdvanceWallClockTime(Interval);
        Assert.That(batched.AllRaw(Topics.DailyReport.Name), Has.Count.EqualTo(published.Count), "an unchanged mart is not published again");
        Assert.That(batched.StoreEntries(StoreNames.DailyReports).Select(e => e.Key).Where(k => k.StartsWith("u/", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void AMartChangedButNotYetPublished_IsPublishedAfterARestart()
    {
        using var everyChange = new TopologyFixture(EveryChange);
        Traffic(everyChange);
        using var before = new TopologyFixture(Batched);
        Traffic(before);
        var stored = before.StoreEntries(StoreNames.DailyReports);
        Assert.That(stored.Select(e => e.Key).Where(k => k.StartsWith("u/", StringComparison.Ordinal)), Is.Not.Empty, "the marts waiting for their publication are stored");

        // a new instance whose store was restored from the changelog: the marts, and which of them wait (written while it
        // processes a record of another channel: a store logs its changes in the context of a record)
        using var after = new TopologyFixture(Batched);
        after.LoadPool(Inputs.WebPool, C.Channel.INTERNET_STORE);
        after.IssuedCertificate(Inputs.WebPool, C.Channel.INTERNET_STORE, "order-web");
        ReportingTopologyTests.Settle(after);
        var store = (Streamiz.Kafka.Net.State.IKeyValueStore<string, byte[]>)after.Driver.GetKeyValueStore<string, byte[]>(StoreNames.DailyReports);
        foreach (var entry in stored)
        {
            store.Put(entry.Key, entry.Value);
        }

        after.Driver.AdvanceWallClockTime(Interval);

        var pos = LastPerKey(everyChange.AllRaw(Topics.DailyReport.Name)).Single();
        Assert.That(after.AllRaw(Topics.DailyReport.Name).Where(r => Key(r) == pos.Key).Select(Body), Is.EqualTo(new[] { pos.Value }));
    }

    /// <summary>A certificate issued and paid with in three captures and a refund: several changes to the day's POS mart.</summary>
    private static void Traffic(TopologyFixture f)
    {
        f.LoadPool();
        var id = f.IssuedCertificate();
        var first = f.Pay(C.PaymentOperation.CAPTURE, id, 1_00, paymentId: "cap-1", eventId: "evt-cap-1");
        f.Pay(C.PaymentOperation.CAPTURE, id, 2_00, paymentId: "cap-2", eventId: "evt-cap-2");
        f.Pay(C.PaymentOperation.CAPTURE, id, 3_00, paymentId: "cap-3", eventId: "evt-cap-3");
        f.Pay(C.PaymentOperation.REFUND, id, 1_00, parent: first.paymentId, paymentId: "ref-1", eventId: "evt-ref-1");
        ReportingTopologyTests.Settle(f);
    }

    private static string Key(RawOutput record) => System.Text.Encoding.UTF8.GetString(record.Key!);

    private static Dictionary<string, string> LastPerKey(IEnumerable<RawOutput> records) =>
        records.GroupBy(Key).ToDictionary(g => g.Key, g => Body(g.Last()));

    /// <summary>The record's Avro body, without the schema id (each fixture has its own registry, which numbers schemas as they come).</summary>
    private static string Body(RawOutput record) => Convert.ToHexString(record.Value.AsSpan(5));
}
