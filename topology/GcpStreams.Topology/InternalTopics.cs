using System.Text;
using GcpStreams.Client;
using GcpStreams.Topology.Internal;

namespace GcpStreams.Topology;

/// <summary>
/// One of the topology's internal topics, typed: keyed by the id of the owner it feeds (UTF-8), its values JSON of
/// <typeparamref name="TValue"/> (<see cref="InternalJson"/>; only this application reads them). Written signed (the
/// processors sign what they write to an internal topic).
/// </summary>
public sealed class InternalTopic<TValue> : ITopic
    where TValue : class
{
    internal InternalTopic(string name) => Name = name;

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool Compacted => false;

    /// <summary>The record for <paramref name="key"/> (the owner's id) carrying <paramref name="value"/>; no headers until it is signed.</summary>
    public Outgoing Record(string key, TValue value) => new(Name, Encoding.UTF8.GetBytes(key), InternalJson.Serialize(value), []);

    /// <summary>A value read from this topic.</summary>
    public TValue Read(byte[] value) => InternalJson.Deserialize<TValue>(value);

    /// <summary>The topic's name.</summary>
    public override string ToString() => Name;
}

/// <summary>
/// The topology's internal topics, named from the application id (Kafka Streams' <c>{app}-{name}-repartition</c>), and its
/// store changelogs. Renaming one is a breaking change: it needs an application reset. The public topics are the client
/// library's <see cref="Topics"/>.
/// </summary>
/// <param name="applicationId">The Kafka Streams application id.</param>
public sealed class InternalTopics(string applicationId)
{
    /// <summary>The certificate lines of placed orders and their failed payments, keyed by order id, to the order processor.</summary>
    public InternalTopic<OrderInput> OrderInput { get; } = new($"{applicationId}-order-input-repartition");

    /// <summary>Commands to pools, keyed by pool id, to the pool processor.</summary>
    public InternalTopic<PoolInput> PoolInput { get; } = new($"{applicationId}-pool-input-repartition");

    /// <summary>Commands to certificate ledgers, keyed by certificate id, to the certificate processor.</summary>
    public InternalTopic<CertificateInput> CertificateInput { get; } = new($"{applicationId}-certificate-input-repartition");

    /// <summary>The changelog Streamiz keeps for a store.</summary>
    public string Changelog(string store) => Changelog(applicationId, store);

    /// <summary>The changelog Streamiz keeps for a store of the application <paramref name="applicationId"/>.</summary>
    public static string Changelog(string applicationId, string store) => $"{applicationId}-{store}-changelog";

    /// <summary>Whether <paramref name="topic"/> is a store changelog of the application <paramref name="applicationId"/> (<see cref="Changelog(string, string)"/>).</summary>
    public static bool IsChangelog(string applicationId, string topic) =>
        topic.StartsWith(applicationId + "-", StringComparison.Ordinal) && topic.EndsWith("-changelog", StringComparison.Ordinal);
}
