using Confluent.SchemaRegistry;

namespace GcpStreams.Serialization;

/// <summary>Creates the client of a cluster's schema registry.</summary>
public static class SchemaRegistryClients
{
    /// <summary>
    /// Confluent's <see cref="CachedSchemaRegistryClient"/> with the URL, basic auth, timeouts and TLS settings of the options.
    /// Cluster only: the in-process registry of embedded mode (dev-infrastructure/GcpStreams.SchemaRegistry) is the embedded
    /// host's to create, and options that select it (<see cref="SchemaRegistryOptions.IsInProcess"/>) are refused here.
    /// </summary>
    /// <remarks>
    /// Nothing is sent over the network here: Confluent's client connects on its first request. (It does read
    /// <see cref="SchemaRegistryOptions.SslCaLocation"/> and <see cref="SchemaRegistryOptions.SslKeystoreLocation"/>
    /// from disk when they are set, and rejects malformed settings with <see cref="ArgumentException"/>.)
    /// </remarks>
    /// <param name="options">Where the registry is.</param>
    /// <returns>The client; the caller owns it (dispose it with the application).</returns>
    /// <exception cref="InvalidOperationException">The options name no URL (they select the in-process registry).</exception>
    public static ISchemaRegistryClient Create(SchemaRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new CachedSchemaRegistryClient(options.ToConfluentConfig());
    }
}
