using GcpStreams.Client;
using Streamiz.Kafka.Net.Stream;

namespace GcpStreams.Topology;

/// <summary>What a topic is for, which decides how it is provisioned.</summary>
public enum TopicKind
{
    /// <summary>Read and/or written by the topology or the API (retention by time).</summary>
    Regular,

    /// <summary>Latest value per key matters (compacted): changelogs, state, clients.</summary>
    Compacted,
}

/// <summary>One topic the service needs to exist before it starts.</summary>
public sealed record RequiredTopic(string Name, TopicKind Kind);

/// <summary>
/// Every topic the running service needs, derived from the topology itself (sources, sinks, store changelogs)
/// plus the API's own, so provisioning can never drift from the code: the embedded broker pre-creates exactly these,
/// and in cluster mode the service checks they exist.
/// </summary>
public static class TopologyTopics
{
    private static readonly HashSet<string> CompactedTopics = [.. Topics.All.Where(t => t.Compacted).Select(t => t.Name)];

    public static IReadOnlyList<RequiredTopic> Of(Streamiz.Kafka.Net.Stream.Topology topology, string applicationId)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var description = topology.Describe();
        var names = new SortedSet<string>(StringComparer.Ordinal) { Topics.Audit.Name };
        var changelogs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var node in description.SubTopologies.SelectMany(s => s.Nodes))
        {
            switch (node)
            {
                case ISourceNodeDescription source:
                    names.UnionWith(source.Topics);
                    break;
                case ISinkNodeDescription { Topic: { } topic }:
                    names.Add(topic);
                    break;
                case IProcessorNodeDescription processor:
                    changelogs.UnionWith(processor.Stores.Select(store => InternalTopics.Changelog(applicationId, store)));
                    break;
            }
        }

        foreach (var global in description.GlobalStores)
        {
            names.UnionWith(global.Source.Topics); // a global store restores from its source topic: no changelog
        }

        return
        [
            .. names.Select(n => new RequiredTopic(n, CompactedTopics.Contains(n) ? TopicKind.Compacted : TopicKind.Regular)),
            .. changelogs.Select(n => new RequiredTopic(n, TopicKind.Compacted)),
        ];
    }
}
