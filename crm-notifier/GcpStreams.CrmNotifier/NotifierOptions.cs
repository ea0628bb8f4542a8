using System.Globalization;

namespace GcpStreams.CrmNotifier;

/// <summary>The notifier's settings (section <c>Notifier</c>; environment variables <c>Notifier__…</c>). README has the table.</summary>
public sealed class NotifierOptions
{
    public const string Section = "Notifier";

    /// <summary>Kafka brokers (the service's bootstrap servers).</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>Confluent Schema Registry URL (the service's <c>/schema-registry</c> in embedded mode).</summary>
    public string SchemaRegistryUrl { get; set; } = string.Empty;

    /// <summary><c>user:password</c> for the schema registry, if it asks.</summary>
    public string? SchemaRegistryBasicAuth { get; set; }

    /// <summary>The consumer group of <c>GiftCertificates.Stream</c>: every notifier instance of the group shares the partitions.</summary>
    public string GroupId { get; set; } = "gcp-crm-notifier";

    /// <summary>More librdkafka settings for every client (consumers and producer), e.g. <c>security.protocol</c>.</summary>
    public Dictionary<string, string> Kafka { get; set; } = [];

    /// <summary>Notifications handled at once by one instance (sends and retries in flight).</summary>
    public int MaxConcurrency { get; set; } = 64;

    public ApiOptions Api { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    public SmsOptions Sms { get; set; } = new();

    public RetryOptions Retry { get; set; } = new();

    /// <summary>Language of the messages when the client record names none: <c>en</c> or <c>ru</c>.</summary>
    public string DefaultLocale { get; set; } = "en";

    /// <summary>How long final results are remembered to recognise a repeated request (redelivery, restart, rebalance).</summary>
    public int DedupWindowHours { get; set; } = 168;

    /// <summary>The problems of these settings, each naming its setting; empty when they are good.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(string? value, string name)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                problems.Add($"{Section}:{name} is required");
            }
        }

        Require(BootstrapServers, nameof(BootstrapServers));
        Require(SchemaRegistryUrl, nameof(SchemaRegistryUrl));
        Require(GroupId, nameof(GroupId));
        Require(Api.BaseUrl, "Api:BaseUrl");
        Require(Api.ClientId, "Api:ClientId");
        Require(Api.ClientSecret, "Api:ClientSecret");
        Require(Smtp.Host, "Smtp:Host");
        Require(Smtp.From, "Smtp:From");
        if (!Uri.TryCreate(Api.BaseUrl, UriKind.Absolute, out _))
        {
            problems.Add($"{Section}:Api:BaseUrl must be an absolute http(s) URL (got '{Api.BaseUrl}')");
        }

        if (Smtp.Port is < 1 or > 65_535)
        {
            problems.Add($"{Section}:Smtp:Port must be 1-65535 (got {Smtp.Port.ToString(CultureInfo.InvariantCulture)})");
        }

        if (Sms.GatewayUrl is { Length: > 0 } gateway && !Uri.TryCreate(gateway, UriKind.Absolute, out _))
        {
            problems.Add($"{Section}:Sms:GatewayUrl must be an absolute URL (got '{gateway}')");
        }

        if (MaxConcurrency is < 1 or > 10_000)
        {
            problems.Add($"{Section}:MaxConcurrency must be 1-10000");
        }

        if (Retry.BaseDelayMs < 1 || Retry.MaxDelayMs < Retry.BaseDelayMs || Retry.DeadlineSeconds < 1)
        {
            problems.Add($"{Section}:Retry needs BaseDelayMs >= 1, MaxDelayMs >= BaseDelayMs and DeadlineSeconds >= 1");
        }

        if (DefaultLocale is not ("en" or "ru"))
        {
            problems.Add($"{Section}:DefaultLocale must be en or ru (got '{DefaultLocale}')");
        }

        return problems;
    }
}

/// <summary>The GCP HTTP API and the OAuth2 client the notifier reads CVCs as.</summary>
public sealed class ApiOptions
{
    /// <summary>The API's base URL, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public string BaseUrl { get; set; } = string.Empty;

    /// <summary>The OAuth2 token endpoint (client credentials); default <c>{BaseUrl}/connect/token</c> (the service's embedded one).</summary>
    public string? TokenUrl { get; set; }

    public string ClientId { get; set; } = "crm-notifier";

    /// <summary>A secret: never logged.</summary>
    public string ClientSecret { get; set; } = string.Empty;

    /// <summary>How long one API call may take before it counts as a transient failure.</summary>
    public int TimeoutSeconds { get; set; } = 15;
}

/// <summary>The SMTP server the e-mails go to (MailKit).</summary>
public sealed class SmtpOptions
{
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 25;

    /// <summary><c>None</c>, <c>StartTls</c>, <c>StartTlsWhenAvailable</c> or <c>SslOnConnect</c> (MailKit's SecureSocketOptions).</summary>
    public string Security { get; set; } = "StartTlsWhenAvailable";

    public string? User { get; set; }

    /// <summary>A secret: never logged.</summary>
    public string? Password { get; set; }

    /// <summary>The sender, e.g. <c>Gift certificates &lt;gifts@retailer.example&gt;</c>.</summary>
    public string From { get; set; } = "Gift certificates <gift-certificates@retailer.example>";

    /// <summary>How long one SMTP session (connect, send, quit) may take.</summary>
    public int TimeoutSeconds { get; set; } = 30;
}

/// <summary>The SMS gateway (another company's HTTP service).</summary>
public sealed class SmsOptions
{
    /// <summary>Where to POST a message; empty: SMS notifications fail (permanently) with "no SMS gateway configured".</summary>
    public string? GatewayUrl { get; set; }

    /// <summary>The header that authenticates the notifier to the gateway, e.g. <c>Authorization</c>.</summary>
    public string AuthHeader { get; set; } = "Authorization";

    /// <summary>Its value, e.g. <c>Bearer …</c>. A secret: never logged.</summary>
    public string? AuthValue { get; set; }

    /// <summary>The sender name or number the gateway shows.</summary>
    public string Sender { get; set; } = "GiftCards";

    public int TimeoutSeconds { get; set; } = 15;
}

/// <summary>Retries of transient failures: exponential backoff with jitter, until the deadline.</summary>
public sealed class RetryOptions
{
    /// <summary>The first wait; each next one doubles (with jitter).</summary>
    public int BaseDelayMs { get; set; } = 1_000;

    /// <summary>The longest wait between two attempts.</summary>
    public int MaxDelayMs { get; set; } = 30_000;

    /// <summary>
    /// No attempt starts later than this after the notification's first attempt (kept across restarts on CRM.NotificationResults);
    /// then the failure is final. Below the service's delivery SLA (Gcp:NotificationOverdueSeconds, 300).
    /// </summary>
    public int DeadlineSeconds { get; set; } = 240;
}
