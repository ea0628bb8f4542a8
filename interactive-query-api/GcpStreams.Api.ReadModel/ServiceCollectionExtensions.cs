using Confluent.SchemaRegistry;
using GcpStreams.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Api.ReadModel;

/// <summary>Registration of the read model in a host.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="CertificateReadModel"/> as a singleton and a hosted service, and its
    /// <see cref="ReadModelStore"/>. Needs a <see cref="Codec"/> or an <see cref="ISchemaRegistryClient"/> in the container.
    /// </summary>
    public static IServiceCollection AddCertificateReadModel(this IServiceCollection services, Action<ReadModelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(sp =>
        {
            var options = new ReadModelOptions();
            configure(options);
            var codec = sp.GetService<Codec>() ?? new Codec(sp.GetRequiredService<ISchemaRegistryClient>());
            return new CertificateReadModel(options, codec, sp.GetService<ILogger<CertificateReadModel>>(), sp.GetService<TimeProvider>());
        });
        services.AddSingleton(sp => sp.GetRequiredService<CertificateReadModel>().Store);
        services.AddHostedService(sp => sp.GetRequiredService<CertificateReadModel>());
        return services;
    }
}
