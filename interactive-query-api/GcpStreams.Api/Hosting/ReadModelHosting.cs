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
        services.AddOptions<ReadModelSettings>().BindConfiguration(ReadModelSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReadModelSettings>, ReadModelSettingsValidation>();
        services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var settings = sp.GetRequiredService<IOptions<ReadModelSettings>>().Value;
            var options = new ReadModelOptions
            {
                BootstrapServers = sp.GetRequiredService<KafkaEnvironment>().BootstrapServers,
                FetchWaitMaxMs = kafka.FetchWaitMaxMs,
                Directory = settings.Directory(kafka),
                ResetOnStart = kafka.Mode == KafkaMode.Embedded, // the embedded broker is new at every start
                BlockCacheMiB = settings.BlockCacheMiB,
                WriteBufferMiB = settings.WriteBufferMiB,
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

/// <summary>Section <c>ReadModel</c>: where this instance's read model keeps its RocksDB database, and its memory budget.</summary>
public sealed class ReadModelSettings
{
    public const string Section = "ReadModel";

    /// <summary>
    /// The database directory, of this instance only (RocksDB locks it: a second process on it fails at start). Unset:
    /// <c>{Kafka:StateDir}/read-model/{Kafka:ApplicationId}</c>. It holds the consumer positions, so a restart reads only
    /// what is new; delete it to rebuild from the topics. Emptied at start in embedded mode.
    /// </summary>
    public string? Dir { get; set; }

    /// <summary>RocksDB block cache (MiB, 8-4096): data, index and filter blocks.</summary>
    public int BlockCacheMiB { get; set; } = 64;

    /// <summary>One RocksDB memtable (MiB, 1-1024); two at most exist at once.</summary>
    public int WriteBufferMiB { get; set; } = 16;

    /// <summary>The directory to use: <see cref="Dir"/>, or the default under the state dir.</summary>
    public string Directory(KafkaOptions kafka)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        return string.IsNullOrWhiteSpace(Dir) ? Path.Combine(kafka.StateDir, "read-model", kafka.ApplicationId) : Dir;
    }
}

/// <summary>Startup checks of the <c>ReadModel</c> section (see <see cref="KafkaOptionsValidation"/>).</summary>
public sealed class ReadModelSettingsValidation(IOptions<KafkaOptions> kafka) : IValidateOptions<ReadModelSettings>
{
    public ValidateOptionsResult Validate(string? name, ReadModelSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        KafkaOptionsValidation.Range(errors, "ReadModel:BlockCacheMiB", options.BlockCacheMiB, 8, 4096);
        KafkaOptionsValidation.Range(errors, "ReadModel:WriteBufferMiB", options.WriteBufferMiB, 1, 1024);
        if (options.Dir is { } dir)
        {
            string? full = null;
            try
            {
                full = Path.GetFullPath(dir);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                errors.Add($"ReadModel:Dir '{dir}' is not a valid path ({e.Message}).");
            }

            if (string.IsNullOrWhiteSpace(dir) || (full is not null && Path.GetPathRoot(full) == full))
            {
                errors.Add($"ReadModel:Dir '{dir}' must name a directory of its own for the read model's RocksDB database (not empty, not a root).");
            }
            else if (full is not null && File.Exists(full))
            {
                errors.Add($"ReadModel:Dir '{dir}' is a file; it must name a directory.");
            }
        }

        var state = kafka.Value;
        if (options.Dir is null && string.IsNullOrWhiteSpace(state.StateDir))
        {
            errors.Add("ReadModel:Dir is unset and Kafka:StateDir is empty: one of them must name a directory.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
