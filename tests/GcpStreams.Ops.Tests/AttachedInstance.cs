using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using GcpStreams.Broker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Ops.Tests;

/// <summary>
/// One service instance attached to a standalone broker (<c>Kafka:Mode=Attached</c>), hosted in-process as <c>make run
/// KAFKA=... SCHEMA_REGISTRY=...</c> builds it, on a free port with its own state dir and an empty content root.
/// </summary>
internal sealed class AttachedInstance : IAsyncDisposable
{
    /// <summary>CVC key version 1 of these tests; the secrecy scan derives the disclosed CVCs with it.</summary>
    public const string CvcKey = "b3BzLXRlc3RzLWN2Yy1rZXktdmVyc2lvbi0xLTMyYnl0ZXM=";

    public const string DemoPool = "ops-demo-pos";

    public const long DemoNominal = 100_000;

    private readonly WebApplication app;

    private AttachedInstance(WebApplication app, string root)
    {
        this.app = app;
        Root = root;
    }

    /// <summary>The instance's own directory; its state dir (stores, read model) is under it.</summary>
    public string Root { get; }

    public IServiceProvider Services => app.Services;

    public StreamService Stream => app.Services.GetRequiredService<StreamService>();

    public CommandSigning Signing => app.Services.GetRequiredService<CommandSigning>();

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Starts an instance on <paramref name="broker"/> with one demo pool, and waits until it shows that pool (ready).</summary>
    public static async Task<AttachedInstance> StartAsync(StandaloneBroker broker)
    {
        var root = Directory.CreateTempSubdirectory("gcp-ops-it-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:Mode"] = "Attached",
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["SchemaRegistry:Url"] = broker.RegistryUrl,
            ["Kafka:ApplicationId"] = broker.Settings.ApplicationId,
            ["Kafka:StateDir"] = Path.Combine(root, "state"),
            ["Kafka:FetchWaitMaxMs"] = "5",
            ["Kafka:CommitIntervalMs"] = "20",
            ["Gcp:NumberingKey"] = GcpOptions.DevelopmentNumberingKey,
            ["Gcp:CvcKeys:1"] = CvcKey,
            ["Gcp:CommandTimeoutSeconds"] = "60",
            ["Gcp:DemoPools:0:PoolId"] = DemoPool,
            ["Gcp:DemoPools:0:Channel"] = "POS",
            ["Gcp:DemoPools:0:NominalMinor"] = DemoNominal.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gcp:DemoPools:0:Currency"] = "RUB",
            ["Gcp:DemoPools:0:Count"] = "5",
            ["Gcp:DemoPools:0:LowWatermark"] = "0",
            ["Gcp:DemoPools:0:Series"] = "11",
        };
        var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync();
        var instance = new AttachedInstance(app, root);
        // readiness: the stream runs and the demo pool is visible (loaded by this instance or another one)
        await app.Services.GetRequiredService<EmbeddedStartup>().WhenDemoPoolsVisible.WaitAsync(TimeSpan.FromSeconds(120));
        return instance;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // RocksDB may still hold a file briefly; the temp dir is the OS's to clean
        }
    }
}
