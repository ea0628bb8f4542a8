using Avro;
using GcpStreams.SchemaRegistry;

namespace GcpStreams.Contracts.Tests;

/// <summary>
/// GiftCertificates.DailyReport is read by BI from a compacted topic: every new version of its contract must read every version
/// already registered (BACKWARD_TRANSITIVE), so old marts stay readable. Registered/DailyReport.vN.avsc are the versions as registered.
/// </summary>
public class DailyReportContractTests
{
    [Test]
    public void DailyReport_IsBackwardCompatibleWithEveryRegisteredVersion()
    {
        var registered = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Registered"), "DailyReport.v*.avsc").Order(StringComparer.Ordinal)
            .Select(f => Schema.Parse(File.ReadAllText(f))).ToList();

        var result = AvroCompatibility.CheckEvolution(Confluent.SchemaRegistry.Compatibility.BackwardTransitive, Schemas.Parse("DailyReport"), registered);

        Assert.That(registered, Is.Not.Empty);
        Assert.That(result.Messages, Is.Empty);
    }

    [Test]
    public void DailyReport_WithoutAFieldThatHasNoDefault_WouldBeRefused()
    {
        // the check above has teeth: a reader that adds a field without a default cannot read the registered version
        var json = Schemas.Load("DailyReport").Replace("\"name\": \"revision\",", "\"name\": \"revisionRenamed\",", StringComparison.Ordinal);
        var registered = Schema.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Registered", "DailyReport.v1.avsc")));

        var result = AvroCompatibility.CheckEvolution(Confluent.SchemaRegistry.Compatibility.BackwardTransitive, Schema.Parse(json), [registered]);

        Assert.That(result.IsCompatible, Is.False);
    }
}
