using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GcpStreams.CrmNotifier;

/// <summary>Builds the notifier's host: <c>make notifier</c>, the tests and the benchmark call the same <see cref="Build"/>.</summary>
public static class NotifierApp
{
    /// <param name="args">Command line (configuration as <c>--Notifier:Api:BaseUrl=…</c>).</param>
    /// <param name="configure">More setup (tests: settings, a capturing logger, a shared schema registry client).</param>
    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        // its own sources, lowest first: crm-notifier.json beside the program, environment variables, the command line
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "crm-notifier.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        configure?.Invoke(builder);

        var options = builder.Configuration.GetSection(NotifierOptions.Section).Get<NotifierOptions>() ?? new NotifierOptions();
        if (options.Problems() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException("The notifier's configuration is not usable: " + string.Join("; ", problems));
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new KafkaClients(options, sp.GetService<ISchemaRegistryClient>()));
        services.AddSingleton(sp => sp.GetRequiredService<KafkaClients>().Producer());
        services.AddHttpClient(GcpApiClient.HttpClientName);
        services.AddHttpClient(SmsSender.HttpClientName);
        services.AddSingleton<GcpApiClient>();
        services.AddSingleton<EmailSender>();
        services.AddSingleton<SmsSender>();
        services.AddSingleton<ResultLedger>();
        services.AddSingleton<ClientDirectory>();
        services.AddSingleton<NotificationProcessor>();
        services.AddSingleton<NotificationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationWorker>());
        services.AddHostedService<Shutdown>();
        return builder.Build();
    }

    /// <summary>At stop, after the worker: flush the producer, close the tables.</summary>
    private sealed class Shutdown(IProducer<string, byte[]> producer, ResultLedger ledger, ClientDirectory clients) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            producer.Flush(TimeSpan.FromSeconds(10));
            await ledger.DisposeAsync();
            await clients.DisposeAsync();
        }
    }
}
