using System.Diagnostics;
using Confluent.Kafka;

namespace GcpStreams.Embedded.Tests;

/// <summary>Confluent.Kafka clients set up for the embedded cluster, and bounded polling helpers.</summary>
internal static class Clients
{
    /// <summary>The longest any test waits for the cluster to deliver something.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static ProducerConfig ProducerConfig(EmbeddedKafkaCluster cluster) => new()
    {
        BootstrapServers = cluster.BootstrapServers,
        // Java's and Streamiz's partitioner; Confluent.Kafka's default (consistent_random) differs.
        Partitioner = Partitioner.Murmur2Random,
        LingerMs = 0,
    };

    public static IProducer<string, string> Producer(EmbeddedKafkaCluster cluster, Action<ProducerConfig>? tune = null)
    {
        var config = ProducerConfig(cluster);
        tune?.Invoke(config);
        return new ProducerBuilder<string, string>(config).Build();
    }

    public static IConsumer<string, string> Consumer(EmbeddedKafkaCluster cluster, Action<ConsumerConfig>? tune = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "test-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = EmbeddedKafkaCluster.RecommendedFetchWaitMaxMs,
            EnableAutoCommit = false,
        };
        tune?.Invoke(config);
        return new ConsumerBuilder<string, string>(config).Build();
    }

    public static IAdminClient Admin(EmbeddedKafkaCluster cluster) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();

    /// <summary>Consumes until <paramref name="count"/> records arrived or <see cref="Deadline"/> passed.</summary>
    public static List<ConsumeResult<string, string>> ConsumeAtLeast(IConsumer<string, string> consumer, int count)
    {
        var results = new List<ConsumeResult<string, string>>();
        var clock = Stopwatch.StartNew();
        while (results.Count < count && clock.Elapsed < Deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is { IsPartitionEOF: false })
            {
                results.Add(result);
            }
        }

        return results;
    }

    /// <summary>Produces the values one by one (each awaited, so each is its own batch) and returns the reports.</summary>
    public static async Task<List<DeliveryResult<string, string>>> ProduceEach(
        IProducer<string, string> producer, TopicPartition target, IEnumerable<string> values)
    {
        var reports = new List<DeliveryResult<string, string>>();
        foreach (var value in values)
        {
            reports.Add(await producer.ProduceAsync(target, new Message<string, string> { Key = value, Value = value }));
        }

        return reports;
    }

    public static string UniqueTopic(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
