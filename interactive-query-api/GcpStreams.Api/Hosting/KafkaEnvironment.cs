using GcpStreams.Embedded;
using GcpStreams.Topology;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// The Kafka the service talks to: in embedded mode the broker it runs itself (librdkafka's mock cluster on 127.0.0.1,
/// started when this singleton is created and destroyed with it), in attached mode the standalone embedded broker of
/// <c>make broker</c>, in cluster mode the configured bootstrap servers.
/// </summary>
public sealed class KafkaEnvironment : IDisposable
{
    private readonly EmbeddedKafkaCluster? embedded;
    private readonly ILogger<KafkaEnvironment> logger;

    public KafkaEnvironment(IOptions<KafkaOptions> options, ILogger<KafkaEnvironment> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.logger = logger;
        Mode = options.Value.Mode;
        if (Mode == KafkaMode.Embedded)
        {
            embedded = new EmbeddedKafkaCluster();
            BootstrapServers = embedded.BootstrapServers;
            logger.LogInformation("Embedded Kafka broker listening on {BootstrapServers}", BootstrapServers);
        }
        else
        {
            BootstrapServers = options.Value.BootstrapServers!;
        }
    }

    public string BootstrapServers { get; }

    /// <summary>Where the broker is (<c>Kafka:Mode</c>).</summary>
    public KafkaMode Mode { get; }

    public bool IsEmbedded => embedded is not null;

    /// <summary>Embedded mode: pre-creates every topic (the mock broker has no CreateTopics over the wire).</summary>
    public void CreateTopics(IEnumerable<RequiredTopic> topics, int partitions)
    {
        if (embedded is null)
        {
            throw new InvalidOperationException("topics are created by provisioning in cluster mode, and by the standalone broker in attached mode, not by the service");
        }

        foreach (var topic in topics)
        {
            embedded.CreateTopic(topic.Name, partitions);
            logger.LogDebug("Created topic {Topic} ({Partitions} partitions)", topic.Name, partitions);
        }
    }

    public void Dispose() => embedded?.Dispose();
}
