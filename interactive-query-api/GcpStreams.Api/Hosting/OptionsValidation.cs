using System.Text.RegularExpressions;
using GcpStreams.Api.Security;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Startup checks of the configuration. Each failure names the setting as it is written in configuration
/// (<c>Kafka:BootstrapServers</c>, or the environment variable <c>Kafka__BootstrapServers</c>) and what is wrong.
/// </summary>
public sealed partial class KafkaOptionsValidation : IValidateOptions<KafkaOptions>
{
    private static readonly string[] Guarantees = ["ExactlyOnce", "AtLeastOnce"];
    private static readonly string[] Protocols = ["Plaintext", "Ssl", "SaslPlaintext", "SaslSsl"];
    private static readonly string[] Mechanisms = ["Plain", "ScramSha256", "ScramSha512", "Gssapi", "OAuthBearer"];

    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Mode == KafkaMode.Cluster && string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            errors.Add("Kafka:BootstrapServers is required when Kafka:Mode is Cluster (e.g. kafka-0:9092,kafka-1:9092).");
        }

        if (options.Mode == KafkaMode.Attached && string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            errors.Add("Kafka:BootstrapServers is required when Kafka:Mode is Attached: the bootstrap address `make broker` printed (e.g. 127.0.0.1:39069).");
        }

        if (options.Mode == KafkaMode.Embedded && !string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            errors.Add($"Kafka:BootstrapServers is '{options.BootstrapServers}' while Kafka:Mode is Embedded, which runs a broker of its own; "
                + "set Kafka:Mode=Attached to use the standalone broker of `make broker` there (or Cluster for a real cluster), or unset Kafka:BootstrapServers.");
        }

        if (!Enum.IsDefined(options.Mode))
        {
            errors.Add($"Kafka:Mode is '{options.Mode}'; it must be one of {string.Join(", ", Enum.GetNames<KafkaMode>())}.");
        }

        if (!ApplicationIdFormat().IsMatch(options.ApplicationId ?? string.Empty) || options.ApplicationId is "." or "..")
        {
            // a Kafka name (internal topics are named after it, up to 249 characters with their suffix), and a directory
            // name of its own under Kafka:StateDir (never "." or "..")
            errors.Add($"Kafka:ApplicationId '{options.ApplicationId}' must be 1-100 letters, digits, '.', '_' or '-', and not '.' or '..'.");
        }

        Range(errors, "Kafka:Partitions", options.Partitions, 1, 1024);
        Range(errors, "Kafka:ReplicationFactor", options.ReplicationFactor, 1, 10);
        Range(errors, "Kafka:CommitIntervalMs", options.CommitIntervalMs, 5, 60_000);
        Range(errors, "Kafka:PollMs", options.PollMs, 1, 10_000);
        Range(errors, "Kafka:FetchWaitMaxMs", options.FetchWaitMaxMs, 1, 10_000);
        Range(errors, "Kafka:LingerMs", options.LingerMs, 0, 1_000);
        Range(errors, "Kafka:NumStreamThreads", options.NumStreamThreads, 1, 64);
        Range(errors, "Kafka:StoreBlockCacheMiB", options.StoreBlockCacheMiB, 8, 4_096);
        Range(errors, "Kafka:StoreWriteBufferMiB", options.StoreWriteBufferMiB, 1, 256);
        Range(errors, "Kafka:RetryBackoffSeconds", options.RetryBackoffSeconds, 1, 300);
        Range(errors, "Kafka:MaxRetryBackoffSeconds", options.MaxRetryBackoffSeconds, options.RetryBackoffSeconds, 3_600);
        Range(errors, "Kafka:StreamStallSeconds", options.StreamStallSeconds, 5, 3_600);
        Range(errors, "Kafka:StreamStallRestarts", options.StreamStallRestarts, 1, 100);
        OneOf(errors, "Kafka:ProcessingGuarantee", options.ProcessingGuarantee, Guarantees);
        OneOf(errors, "Kafka:SecurityProtocol", options.SecurityProtocol, Protocols, optional: true);
        OneOf(errors, "Kafka:SaslMechanism", options.SaslMechanism, Mechanisms, optional: true);
        if (string.IsNullOrWhiteSpace(options.StateDir))
        {
            errors.Add("Kafka:StateDir must name a directory for the RocksDB state stores.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    internal static void Range(List<string> errors, string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{setting} is {value}; it must be between {min} and {max}.");
        }
    }

    internal static void OneOf(List<string> errors, string setting, string? value, string[] allowed, bool optional = false)
    {
        if (optional && string.IsNullOrEmpty(value))
        {
            return;
        }

        if (!allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{setting} is '{value}'; it must be one of {string.Join(", ", allowed)}.");
        }
    }

    [GeneratedRegex(@"^[a-zA-Z0-9._-]{1,100}\z")] // \z: "$" would let a trailing newline through
    private static partial Regex ApplicationIdFormat();
}

