using System.Text;
using GcpStreams.Client;
using GcpStreams.SchemaRegistry;
using GcpStreams.Topology;
using Streamiz.Kafka.Net;

namespace GcpStreams.Deployment.Tests;

/// <summary>
/// <c>charts/gcp-streams/files/topics.yaml</c> is the code's topic list (<see cref="TopologyTopics.Of"/>, what the service checks
/// at start, with <c>{app}</c> for the application id): the chart provisions exactly what the service needs. When the topology
/// changes, <c>make chart-topics</c> rewrites the file (this test with <c>GCP_WRITE_CHART_TOPICS=1</c>).
/// </summary>
public class ChartTopicsTests
{
    public const string AppPlaceholder = "{app}";

    private static string TopicsFile => Path.Combine(Chart.ChartDir, "files", "topics.yaml");

    /// <summary>The file as the code says it must be.</summary>
    public static string Expected()
    {
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, new TopologySettings { ApplicationId = AppPlaceholder, NumberingKey = Encoding.UTF8.GetBytes("chart-topics-numbering-key-32b!!"), CommandSigningKey = new byte[32] },
            new Codec(new InProcessSchemaRegistry()));
        var text = new StringBuilder()
            .Append("# Generated from the code: TopologyTopics.Of(topology, \"{app}\"), the topics the service checks at start.\n")
            .Append("# Do not edit: `make chart-topics` rewrites it, and a test fails when it differs from the code.\n")
            .Append("# {app} is the application id (kafka.applicationId). role: team (another team writes it, the service reads it),\n")
            .Append("# service (the service writes it: its outputs, and the API's commands), internal (repartition topics, changelogs).\n")
            .Append("topics:\n");
        foreach (var topic in TopologyTopics.Of(builder.Build(), AppPlaceholder))
        {
            var role = topic.Name == Topics.Commands.Name || Topics.Outputs.Contains(topic.Name) ? "service" : Topics.Inputs.Contains(topic.Name) ? "team" : "internal";
            var policy = topic.Kind == TopicKind.Compacted ? "compact" : "delete";
            text.Append("  - name: \"").Append(topic.Name).Append("\"\n")
                .Append("    role: ").Append(role).Append('\n')
                .Append("    cleanupPolicy: ").Append(policy).Append('\n');
        }

        return text.ToString();
    }

    [Test]
    public void TheChartsTopicList_IsTheCodes()
    {
        var expected = Expected();
        if (Environment.GetEnvironmentVariable("GCP_WRITE_CHART_TOPICS") == "1")
        {
            File.WriteAllText(TopicsFile, expected);
        }

        Assert.That(File.Exists(TopicsFile) ? File.ReadAllText(TopicsFile) : "(missing)", Is.EqualTo(expected),
            "charts/gcp-streams/files/topics.yaml differs from the code's topic list (TopologyTopics): run `make chart-topics` and commit it");
    }

    [Test]
    public void EveryInternalTopic_IsPrefixedByTheApplicationId_AndEveryOtherIsNamedInTopics()
    {
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, new TopologySettings { ApplicationId = AppPlaceholder, NumberingKey = new byte[32], CommandSigningKey = new byte[32] }, new Codec(new InProcessSchemaRegistry()));
        foreach (var topic in TopologyTopics.Of(builder.Build(), AppPlaceholder))
        {
            Assert.That(topic.Name.StartsWith(AppPlaceholder + "-", StringComparison.Ordinal) || Topics.Inputs.Contains(topic.Name) || Topics.Outputs.Contains(topic.Name),
                Is.True, $"{topic.Name}: an internal topic must start with the application id (the ACLs grant the service that prefix), any other must be in Topics.Inputs or Topics.Outputs");
        }
    }
}
