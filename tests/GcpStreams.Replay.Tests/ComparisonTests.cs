using System.Text;
using GcpStreams.Client;
using GcpStreams.Replay;
using GcpStreams.Serialization;
using GcpStreams.Topology;

namespace GcpStreams.Replay.Tests;

/// <summary>verify's record-by-record comparison and the pieces of gcp-replay that need no broker.</summary>
public class ComparisonTests
{
    private static readonly Func<OutputRecord, bool> NoTimers = _ => false;

    [Test]
    public void SameRecordsPerKey_InAnotherInterleaving_AreIdentical()
    {
        OutputRecord[] live = [Record("a", "1"), Record("b", "1"), Record("a", "2")];
        OutputRecord[] shadow = [Record("b", "1"), Record("a", "1"), Record("a", "2")];
        var result = OutputComparison.Compare("T", live, shadow, liveMayBeAhead: false, NoTimers);
        Assert.That((result.Keys, result.IdenticalKeys, result.Differences.Count, result.LiveRecords, result.ShadowRecords), Is.EqualTo((2, 2, 0, 3, 3)));
    }

    [Test]
    public void AValueByte_OrAHeader_Differs_IsAFailure_AtItsPositionInTheKey()
    {
        var result = OutputComparison.Compare("T", [Record("a", "1"), Record("a", "2"), Record("b", "1")], [Record("a", "1"), Record("a", "3"), Record("b", "1", channel: "POS")], false, NoTimers);
        Assert.That(result.Failures.Select(d => (d.Key, d.Index)), Is.EqualTo(new[] { ("a", 1), ("b", 0) }));
        Assert.That(result.Failures[0].ToString(), Does.Contain("record #2 of the key").And.Contain("live   w-a").And.Contain("shadow w-a"));
        Assert.That(result.Failures[1].Format(r => "decoded " + r.Key), Does.Contain("{decoded b}").And.Contain("channel=POS"));
    }

    [Test]
    public void LiveLongerThanShadow_IsADifference_UnlessInputsArrivedAfterTheReplayedRange()
    {
        OutputRecord[] live = [Record("a", "1"), Record("a", "2")];
        OutputRecord[] shadow = [Record("a", "1")];
        var strict = OutputComparison.Compare("T", live, shadow, liveMayBeAhead: false, NoTimers);
        Assert.That(strict.Failures.Single().Shadow, Is.Null);
        Assert.That(strict.Failures.Single().ToString(), Does.Contain("shadow (none)"));
        var lenient = OutputComparison.Compare("T", live, shadow, liveMayBeAhead: true, NoTimers);
        Assert.That((lenient.LiveAheadKeys, lenient.Differences.Count), Is.EqualTo((1, 0)));

        var shadowLonger = OutputComparison.Compare("T", shadow, live, liveMayBeAhead: true, NoTimers);
        Assert.That(shadowLonger.Failures.Single().Live, Is.Null, "a shadow record the live service never wrote is always a difference");
    }