/// <summary>Startup checks of the <c>Gcp</c> section (see <see cref="KafkaOptionsValidation"/>).</summary>
public sealed class GcpOptionsValidation(IOptions<KafkaOptions> kafka) : IValidateOptions<GcpOptions>
{
    public ValidateOptionsResult Validate(string? name, GcpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        byte[]? key = null;
        try
        {
            key = Convert.FromBase64String(options.NumberingKey ?? string.Empty);
        }
        catch (FormatException)
        {
            errors.Add("Gcp:NumberingKey must be base64.");
        }

        if (key is not null && key.Length < 16)
        {
            errors.Add($"Gcp:NumberingKey must decode to at least 16 bytes (it has {key.Length}); generate one with `openssl rand -base64 32`.");
        }

        if (kafka.Value.Mode == KafkaMode.Cluster && options.NumberingKey == GcpOptions.DevelopmentNumberingKey)
        {
            errors.Add("Gcp:NumberingKey is the public development key; cluster mode needs a secret one (`openssl rand -base64 32`).");
        }

        if (kafka.Value.Mode == KafkaMode.Cluster && options.CommandSigningKey == GcpOptions.DevelopmentCommandSigningKey)
        {
            errors.Add("Gcp:CommandSigningKey is the public development key of attached mode; cluster mode needs a secret one (`openssl rand -base64 32`).");
        }

        if (string.IsNullOrEmpty(options.CommandSigningKey))
        {
            if (kafka.Value.Mode == KafkaMode.Cluster)
            {
                errors.Add("Gcp:CommandSigningKey is required when Kafka:Mode is Cluster: base64 of at least 32 random bytes, the same on every instance "
                    + "(`openssl rand -base64 32`); the topology refuses commands, internal records and replies not signed with it.");
            }
        }
        else
        {
            CommandSigningKeyRule(errors, "Gcp:CommandSigningKey", options.CommandSigningKey);
        }

        for (var i = 0; i < options.AcceptedCommandSigningKeys.Count; i++)
        {
            CommandSigningKeyRule(errors, $"Gcp:AcceptedCommandSigningKeys:{i}", options.AcceptedCommandSigningKeys[i]);
        }

        KafkaOptionsValidation.Range(errors, "Gcp:CommandMaxAgeSeconds", options.CommandMaxAgeSeconds, Math.Max(1, options.CommandTimeoutSeconds), 86_400);
        KafkaOptionsValidation.Range(errors, "Gcp:CvcKeyVersion", options.CvcKeyVersion, 1, int.MaxValue);
        foreach (var (version, cvcKey) in options.CvcKeys)
        {
            byte[]? bytes = null;
            try
            {
                bytes = Convert.FromBase64String(cvcKey ?? string.Empty);
            }
            catch (FormatException)
            {
                errors.Add($"Gcp:CvcKeys:{version} must be base64.");
            }

            if (bytes is { Length: < 16 })
            {
                errors.Add($"Gcp:CvcKeys:{version} must decode to at least 16 bytes (it has {bytes.Length}).");
            }

            if (kafka.Value.Mode == KafkaMode.Cluster && cvcKey == GcpOptions.DevelopmentCvcKey)
            {
                errors.Add($"Gcp:CvcKeys:{version} is the public development key; cluster mode needs a secret one (`openssl rand -base64 32`).");
            }
        }

        if (!options.CvcKeys.ContainsKey(options.CvcKeyVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            errors.Add($"Gcp:CvcKeys:{options.CvcKeyVersion} is missing: new certificates are issued with CVC key version {options.CvcKeyVersion} (Gcp:CvcKeyVersion).");
        }
        KafkaOptionsValidation.Range(errors, "Gcp:ReservationHoldSeconds", options.ReservationHoldSeconds, 1, 86_400);
        KafkaOptionsValidation.Range(errors, "Gcp:MaxReservationHoldSeconds", options.MaxReservationHoldSeconds, 60, 86_400);
        KafkaOptionsValidation.Range(errors, "Gcp:MaxOpenReservationsPerClient", options.MaxOpenReservationsPerClient, 1, 10_000_000);
        if (options.ReservationHoldSeconds > options.MaxReservationHoldSeconds)
        {
            errors.Add($"Gcp:ReservationHoldSeconds ({options.ReservationHoldSeconds}) must not exceed Gcp:MaxReservationHoldSeconds ({options.MaxReservationHoldSeconds})");
        }
        KafkaOptionsValidation.Range(errors, "Gcp:ReservationSweepSeconds", options.ReservationSweepSeconds, 1, 3_600);
        KafkaOptionsValidation.Range(errors, "Gcp:CommandTimeoutSeconds", options.CommandTimeoutSeconds, 1, 300);
        KafkaOptionsValidation.Range(errors, "Gcp:IdempotencyKeyHours", options.IdempotencyKeyHours, 1, 8_760);
        KafkaOptionsValidation.Range(errors, "Gcp:HoldExpiryHours", options.HoldExpiryHours, 1, 8_760);
        KafkaOptionsValidation.Range(errors, "Gcp:SupportCvcDisclosuresPerDay", options.SupportCvcDisclosuresPerDay, 1, 100);
        KafkaOptionsValidation.Range(errors, "Gcp:NotificationOverdueSeconds", options.NotificationOverdueSeconds, 1, 86_400);
        KafkaOptionsValidation.Range(errors, "Gcp:NotificationSweepSeconds", options.NotificationSweepSeconds, 1, 3_600);
        KafkaOptionsValidation.Range(errors, "Gcp:ReportGraceMinutes", options.ReportGraceMinutes, 0, 10_080);
        KafkaOptionsValidation.Range(errors, "Gcp:ReconciliationToleranceMinutes", options.ReconciliationToleranceMinutes, 1, 10_080);
        KafkaOptionsValidation.Range(errors, "Gcp:ReportPublishIntervalMs", options.ReportPublishIntervalMs, 0, 60_000);
        if (!KnownTimeZone(options.ReportTimeZone))
        {
            errors.Add($"Gcp:ReportTimeZone '{options.ReportTimeZone}' is not a time zone of this machine (an IANA id such as Europe/Moscow).");
        }
        KafkaOptionsValidation.Range(errors, "Gcp:SupportCvcDisclosuresPerClientPerDay", options.SupportCvcDisclosuresPerClientPerDay, 1, 100_000);
        ValidateSupportTickets(options.SupportTickets, errors);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:LookupsPerSecond", options.RateLimits.LookupsPerSecond, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:LookupBurst", options.RateLimits.LookupBurst, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:CvcPerMinute", options.RateLimits.CvcPerMinute, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:CvcBurst", options.RateLimits.CvcBurst, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:NotifyCvcPerMinute", options.RateLimits.NotifyCvcPerMinute, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:NotifyCvcBurst", options.RateLimits.NotifyCvcBurst, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:WritesPerSecond", options.RateLimits.WritesPerSecond, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:WriteBurst", options.RateLimits.WriteBurst, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:AnonymousPerMinute", options.RateLimits.AnonymousPerMinute, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:AnonymousBurst", options.RateLimits.AnonymousBurst, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:TokenRequestsPerMinute", options.RateLimits.TokenRequestsPerMinute, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:RateLimits:TokenBurst", options.RateLimits.TokenBurst, 1, 1_000_000);
        KafkaOptionsValidation.Range(errors, "Gcp:AnonymousAuditPerMinute", options.AnonymousAuditPerMinute, 1, 1_000_000);
        for (var i = 0; i < options.DemoPools.Count; i++)
        {
            var pool = options.DemoPools[i];
            var at = $"Gcp:DemoPools:{i}";
            if (string.IsNullOrWhiteSpace(pool.PoolId))
            {
                errors.Add($"{at}:PoolId is required.");
            }

            if (!Enum.TryParse<Contracts.Channel>(pool.Channel, ignoreCase: true, out var channel) || channel == Contracts.Channel.UNKNOWN)
            {
                errors.Add($"{at}:Channel '{pool.Channel}' is not a sales channel ({string.Join(", ", Enum.GetNames<Contracts.Channel>().Skip(1))}).");
            }

            if (pool.NominalMinor <= 0 || pool.Count <= 0 || pool.Count > Domain.Pools.PoolSettings.DefaultMaxLoadBatch || pool.Series is < 0 or > Domain.CertificateNumber.MaxSeries)
            {
                errors.Add($"{at}: NominalMinor must be positive, Count 1-{Domain.Pools.PoolSettings.DefaultMaxLoadBatch} and Series 0-{Domain.CertificateNumber.MaxSeries}.");
            }
        }

        foreach (var series in options.DemoPools.GroupBy(p => p.Series).Where(g => g.Count() > 1))
        {
            errors.Add($"Gcp:DemoPools: pools {string.Join(", ", series.Select(p => p.PoolId))} share series {series.Key}; each pool needs its own number range.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>
    /// The CVC support grants: well-formed settings in both modes; in cluster mode the ticketing system's public key(s) and
    /// issuer are required, and the development signer's key is refused (there is no development signer there).
    /// </summary>
    private void ValidateSupportTickets(SupportGrantOptions tickets, List<string> errors)
    {
        errors.AddRange(tickets.Problems());
        if (kafka.Value.Mode != KafkaMode.Cluster)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(tickets.SigningKeysPem))
        {
            errors.Add($"{SupportGrantOptions.Section}:SigningKeysPem is required when Kafka:Mode is Cluster: the ticketing system's public key(s), PEM, that sign the CVC support grants.");
        }

        if (string.IsNullOrWhiteSpace(tickets.Issuer))
        {
            errors.Add($"{SupportGrantOptions.Section}:Issuer is required when Kafka:Mode is Cluster: the issuer (iss) the ticketing system writes in its CVC support grants.");
        }

        if (!string.IsNullOrWhiteSpace(tickets.DevSigningKeyPem))
        {
            errors.Add($"{SupportGrantOptions.Section}:DevSigningKeyPem is a development setting; cluster mode has no development signer (the ticketing system signs the grants).");
        }
    }

    /// <summary>A command signing key is base64 of at least <see cref="Client.RecordSigner.MinKeyBytes"/> bytes; the message never shows the value.</summary>
    private static bool KnownTimeZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return false;
        }

        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return false;
        }
    }

    private static void CommandSigningKeyRule(List<string> errors, string setting, string? value)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value ?? string.Empty);
        }
        catch (FormatException)
        {
            errors.Add($"{setting} must be base64 (`openssl rand -base64 32`).");
            return;
        }

        if (bytes.Length < Client.RecordSigner.MinKeyBytes)
        {
            errors.Add($"{setting} must decode to at least {Client.RecordSigner.MinKeyBytes} bytes (it has {bytes.Length}); generate one with `openssl rand -base64 32`.");
        }
    }
}

