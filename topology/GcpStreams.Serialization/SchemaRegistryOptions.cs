using System.Diagnostics.CodeAnalysis;
using Confluent.SchemaRegistry;

namespace GcpStreams.Serialization;

/// <summary>
/// Where the schema registry is and how to reach it; bound from the <c>SchemaRegistry</c> configuration section
/// (e.g. environment variables <c>SchemaRegistry__Url</c>, <c>SchemaRegistry__BasicAuthUserInfo</c>).
/// </summary>
public sealed class SchemaRegistryOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "SchemaRegistry";

    /// <summary>The <see cref="Url"/> value that selects the in-process registry (an empty Url does too).</summary>
    public const string InProcessUrl = "inprocess";

    /// <summary>
    /// Base URL(s) of the Confluent-compatible schema registry, comma-separated (e.g.
    /// <c>https://sr-1:8081,https://sr-2:8081</c>). Empty, null or <c>inprocess</c> (any case): use the
    /// in-process registry (embedded mode).
    /// </summary>
    [SuppressMessage("Design", "CA1056:URI-like properties should not be strings", Justification = "Comma-separated list or 'inprocess', passed to Confluent's client as text.")]
    public string? Url { get; set; }

    /// <summary>HTTP basic authentication as <c>user:password</c> (Confluent's <c>schema.registry.basic.auth.user.info</c>).</summary>
    public string? BasicAuthUserInfo { get; set; }

    /// <summary>Timeout of one registry request in milliseconds (Confluent's default: 30000).</summary>
    public int? RequestTimeoutMs { get; set; }

    /// <summary>Retries of a failed request (Confluent's default: 3).</summary>
    public int? MaxRetries { get; set; }

    /// <summary>Maximum number of schemas the client caches (Confluent's default: 1000).</summary>
    public int? MaxCachedSchemas { get; set; }

    /// <summary>PEM file of the certificate authorities to trust for the registry's TLS certificate.</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>PKCS#12 keystore with the client certificate, for mutual TLS.</summary>
    public string? SslKeystoreLocation { get; set; }

    /// <summary>Password of <see cref="SslKeystoreLocation"/>.</summary>
    public string? SslKeystorePassword { get; set; }

    /// <summary>Verify the registry's TLS certificate (Confluent's default: true). Turn off only for local tests.</summary>
    public bool? EnableSslCertificateVerification { get; set; }

    /// <summary>True when <see cref="Url"/> selects the in-process registry (empty or <c>inprocess</c>).</summary>
    public bool IsInProcess =>
        string.IsNullOrWhiteSpace(Url) || string.Equals(Url.Trim(), InProcessUrl, StringComparison.OrdinalIgnoreCase);

    /// <summary>The Confluent client configuration for a cluster registry (only the settings that are set).</summary>
    /// <exception cref="InvalidOperationException">The options select the in-process registry.</exception>
    public SchemaRegistryConfig ToConfluentConfig()
    {
        if (IsInProcess)
        {
            throw new InvalidOperationException("These schema registry options select the in-process registry: there is no Confluent client configuration.");
        }

        var config = new SchemaRegistryConfig { Url = Url!.Trim() };
        if (!string.IsNullOrEmpty(BasicAuthUserInfo))
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = BasicAuthUserInfo;
        }

        config.RequestTimeoutMs = RequestTimeoutMs;
        config.MaxRetries = MaxRetries;
        config.MaxCachedSchemas = MaxCachedSchemas;
        if (!string.IsNullOrEmpty(SslCaLocation))
        {
            config.SslCaLocation = SslCaLocation;
        }

        if (!string.IsNullOrEmpty(SslKeystoreLocation))
        {
            config.SslKeystoreLocation = SslKeystoreLocation;
            config.SslKeystorePassword = SslKeystorePassword;
        }

        config.EnableSslCertificateVerification = EnableSslCertificateVerification;
        return config;
    }

    /// <inheritdoc />
    /// <remarks>Secrets (basic auth, keystore password) are masked.</remarks>
    public override string ToString() =>
        IsInProcess
            ? "SchemaRegistry(in-process)"
            : $"SchemaRegistry(Url={Url}, BasicAuth={(string.IsNullOrEmpty(BasicAuthUserInfo) ? "no" : "***")}, "
              + $"RequestTimeoutMs={RequestTimeoutMs}, SslCaLocation={SslCaLocation}, SslKeystoreLocation={SslKeystoreLocation}, "
              + $"EnableSslCertificateVerification={EnableSslCertificateVerification})";
}
