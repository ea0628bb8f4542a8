using GcpStreams.Client;
using GcpStreams.Topology;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Stream;

namespace GcpStreams.Replay;

/// <summary>
/// The topology of one application id, built with <see cref="GcpTopology.Build"/> (the service's own), and the topics a reset or a
/// shadow run deals with: the inputs its consumer group reads, its internal topics, its store changelogs, its outputs.
/// </summary>
public sealed class ReplayTopology
{
    public ReplayTopology(TopologySettings settings, Codec codec)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, settings, codec);
        Topology = builder.Build();
        var description = Topology.Describe();
        var globals = description.GlobalStores.SelectMany(g => g.Source.Topics).ToHashSet(StringComparer.Ordinal);
        var sources = description.SubTopologies.SelectMany(s => s.Nodes).OfType<ISourceNodeDescription>().SelectMany(s => s.Topics)
            .Where(t => !globals.Contains(t)).Distinct().Order(StringComparer.Ordinal).ToList();
        Inputs = [.. sources.Where(t => Topics.Inputs.Contains(t))];
        InternalSources = [.. sources.Where(t => !Topics.Inputs.Contains(t))];
        Sinks = [.. description.SubTopologies.SelectMany(s => s.Nodes).OfType<ISinkNodeDescription>().Select(s => s.Topic).OfType<string>().Distinct().Order(StringComparer.Ordinal)];
        Changelogs = [.. TopologyTopics.Of(Topology, settings.ApplicationId).Select(t => t.Name)
            .Where(n => InternalTopics.IsChangelog(settings.ApplicationId, n))];
        GlobalSources = [.. globals.Order(StringComparer.Ordinal)];
    }

    public TopologySettings Settings { get; }

    public Streamiz.Kafka.Net.Stream.Topology Topology { get; }

    /// <summary>The public input topics the consumer group reads (the global store's topic is not one: it is read whole at start).</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The internal topics the consumer group reads (<c>{app}-*-repartition</c>).</summary>
    public IReadOnlyList<string> InternalSources { get; }

    /// <summary>Every topic a sink writes to (internal and public, after <see cref="TopologySettings.OutputTopic"/>).</summary>
    public IReadOnlyList<string> Sinks { get; }

    /// <summary>The store changelogs (<c>{app}-{store}-changelog</c>).</summary>
    public IReadOnlyList<string> Changelogs { get; }

    /// <summary>The topics global stores restore from.</summary>
    public IReadOnlyList<string> GlobalSources { get; }

    /// <summary>Every topic the consumer group subscribes to.</summary>
    public IReadOnlyList<string> GroupTopics => [.. Inputs, .. InternalSources];
}