/// <summary>
/// A real cluster must not be served by the development token endpoint with its public clients: cluster mode needs
/// <c>Auth:Mode=Authority</c>, or, for a test cluster, <c>Auth:AllowEmbeddedInCluster=true</c> with a secret of its own for
/// every client (none of the public development secrets), a signing key (<c>Auth:SigningKeyPem</c>, the same on every
/// instance) and a pinned issuer (<c>Auth:Issuer</c>).
/// </summary>
/// <summary>In cluster mode the service reads and writes Avro against the company's Confluent Schema Registry: it must be configured.</summary>
public sealed class SchemaRegistryModeValidation(IOptions<KafkaOptions> kafka) : IValidateOptions<GcpStreams.Serialization.SchemaRegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, GcpStreams.Serialization.SchemaRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (kafka.Value.Mode == KafkaMode.Attached && options.IsInProcess)
        {
            return ValidateOptionsResult.Fail("SchemaRegistry:Url is required when Kafka:Mode is Attached: the schema registry URL `make broker` printed "
                + "(e.g. http://127.0.0.1:41877), so that every attached instance and tool encodes with the same schema ids.");
        }

        return kafka.Value.Mode == KafkaMode.Cluster && options.IsInProcess
            ? ValidateOptionsResult.Fail("SchemaRegistry:Url is required when Kafka:Mode is Cluster: the Confluent Schema Registry the other teams' producers "
                + "and consumers use (e.g. https://schema-registry:8081); the in-process registry exists only in embedded mode, and records of the "
                + "company's topics carry ids of the real registry.")
            : ValidateOptionsResult.Success;
    }
}