    [Test]
    public void AKeyFirstDivergingAtATimersDecision_IsReportedApart_AndItsStateToo()
    {
        OutputRecord[] live = [Record("a", "1", "certificate.reserved"), Record("a", "2", "certificate.issued"), Record("b", "1")];
        OutputRecord[] shadow = [Record("a", "1", "certificate.reserved"), Record("a", "x", "certificate.reservation_expired"), Record("b", "1")];
        var verify = Verify();
        var stream = OutputComparison.Compare("S", live, shadow, false, verify.TimerDriven);
        Assert.That(stream.Failures, Is.Empty);
        Assert.That(stream.TimerDivergences.Single().Key, Is.EqualTo("a"));
        Assert.That(stream.TimerDivergences.Single().Format(_ => null), Does.Contain("wall-clock timer"));

        var state = OutputComparison.CompareState("State", [Record("a", "s1"), Record("b", "s1")], [Record("a", "s2"), Record("b", "s2")], false, new HashSet<string> { "a" });
        Assert.That(state.TimerDivergences.Select(d => d.Key), Is.EqualTo(new[] { "a" }));
        Assert.That(state.Failures.Select(d => d.Key), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void TimerDriven_ReservationExpiry_OverdueNotification_AndAnExpiredHoldsRelease_NotAVoidsNorAnUndecodableOne()
    {
        var verify = Verify();
        Assert.That(verify.TimerDriven(Record("a", "1", "certificate.reservation_expired")), Is.True);
        Assert.That(verify.TimerDriven(Record("a", "1", "notification.overdue")), Is.True);
        Assert.That(verify.TimerDriven(Record("a", "1", "certificate.redeemed")), Is.False);
        Assert.That(verify.TimerDriven(Record("a", "not avro", "certificate.hold_released")), Is.False);
        Assert.That(verify.TimerDriven(Record("a", null, "certificate.hold_released")), Is.False);
        Assert.That(verify.Explain(Record("a", "not avro", "certificate.issued")), Is.Null);
        Assert.That(verify.Explain(Record("a", null)), Is.Null);
    }

    [Test]
    public void DropRepeats_KeepsTheFirstOfEachRecordPerKey()
    {
        var kept = ShadowVerify.DropRepeats([Record("a", "1"), Record("a", "2"), Record("b", "1"), Record("a", "1"), Record("a", "2"), Record("a", "3")], out var dropped);
        Assert.That(dropped, Is.EqualTo(2));
        Assert.That(kept.Select(r => $"{r.Key}{Encoding.UTF8.GetString(r.Value!)}"), Is.EqualTo(new[] { "a1", "a2", "b1", "a3" }));
        Assert.That(Record("a", null).SameAs(Record("a", null)), Is.True);
        Assert.That(Record("a", null).SameAs(Record("a", "1")), Is.False);
        Assert.That(Record("a", null).Describe(), Does.Contain("value null"));
    }

    [Test]
    public void ProgressSample_SaysRateLagAndEta_AndThePlainViewPrintsTheLastOne()
    {
        Assert.That(new ProgressSample("run", 250, 1000, 125, TimeSpan.FromSeconds(6)).ToString(),
            Is.EqualTo("run: 250/1,000 records, 125 records/s, lag 750, ETA 00:00:06"));
        Assert.That(new ProgressSample("run", 0, 10, 0, null).ToString(), Does.EndWith("ETA --:--:--"));
        var meter = new RateMeter();
        Assert.That(meter.Sample("run", 0, 10).Eta, Is.Null);

        using var output = new StringWriter();
        var view = new ProgressView(output, plain: true);
        Assert.That(view.Interactive, Is.False);
        var result = view.TrackAsync("job", report =>
        {
            report.Report(new ProgressSample("run", 10, 10, 5, TimeSpan.Zero));
            return Task.FromResult(42);
        }).GetAwaiter().GetResult();
        Assert.That(result, Is.EqualTo(42));
        Assert.That(output.ToString(), Does.Contain("job: run: 10/10 records"));
    }

    [TestCase(new string[0], "a command is needed.")]
    [TestCase(new[] { "reset" }, "unknown command 'reset'.")]
    [TestCase(new[] { "verify" }, "--bootstrap is required.")]
    [TestCase(new[] { "verify", "--bootstrap" }, "--bootstrap needs a value.")]
    [TestCase(new[] { "verify", "--follow" }, "--follow is for rebuild.")]
    [TestCase(new[] { "rebuild", "--keep-shadow" }, "--keep-shadow is for verify.")]
    [TestCase(new[] { "rebuild", "--pace-ms", "5" }, "unknown argument '--pace-ms'.")]
    [TestCase(new[] { "verify", "--bootstrap", "b:1", "--schema-registry", "http://r", "--show", "0" }, "--show is '0'")]
    [TestCase(new[] { "verify", "--bootstrap", "b:1", "--schema-registry", "http://r", "--application-id", "a b" }, "--application-id 'a b' must be")]
    [TestCase(new[] { "verify", "--bootstrap", "b:1", "--schema-registry", "http://r", "--command-signing-key", "not base64!" }, "--command-signing-key is not base64.")]
    [TestCase(new[] { "verify", "--bootstrap", "b:1", "--schema-registry", "http://r", "--numbering-key", "c2hvcnQ=" }, "--numbering-key must decode to at least 16 bytes.")]
    [TestCase(new[] { "rebuild", "--bootstrap", "b:1", "--schema-registry", "http://r", "--to-datetime", "yesterday" }, "--to-datetime 'yesterday' is not a date")]
    public async Task BadArguments_Exit2_NamingWhatIsWrong_AndPrintUsage(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(await ReplayCommands.RunAsync(args, output, error, CancellationToken.None), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.StartWith("gcp-replay: " + message).And.Contain("usage:"));
        Assert.That(error.ToString(), Does.Not.Contain("not base64!"), "a value that may be a secret is not echoed");
    }

    [Test]
    public void DevelopmentKeys_AreTheServicesOwn() =>
        Assert.That((ReplayCommands.DevelopmentNumberingKey, ReplayCommands.DevelopmentCommandSigningKey),
            Is.EqualTo((Api.Hosting.GcpOptions.DevelopmentNumberingKey, Api.Hosting.GcpOptions.DevelopmentCommandSigningKey)));

    [Test]
    public void ReplayTopology_NamesTheGroupsInputs_InternalTopics_Changelogs_AndRenamedOutputs()
    {
        var settings = new TopologySettings { ApplicationId = "app", NumberingKey = new byte[16], CommandSigningKey = new byte[32] };
        var live = new ReplayTopology(settings, new Codec(new SchemaRegistry.InProcessSchemaRegistry()));
        Assert.That(live.Inputs, Is.EqualTo(new[] { "All_Payments", "All_SalesOrder", "CRM.NotificationResults", "GiftCertificates.Commands" }));
        Assert.That(live.InternalSources, Is.EqualTo(new[]
        {
            "app-certificate-input-repartition", "app-order-input-repartition", "app-pool-input-repartition", "app-report-facts-api-repartition",
            "app-report-facts-certificate-processor-repartition",
            "app-report-facts-intake-repartition", "app-report-facts-order-processor-repartition", "app-report-facts-pool-processor-repartition",
            "app-report-facts-reporting-repartition",
        }));
        Assert.That(live.Changelogs, Is.EquivalentTo(new[]
        {
            "app-certificates-changelog", "app-daily-reports-changelog", "app-idempotency-keys-changelog", "app-orders-changelog", "app-pools-changelog",
        }));
        Assert.That(live.GlobalSources, Is.EqualTo(new[] { "All_Clients" }));
        Assert.That(live.Sinks, Does.Contain(Topics.Stream.Name).And.Contain("app-pool-input-repartition"));
        Assert.That(live.GroupTopics, Has.Count.EqualTo(13));

        var shadow = new ReplayTopology(settings with { ApplicationId = "app-v", OutputTopic = t => Topics.Outputs.Contains(t) ? ShadowVerify.ShadowTopic("app-v", t) : t },
            new Codec(new SchemaRegistry.InProcessSchemaRegistry()));
        Assert.That(shadow.Sinks, Does.Contain("app-v.GiftCertificates.Stream").And.Contain("app-v.GiftCertificates.State").And.Contain("app-v-pool-input-repartition"));
        Assert.That(shadow.Sinks, Does.Contain("app-v.GiftCertificates.DailyReport"));
        Assert.That(shadow.Sinks.Intersect(Topics.Outputs), Is.Empty, "a shadow run writes no live output (the BI marts' included)");
        Assert.That(shadow.Inputs, Is.EqualTo(live.Inputs));
    }

    private static ShadowVerify Verify() =>
        new(new TopologySettings { ApplicationId = "app", NumberingKey = new byte[16], CommandSigningKey = new byte[32] }, new Codec(new SchemaRegistry.InProcessSchemaRegistry()),
            null!, TextWriter.Null, new ProgressView(TextWriter.Null, plain: true));

    private static OutputRecord Record(string key, string? value, string? eventType = null, string channel = "INTERNET_STORE") =>
        new(key, value is null ? null : Encoding.UTF8.GetBytes(value),
            eventType is null ? [new("channel", Encoding.UTF8.GetBytes(channel))] : [new("event-type", Encoding.UTF8.GetBytes(eventType)), new("channel", Encoding.UTF8.GetBytes(channel))],
            $"w-{key}");
}
