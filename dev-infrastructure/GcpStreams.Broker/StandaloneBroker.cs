using System.Net;
using GcpStreams.Embedded;
using GcpStreams.SchemaRegistry;
using GcpStreams.SchemaRegistry.Http;
using GcpStreams.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Broker;

/// <summary>
/// The standalone embedded broker: librdkafka's mock cluster with every topic of the service created, the in-process schema
/// registry served over HTTP at the root of its own port, and the log-start watcher. <c>Program</c> runs one until Ctrl+C or
/// SIGTERM; tests start one in-process. Everything is lost when it is disposed.
/// </summary>
internal sealed class StandaloneBroker : IAsyncDisposable
{
    private readonly EmbeddedKafkaCluster cluster;
    private readonly TcpProxy? proxy;
    private readonly WebApplication registryHost;
    private readonly InProcessSchemaRegistry registry;

    private StandaloneBroker(BrokerSettings settings, EmbeddedKafkaCluster cluster, TcpProxy? proxy, WebApplication registryHost, InProcessSchemaRegistry registry,
        IReadOnlyList<(string Topic, int Partitions, string Role)> topics, LogStartWatcher watcher)
    {
        Settings = settings;
        this.cluster = cluster;
        this.proxy = proxy;
        this.registryHost = registryHost;
        this.registry = registry;
        Topics = topics;
        Watcher = watcher;
        BootstrapServers = proxy is null ? cluster.BootstrapServers : $"127.0.0.1:{proxy.Port}";
        RegistryUrl = registryHost.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public BrokerSettings Settings { get; }

    /// <summary>Where Kafka clients connect (<c>Kafka:BootstrapServers</c> of an attached instance).</summary>
    public string BootstrapServers { get; }

    /// <summary>The schema registry's URL (<c>SchemaRegistry:Url</c> of an attached instance).</summary>
    public string RegistryUrl { get; }

    /// <summary>Every topic created, with its partitions and what it is to the service.</summary>
    public IReadOnlyList<(string Topic, int Partitions, string Role)> Topics { get; }

    public LogStartWatcher Watcher { get; }

    /// <summary>The mock cluster itself (tests: fault injection, records deleted).</summary>
    internal EmbeddedKafkaCluster Cluster => cluster;

    /// <summary>Starts the cluster, creates the topics, serves the registry and starts watching log starts.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">A fixed port is taken.</exception>
    public static async Task<StandaloneBroker> StartAsync(BrokerSettings settings, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggers);
        var cluster = new EmbeddedKafkaCluster();
        TcpProxy? proxy = null;
        WebApplication? host = null;
        var registry = new InProcessSchemaRegistry();
        try
        {
            if (settings.Port is { } port)
            {
                var own = cluster.BootstrapServers.Split(':');
                proxy = new TcpProxy(port, new IPEndPoint(IPAddress.Parse(own[0]), int.Parse(own[1], System.Globalization.CultureInfo.InvariantCulture)));
                cluster.SetBrokerAdvertisedAddress(1, "127.0.0.1", proxy.Port);
            }

            var topics = BrokerTopics.For(settings.ApplicationId)
                .Select(t => (t.Name, settings.Partitions, BrokerTopics.RoleOf(t.Name, settings.ApplicationId)))
                .ToList();
            cluster.CreateTopics(topics.Select(t => (t.Name, t.Partitions)));
            MarkChangelogsEmpty(cluster.BootstrapServers, settings.ApplicationId,
                topics.Where(t => InternalTopics.IsChangelog(settings.ApplicationId, t.Name)).Select(t => (t.Name, t.Partitions)));

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{settings.RegistryPort ?? 0}");
            host = builder.Build();
            host.MapSchemaRegistryApi(registry); // at the root: SchemaRegistry:Url is http://127.0.0.1:PORT
            await host.StartAsync();

            var bootstrap = proxy is null ? cluster.BootstrapServers : $"127.0.0.1:{proxy.Port}";
            var watcher = new LogStartWatcher(bootstrap, topics, settings.LogStartCheckInterval, loggers.CreateLogger("GcpStreams.Broker.LogStart"));
            return new StandaloneBroker(settings, cluster, proxy, host, registry, topics, watcher);
        }
        catch
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }

            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }

            registry.Dispose();
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Commits offset 0 for every store changelog partition in the service's consumer group, before any instance attaches: where
    /// each changelog's committed writes end (attached mode's <c>MockBrokerTransactions</c>; the restore sets a changelog back to
    /// that mark). With it, the writes of a first transaction that never committed are past a mark too; without one, a restore
    /// would take them as they are.
    /// </summary>
    private static void MarkChangelogsEmpty(string bootstrapServers, string applicationId, IEnumerable<(string Topic, int Partitions)> changelogs)
    {
        var marks = changelogs.SelectMany(c => Enumerable.Range(0, c.Partitions).Select(p => new Confluent.Kafka.TopicPartitionOffset(c.Topic, p, 0))).ToList();
        if (marks.Count == 0)
        {
            return;
        }

        using var group = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = applicationId, // never joins: a plain commit into the still empty group
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        group.Commit(marks);
    }

    /// <summary>What <c>make broker</c> prints once everything is up; its last line is <see cref="ReadyLine"/>.</summary>
    public IReadOnlyList<string> Banner() =>
    [
        string.Empty,
        $"GcpStreams standalone broker (librdkafka {EmbeddedKafkaCluster.LibrdkafkaVersion} mock cluster): {Topics.Count} topics of application id "
            + $"{Settings.ApplicationId}, {Settings.Partitions} partitions each.",
        $"  Kafka bootstrap servers: {BootstrapServers}",
        $"  Schema registry:         {RegistryUrl}",
        $"  Attach an instance:      make run KAFKA={BootstrapServers} SCHEMA_REGISTRY={RegistryUrl}",
        $"  Another instance:        make run KAFKA={BootstrapServers} SCHEMA_REGISTRY={RegistryUrl} ASPNETCORE_URLS=http://127.0.0.1:8081 STATE_DIR=/tmp/gcp-streams-2",
        $"  Check the ledger:        make ledger-check KAFKA={BootstrapServers} SCHEMA_REGISTRY={RegistryUrl}",
        $"  Log starts checked every {Settings.LogStartCheckInterval.TotalSeconds:0} s: a warning names any partition whose oldest records were dropped.",
        "  Everything is kept in memory until this process stops. Ctrl+C stops.",
        ReadyLine,
    ];

    /// <summary>The line scripts and tests wait for: <c>gcp-broker ready bootstrap=... registry=...</c>.</summary>
    public string ReadyLine => $"gcp-broker ready bootstrap={BootstrapServers} registry={RegistryUrl}";

    public async ValueTask DisposeAsync()
    {
        await Watcher.DisposeAsync();
        await registryHost.StopAsync();
        await registryHost.DisposeAsync();
        if (proxy is not null)
        {
            await proxy.DisposeAsync();
        }

        registry.Dispose();
        cluster.Dispose();
    }
}
