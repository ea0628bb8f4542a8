using Confluent.SchemaRegistry;

namespace GcpStreams.Serialization;

/// <summary>Creates the schema registry client for the configured mode.</summary>
public static class SchemaRegistryClients
{
    /// <summary>
    /// Cluster mode (a <see cref="SchemaRegistryOptions.Url"/> is set): Confluent's
    /// <see cref="CachedSchemaRegistryClient"/> with the URL, basic auth, timeouts and TLS settings of the options.
    /// Embedded mode (Url empty or <c>inprocess</c>): <paramref name="inProcessRegistry"/>, or a new
    /// <see cref="InProcessSchemaRegistry"/>.
    /// </summary>
    /// <remarks>
    /// Nothing is sent over the network here: Confluent's client connects on its first request. (It does read
    /// <see cref="SchemaRegistryOptions.SslCaLocation"/> and <see cref="SchemaRegistryOptions.SslKeystoreLocation"/>
    /// from disk when they are set, and rejects malformed settings with <see cref="ArgumentException"/>.)
    /// </remarks>
    /// <param name="options">Where the registry is.</param>
    /// <param name="inProcessRegistry">The registry to share in embedded mode (e.g. the one served over HTTP).</param>
    /// <returns>The client; the caller owns it (dispose it with the application).</returns>
    public static ISchemaRegistryClient Create(SchemaRegistryOptions options, InProcessSchemaRegistry? inProcessRegistry = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.IsInProcess
            ? inProcessRegistry ?? new InProcessSchemaRegistry()
            : new CachedSchemaRegistryClient(options.ToConfluentConfig());
    }
}