public sealed class AuthModeValidation(IOptions<KafkaOptions> kafka) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (kafka.Value.Mode != KafkaMode.Cluster || options.Mode != AuthMode.Embedded)
        {
            return ValidateOptionsResult.Success;
        }

        if (!options.AllowEmbeddedInCluster)
        {
            return ValidateOptionsResult.Fail("Auth:Mode is Embedded (the development token endpoint, public client secrets) while Kafka:Mode is Cluster; set Auth:Mode=Authority and Auth:Authority, or Auth:AllowEmbeddedInCluster=true for a test cluster.");
        }

        const string why = "with Kafka:Mode=Cluster and Auth:AllowEmbeddedInCluster=true";
        var errors = options.Clients
            .Where(c => DevClients.IsPublicSecret(c.Value.Secret))
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => $"Auth:Clients:{c.Key}:Secret is a public development secret; {why} every client needs a secret of its own.")
            .ToList();
        if (string.IsNullOrWhiteSpace(options.SigningKeyPem))
        {
            errors.Add($"Auth:SigningKeyPem is required {why} (an RSA private key of your own, the same on every instance).");
        }

        if (string.IsNullOrWhiteSpace(options.Issuer))
        {
            errors.Add($"Auth:Issuer is required {why} (the issuer tokens are written and checked with, the service's public URL).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
