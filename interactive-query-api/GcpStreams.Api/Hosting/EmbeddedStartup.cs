using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Api.Security;
using GcpStreams.Topology;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Once the stream runs: in embedded mode, loads the demo pools (as API commands through the topology, like an admin would);
/// then prints where to go next.
/// </summary>
public sealed class EmbeddedStartup(
    StreamService stream,
    KafkaEnvironment environment,
    ISchemaRegistryClient registry,
    IOptions<GcpOptions> gcp,
    IOptions<KafkaOptions> kafka,
    IOptions<AuthOptions> auth,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<EmbeddedStartup> logger) : BackgroundService
{
    /// <summary>Where the in-process schema registry is served in embedded mode.</summary>
    public const string SchemaRegistryPath = "/schema-registry";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WhenStarted(lifetime, stoppingToken);
        await stream.WhenRunning.WaitAsync(stoppingToken);
        if (environment.IsEmbedded)
        {
            await LoadDemoPoolsAsync(stoppingToken);
        }

        PrintBanner();
    }

    private async Task LoadDemoPoolsAsync(CancellationToken stoppingToken)
    {
        var codec = new Codec(registry);
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = environment.BootstrapServers,
            Partitioner = Partitioner.Murmur2Random, // the same partitioning as Streamiz (Java-compatible)
            EnableIdempotence = true,
        }).Build();
        foreach (var pool in gcp.Value.DemoPools)
        {
            var command = new C.GiftCertificateCommand
            {
                requestId = $"demo-load-{pool.PoolId}",
                caller = "gcp-streams-demo",
                issuedAt = DateTime.UtcNow,
                payload = new C.LoadPool
                {
                    poolId = pool.PoolId,
                    channel = Enum.Parse<C.Channel>(pool.Channel, ignoreCase: true),
                    nominalMinor = pool.NominalMinor,
                    currency = pool.Currency,
                    count = pool.Count,
                    lowWatermark = pool.LowWatermark,
                    series = pool.Series,
                    importedNumbers = [],
                },
            };
            await producer.ProduceAsync(Topics.Commands, new Message<byte[], byte[]> { Key = Codec.Utf8(pool.PoolId), Value = codec.Encode(Topics.Commands, command) }, stoppingToken);
            logger.LogInformation("Demo pool {Pool}: {Count} x {Nominal} {Currency} for {Channel}", pool.PoolId, pool.Count, pool.NominalMinor, pool.Currency, pool.Channel);
        }
    }

    private void PrintBanner()
    {
        var urls = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        var api = urls.FirstOrDefault() ?? "(no HTTP address)";
        var lines = new List<string>
        {
            string.Empty,
            $"GcpStreams is running ({kafka.Value.Mode} mode, application id {kafka.Value.ApplicationId}).",
            $"  API:                     {api}",
            $"  Health:                  {api}/health/ready",
            $"  Swagger UI:              {api}/swagger",
            $"  Kafka bootstrap servers: {environment.BootstrapServers}",
        };
        if (environment.IsEmbedded)
        {
            lines.Add($"  Schema registry: {api}{SchemaRegistryPath}");
            lines.Add($"  Tail the event stream:   kcat -b {environment.BootstrapServers} -C -t {Topics.Stream} -f '%k %h\\n'");
            lines.Add($"  Drive traffic:           make demo KAFKA={environment.BootstrapServers} SCHEMA_REGISTRY={api}{SchemaRegistryPath}");
            lines.Add("  The embedded broker keeps nothing after exit. Ctrl+C stops.");
        }

        // only while the documented dev client is unchanged: a configured secret is never printed
        if (auth.Value.Mode == AuthMode.Embedded
            && auth.Value.Clients.TryGetValue(DevClients.PosTerminal, out var pos) && pos.Secret == "pos-terminal-secret")
        {
            lines.Add($"  Dev token (docs/api.md): curl -s {api}{GcpAuthenticationExtensions.TokenPath} -d grant_type=client_credentials -d client_id=pos-terminal -d client_secret=pos-terminal-secret");
        }

        lines.Add(string.Empty);
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Console.Out.Flush();
    }

    private static Task WhenStarted(IHostApplicationLifetime lifetime, CancellationToken token)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        token.Register(() => started.TrySetCanceled(token));
        return started.Task;
    }
}
