using GcpStreams.Client;
using GcpStreams.SchemaRegistry;
using GcpStreams.Topology;
using Streamiz.Kafka.Net;

namespace GcpStreams.Broker;

/// <summary>
/// The topics the standalone broker creates: <see cref="TopologyTopics.Of"/> the service's own topology, the list embedded
/// mode creates before it starts (inputs, outputs, repartition topics and changelogs), so an attached instance finds them all.
/// </summary>
internal static class BrokerTopics
{
    /// <summary>Every topic the service with this application id needs.</summary>
    public static IReadOnlyList<RequiredTopic> For(string applicationId)
    {
        // only the topology's shape matters here: the keys are placeholders, nothing is signed nor numbered with them
        var builder = new StreamBuilder();
        using var registry = new InProcessSchemaRegistry();
        GcpTopology.Build(builder, new TopologySettings { ApplicationId = applicationId, NumberingKey = new byte[32], CommandSigningKey = new byte[32] }, new Codec(registry));
        return TopologyTopics.Of(builder.Build(), applicationId);
    }

    /// <summary>What a topic is to the service, for the log-start warnings: input, output, internal (repartition) or changelog.</summary>
    public static string RoleOf(string topic, string applicationId) =>
        InternalTopics.IsChangelog(applicationId, topic) ? "changelog"
        : topic.StartsWith(applicationId + "-", StringComparison.Ordinal) ? "internal"
        : Topics.Inputs.Contains(topic) ? "input"
        : "output";
}
