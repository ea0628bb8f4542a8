using Confluent.SchemaRegistry;

namespace GcpStreams.Serialization;

/// <summary>Creates the schema registry client for the configured mode.</summary>
public static class SchemaRegistryClients
{
    /// <summary>
    /// Cluster mode (a <see cref="SchemaRegistryOptions.Url"/> is set): Confluent's
    /// <see cref="CachedSchemaRegistryClient"/> with the URL, basic auth, timeouts and TLS settings of the options.
    /// Embedded mode (Url empty or <c>inprocess</c>): the in-process registry <paramref name="inProcessRegistry"/> gives.
    /// </summary>
    /// <remarks>
    /// Nothing is sent over the network here: Confluent's client connects on its first request. (It does read
    /// <see cref="SchemaRegistryOptions.SslCaLocation"/> and <see cref="SchemaRegistryOptions.SslKeystoreLocation"/>
    /// from disk when they are set, and rejects malformed settings with <see cref="ArgumentException"/>.)
    /// </remarks>
    /// <param name="options">Where the registry is.</param>
    /// <param name="inProcessRegistry">
    /// Gives the in-process registry (GcpStreams.SchemaRegistry, which this project does not reference); called only
    /// when the options select it.
    /// </param>
    /// <returns>The client; the caller owns it (dispose it with the application).</returns>
    public static ISchemaRegistryClient Create(SchemaRegistryOptions options, Func<ISchemaRegistryClient> inProcessRegistry)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inProcessRegistry);
        return options.IsInProcess
            ? inProcessRegistry()
            : new CachedSchemaRegistryClient(options.ToConfluentConfig());
    }
}
