using Confluent.SchemaRegistry;
using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.ReadModel;
using GcpStreams.Client;
using GcpStreams.Embedded;
using GcpStreams.SchemaRegistry;
using GcpStreams.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// One GcpStreams service hosted in-process, exactly as <c>make run</c> builds it, on a free port, with its own state dir
/// and an empty content root (so only the settings given here apply).
/// </summary>
internal sealed class ServiceInstance : IAsyncDisposable
{
    public const string NumberingKey = "aW50ZWdyYXRpb24tdGVzdC1udW1iZXJpbmcta2V5ISE=";

    /// <summary>CVC key version 1 of the tests (not the public development key, so cluster mode accepts it).</summary>
    public const string CvcKey = "aW50ZWdyYXRpb24tdGVzdC1jdmMta2V5LTMyYnl0ZSE=";

    /// <summary>The command signing key of cluster-mode instances (embedded ones make their own at start).</summary>
    public const string CommandSigningKey = "aW50ZWdyYXRpb24tdGVzdC1jb21tYW5kLXNpZ25pbmcta2V5ISE=";

    /// <summary>A signer with <see cref="CommandSigningKey"/>, as every cluster-mode instance of the tests has.</summary>
    public static readonly RecordSigner ClusterSigner = new(Convert.FromBase64String(CommandSigningKey));

    private readonly WebApplication app;
    private readonly string root;

    private ServiceInstance(WebApplication app, string root)
    {
        this.app = app;
        this.root = root;
    }

    public StreamService Stream => app.Services.GetRequiredService<StreamService>();

    public KafkaEnvironment Kafka => app.Services.GetRequiredService<KafkaEnvironment>();

    public CertificateReadModel ReadModel => app.Services.GetRequiredService<CertificateReadModel>();

    public CommandClient Commands => app.Services.GetRequiredService<CommandClient>();

    public IServiceProvider Services => app.Services;

    public ISchemaRegistryClient Registry => app.Services.GetRequiredService<ISchemaRegistryClient>();

    /// <summary>This instance's command signer: what a client of the topics (the traffic generator, a test) signs commands with.</summary>
    public RecordSigner Signer => app.Services.GetRequiredService<CommandSigning>().Signer;

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Embedded mode: the instance runs its own broker.</summary>
    /// <param name="settings">Settings over the tests' defaults.</param>
    /// <param name="logging">Extra logging setup (e.g. a capturing provider and a lower level).</param>
    /// <param name="services">Extra services or options (e.g. Kestrel's limits, which configuration does not set).</param>
    /// <param name="untilRunning">Return once the stream is RUNNING (else as soon as the host listens, as <c>make run</c> does).</param>
    public static Task<ServiceInstance> StartEmbeddedAsync(string applicationId = "gcp-it", IReadOnlyDictionary<string, string?>? settings = null, Action<ILoggingBuilder>? logging = null,
        Action<IServiceCollection>? services = null, bool untilRunning = true) =>
        StartAsync(new() { ["Kafka:Mode"] = "Embedded", ["Kafka:ApplicationId"] = applicationId }, services, settings, logging, untilRunning);

    /// <summary>Cluster mode against a broker the test runs, sharing one schema registry between instances.</summary>
    /// <param name="stateDir">A state dir that outlives the instance (a restart on the same machine); null: one of its own, deleted with it.</param>
    /// <param name="settings">Settings over the tests' defaults.</param>
    public static Task<ServiceInstance> StartClusterAsync(string bootstrapServers, ISchemaRegistryClient registry, string applicationId = "gcp-it", string? stateDir = null,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        StartAsync(
            new(ClusterAuth.Settings)
            {
                ["Kafka:Mode"] = "Cluster",
                ["Kafka:BootstrapServers"] = bootstrapServers,
                ["SchemaRegistry:Url"] = "http://schema-registry.invalid:8081", // replaced by the shared registry below
                ["Kafka:ApplicationId"] = applicationId,
                ["Kafka:RetryBackoffSeconds"] = "1",
                ["Auth:AllowEmbeddedInCluster"] = "true", // a test cluster: the dev token endpoint is fine
                // a stopped instance's partitions move after the session timeout if the broker misses its LeaveGroup
                ["Kafka:Settings:session.timeout.ms"] = "6000",
                ["Kafka:Settings:heartbeat.interval.ms"] = "500",
                ["Kafka:CommitOffsetsOutsideTransactions"] = "true", // the test's broker is the embedded one, which does not store them
            },
            services => services.AddSingleton(registry),
            WithStateDir(settings, stateDir));

    private static Dictionary<string, string?> WithStateDir(IReadOnlyDictionary<string, string?>? settings, string? stateDir)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        if (stateDir is not null)
        {
            all["Kafka:StateDir"] = stateDir;
        }

        return all;
    }

    /// <summary>A broker of the test's own with every topic the topology needs for the application id, as the Helm chart provisions a real cluster.</summary>
    public static EmbeddedKafkaCluster ProvisionedCluster(string applicationId, int partitions)
    {
        var cluster = new EmbeddedKafkaCluster();
        var builder = new StreamBuilder();
        GcpTopology.Build(builder, new TopologySettings { ApplicationId = applicationId, NumberingKey = new byte[16], CommandSigningKey = new byte[32] }, new Codec(new InProcessSchemaRegistry()));
        cluster.CreateTopics(TopologyTopics.Of(builder.Build(), applicationId).Select(t => (t.Name, partitions)));
        return cluster;
    }

    private static async Task<ServiceInstance> StartAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null,
        IReadOnlyDictionary<string, string?>? overrides = null, Action<ILoggingBuilder>? logging = null, bool untilRunning = true)
    {
        var root = Directory.CreateTempSubdirectory("gcp-it-").FullName;
        settings["Kafka:StateDir"] = Path.Combine(root, "state");
        settings["Kafka:FetchWaitMaxMs"] = "5";
        settings["Kafka:CommitIntervalMs"] = "20";
        settings["Kafka:ProcessingGuarantee"] = "ExactlyOnce";
        settings["Gcp:NumberingKey"] = NumberingKey;
        settings["Gcp:CvcKeys:1"] = CvcKey;
        settings["Gcp:CommandTimeoutSeconds"] = "60"; // bursts of 500 concurrent writes on a loaded 2-core CI machine: slow is not wrong
        settings["Gcp:ReservationSweepSeconds"] = "1";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            logging?.Invoke(builder.Logging);
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var instance = new ServiceInstance(app, root);
        if (untilRunning)
        {
            await instance.Stream.WhenRunning.WaitAsync(TimeSpan.FromSeconds(90));
        }

        return instance;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // RocksDB may still hold a file briefly; the temp dir is the OS's to clean
        }
    }
}
