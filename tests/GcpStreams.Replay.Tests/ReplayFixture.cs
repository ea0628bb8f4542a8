using System.Diagnostics;
using GcpStreams.Api;
using GcpStreams.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Replay.Tests;

/// <summary><c>make broker</c> as its own process (gcp-broker), on OS-chosen ports, read from its ready line.</summary>
public sealed class BrokerProcess : IDisposable
{
    private readonly Process process;

    private BrokerProcess(Process process, string bootstrap, string registry)
    {
        this.process = process;
        BootstrapServers = bootstrap;
        RegistryUrl = registry;
    }

    public string BootstrapServers { get; }

    public string RegistryUrl { get; }

    public static async Task<BrokerProcess> StartAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "gcp-broker.dll");
        var process = Process.Start(new ProcessStartInfo("dotnet", [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (await process.StandardOutput.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("gcp-broker ready ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep draining
                _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                return new BrokerProcess(process, parts[2]["bootstrap=".Length..], parts[3]["registry=".Length..]);
            }
        }

        throw new InvalidOperationException("gcp-broker ended before its ready line: " + await process.StandardError.ReadToEndAsync(CancellationToken.None));
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }
}

/// <summary>
/// One service instance attached to the standalone broker (<c>Kafka:Mode=Attached</c>), hosted in-process as <c>make run
/// KAFKA=... SCHEMA_REGISTRY=...</c> builds it, on a free port with its own state dir (as the operations' tests' instance).
/// </summary>
public sealed class Instance : IAsyncDisposable
{
    public const string DemoPool = "replay-demo-pos";

    public const long DemoNominal = 100_000;

    private readonly WebApplication app;

    private Instance(WebApplication app, string root)
    {
        this.app = app;
        Root = root;
    }

    public string Root { get; }

    public string StateDir => Path.Combine(Root, "state");

    public CommandSigning Signing => app.Services.GetRequiredService<CommandSigning>();

    public static async Task<Instance> StartAsync(BrokerProcess broker, string applicationId, int partitions, string? root = null)
    {
        root ??= Directory.CreateTempSubdirectory("gcp-replay-it-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:Mode"] = "Attached",
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["SchemaRegistry:Url"] = broker.RegistryUrl,
            ["Kafka:ApplicationId"] = applicationId,
            ["Kafka:Partitions"] = partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kafka:StateDir"] = Path.Combine(root, "state"),
            ["Kafka:FetchWaitMaxMs"] = "5",
            ["Kafka:CommitIntervalMs"] = "20",
            ["Gcp:NumberingKey"] = GcpOptions.DevelopmentNumberingKey,
            ["Gcp:CommandTimeoutSeconds"] = "60",
            ["Gcp:CvcKeys:1"] = "cmVwbGF5LXRlc3RzLWN2Yy1rZXktdmVyc2lvbi0xLTMyYg==",
            ["Gcp:DemoPools:0:PoolId"] = DemoPool,
            ["Gcp:DemoPools:0:Channel"] = "POS",
            ["Gcp:DemoPools:0:NominalMinor"] = DemoNominal.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gcp:DemoPools:0:Currency"] = "RUB",
            ["Gcp:DemoPools:0:Count"] = "10",
            ["Gcp:DemoPools:0:LowWatermark"] = "0",
            ["Gcp:DemoPools:0:Series"] = "12",
        };
        var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync();
        await app.Services.GetRequiredService<EmbeddedStartup>().WhenDemoPoolsVisible.WaitAsync(TimeSpan.FromSeconds(120));
        return new Instance(app, root);
    }

    /// <summary>Stops the instance (its stream leaves the group), keeping its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
