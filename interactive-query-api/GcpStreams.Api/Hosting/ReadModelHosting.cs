using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Api.ReadModel;
using GcpStreams.Client;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// The API's global read model (<see cref="CertificateReadModel"/>) wired to the service's Kafka and schema registry.
/// </summary>
/// <remarks>
/// Not <c>AddCertificateReadModel</c> as is: its options callback has no service provider (the embedded broker's
/// bootstrap servers are only known once <see cref="KafkaEnvironment"/> exists), and it starts the model as a hosted
/// service at once, while in embedded mode the topics only exist once <see cref="StreamService"/> has created them.
/// Here the model is the same singleton (and its <see cref="ReadModelStore"/>), started by <see cref="ReadModelStartup"/>
/// once the stream is RUNNING (so the topics exist in both modes).
/// </remarks>
public static class ReadModelHosting
{
    public static IServiceCollection AddGcpReadModel(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var options = new ReadModelOptions
            {
                BootstrapServers = sp.GetRequiredService<KafkaEnvironment>().BootstrapServers,
                FetchWaitMaxMs = kafka.FetchWaitMaxMs,
            };
            foreach (var (key, value) in ConsumerSettings(kafka))
            {
                options.ConsumerSettings[key] = value;
            }

            return new CertificateReadModel(options, new Codec(sp.GetRequiredService<ISchemaRegistryClient>()),
                sp.GetService<ILogger<CertificateReadModel>>(), sp.GetService<TimeProvider>());
        });
        services.AddSingleton(sp => sp.GetRequiredService<CertificateReadModel>().Store);
        services.AddHostedService<ReadModelStartup>();
        return services;
    }

    /// <summary>Cluster mode: the stream's security settings and <c>Kafka:Settings</c>, as librdkafka keys.</summary>
    internal static IEnumerable<KeyValuePair<string, string>> ConsumerSettings(KafkaOptions kafka)
    {
        var security = new ClientConfig();
        if (kafka.Mode == KafkaMode.Cluster)
        {
            if (kafka.SecurityProtocol is { Length: > 0 } protocol)
            {
                security.SecurityProtocol = Enum.Parse<SecurityProtocol>(protocol, ignoreCase: true);
            }

            if (kafka.SaslMechanism is { Length: > 0 } mechanism)
            {
                security.SaslMechanism = Enum.Parse<SaslMechanism>(mechanism, ignoreCase: true);
            }

            security.SaslUsername = kafka.SaslUsername;
            security.SaslPassword = kafka.SaslPassword;
            security.SslCaLocation = kafka.SslCaLocation;
        }

        return security.Where(e => e.Value is not null).Concat(kafka.Settings);
    }
}

/// <summary>Starts the read model once the stream is RUNNING (the topics exist then), and stops it with the host.</summary>
public sealed class ReadModelStartup(StreamService stream, CertificateReadModel model, ILogger<ReadModelStartup> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stream.WhenRunning.WaitAsync(stoppingToken);
        await model.StartAsync(stoppingToken);
        try
        {
            await model.WhenCaughtUp.WaitAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "The read model failed before it caught up; the service stays not ready");
            return;
        }

        logger.LogInformation("Read model caught up ({Certificates} certificates)", model.Store.Count);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await model.StopAsync(cancellationToken);
    }
}
