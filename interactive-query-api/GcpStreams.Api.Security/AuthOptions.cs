using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Security;

/// <summary>Where access tokens come from.</summary>
public enum AuthMode
{
    /// <summary>
    /// Development and the embedded demo: this process runs an OAuth2 token endpoint (<c>POST /connect/token</c>,
    /// client credentials) for the dev clients in <see cref="AuthOptions.Clients"/>, and validates the tokens it signs.
    /// </summary>
    Embedded,

    /// <summary>
    /// Cluster: tokens come from an external authorization server (<see cref="AuthOptions.Authority"/>), whose signing
    /// keys are read from its OpenID Connect discovery document and JWKS.
    /// </summary>
    Authority,
}

/// <summary>Settings of the <c>Auth</c> configuration section.</summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section, <c>Auth</c>.</summary>
    public const string SectionName = "Auth";

    /// <summary>The default <see cref="Audience"/>, <c>gcp-streams</c>.</summary>
    public const string DefaultAudience = "gcp-streams";

    /// <summary>The default of <see cref="Algorithms"/>, and the only algorithm of embedded mode: <c>RS256</c>.</summary>
    public const string DefaultAlgorithm = "RS256";

    /// <summary>
    /// The asymmetric JWS algorithms <see cref="Algorithms"/> may name. Never <c>none</c> nor an HMAC one: a shared
    /// secret would let any holder of it mint tokens.
    /// </summary>
    public static IReadOnlyList<string> SupportedAlgorithms { get; } = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>Embedded (dev token endpoint in this process) or Authority (external authorization server). Default Embedded.</summary>
    public AuthMode Mode { get; set; } = AuthMode.Embedded;

    /// <summary>
    /// Authority mode: the authorization server's base URL; its metadata is read from
    /// <c>{Authority}/.well-known/openid-configuration</c>. Required in Authority mode.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>Authority mode: refuse an http (not https) <see cref="Authority"/>. Default true; set false only for tests and local clusters.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// The token issuer (<c>iss</c>). Embedded mode: the one issuer the token endpoint writes and validation accepts;
    /// when unset, derived once from the address the service listens on (<see cref="EmbeddedIssuer"/>), never from the
    /// request's <c>Host</c>. Authority mode: when set, overrides the issuer from the discovery document.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>The audience (<c>aud</c>) the tokens must carry; the embedded endpoint writes it. Default <c>gcp-streams</c>.</summary>
    public string Audience { get; set; } = DefaultAudience;

    /// <summary>
    /// Authority mode: the signature algorithms accepted, space-separated, among <see cref="SupportedAlgorithms"/>.
    /// Default <c>RS256</c>. Embedded mode always signs and accepts RS256 only.
    /// </summary>
    public string Algorithms { get; set; } = DefaultAlgorithm;

    /// <summary>
    /// Whether the embedded token endpoint may serve a real cluster (<c>Kafka:Mode=Cluster</c>, test clusters only).
    /// The host refuses it unless every client has a secret of its own and <see cref="SigningKeyPem"/> and
    /// <see cref="Issuer"/> are set. Default false.
    /// </summary>
    public bool AllowEmbeddedInCluster { get; set; }

    /// <summary>Embedded mode: lifetime of issued access tokens, 1 to 1440 minutes. Default 60.</summary>
    public int TokenLifetimeMinutes { get; set; } = 60;

    /// <summary>
    /// Embedded mode: a PEM-encoded RSA private key (PKCS#1 or PKCS#8) to sign tokens with, so tokens stay valid
    /// across restarts and other processes can pin it. When unset, a 2048-bit key is generated at start.
    /// </summary>
    public string? SigningKeyPem { get; set; }

    /// <summary>
    /// Embedded mode: the dev clients by client id. Defaults to <see cref="DevClients.Defaults"/>; configuration
    /// overrides an entry's settings or adds clients (e.g. <c>Auth:Clients:pos-terminal:Secret</c>).
    /// </summary>
    public IDictionary<string, DevClientOptions> Clients { get; } = DevClients.Defaults();

    /// <summary>The distinct algorithms of <see cref="Algorithms"/>, in order.</summary>
    public IReadOnlyList<string> AcceptedAlgorithms => GcpScopes.Parse(Algorithms);

    /// <summary>
    /// Whether the service may show the public development secrets (the start-up banner, the OpenAPI document, Swagger
    /// UI's prefilled client): only in embedded mode while every documented dev client keeps its public secret.
    /// </summary>
    public bool ShowsDevelopmentSecrets =>
        Mode == AuthMode.Embedded
        && DevClients.Defaults().All(d => Clients.TryGetValue(d.Key, out var client) && client.Secret == d.Value.Secret);
}

/// <summary>A dev OAuth2 client of the embedded token endpoint.</summary>
public sealed class DevClientOptions
{
    /// <summary>The client secret (sent as <c>client_secret</c> or with HTTP Basic).</summary>
    public string Secret { get; set; } = "";

    /// <summary>The scopes the client may obtain, space-separated (e.g. <c>gc.read gc.reserve</c>).</summary>
    public string Scopes { get; set; } = "";

    /// <summary>
    /// The sales channel the client is bound to (<c>POS</c>, <c>INTERNET_STORE</c>, ...), written into its tokens as the
    /// <see cref="GcpClaims.Channel"/> claim; empty for a client bound to no channel (back office, CRM).
    /// </summary>
    public string Channel { get; set; } = "";
}

/// <summary>The documented dev clients of the embedded token endpoint.</summary>
public static class DevClients
{
    /// <summary>Point-of-sale terminals: look up and reserve, bound to the POS channel.</summary>
    public const string PosTerminal = "pos-terminal";

    /// <summary>The internet store: look up and reserve, bound to the INTERNET_STORE channel.</summary>
    public const string InternetStore = "internet-store";

    /// <summary>The CRM notifier: look up and disclose the CVC in the notification.</summary>
    public const string CrmNotifier = "crm-notifier";

    /// <summary>Customer support (back office): look up and search every channel, lock/unlock, disclose the CVC on a support request.</summary>
    public const string Support = "support";

    /// <summary>Operators: every scope.</summary>
    public const string Admin = "admin";

    /// <summary>BI: reads the daily reports only.</summary>
    public const string Bi = "bi";

    /// <summary>
    /// A fresh copy of the default dev clients: id, secret <c>{id}-secret</c>, scopes. These secrets are public
    /// development values; Authority mode never uses them.
    /// </summary>
    /// <returns>The clients by id (ordinal keys).</returns>
    public static Dictionary<string, DevClientOptions> Defaults() => new(StringComparer.Ordinal)
    {
        [PosTerminal] = new() { Secret = "pos-terminal-secret", Scopes = "gc.read gc.reserve", Channel = "POS" },
        [InternetStore] = new() { Secret = "internet-store-secret", Scopes = "gc.read gc.reserve", Channel = "INTERNET_STORE" },
        [CrmNotifier] = new() { Secret = "crm-notifier-secret", Scopes = "gc.read gc.cvc.notify" },
        [Support] = new() { Secret = "support-secret", Scopes = "gc.read gc.lock gc.cvc.support gc.backoffice" },
        [Admin] = new() { Secret = "admin-secret", Scopes = string.Join(' ', GcpScopes.All) },
        [Bi] = new() { Secret = "bi-secret", Scopes = GcpScopes.Report },
    };

    /// <summary>Whether <paramref name="secret"/> is one of the public development secrets (of any dev client).</summary>
    /// <param name="secret">A configured client secret.</param>
    /// <returns><see langword="true"/> for a secret published in the docs.</returns>
    public static bool IsPublicSecret(string? secret) =>
        secret is not null && Defaults().Values.Any(d => string.Equals(d.Secret, secret, StringComparison.Ordinal));
}

/// <summary>Validates <see cref="AuthOptions"/>; each failure names the setting (e.g. <c>Auth:Authority is required when Auth:Mode is Authority</c>).</summary>
public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Mode))
        {
            failures.Add($"Auth:Mode must be Embedded or Authority (got '{options.Mode}')");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add("Auth:Audience is required");
        }

        if (!string.IsNullOrEmpty(options.Issuer) && !IsHttpUrl(options.Issuer))
        {
            failures.Add($"Auth:Issuer must be an absolute http(s) URL (got '{options.Issuer}')");
        }

        var algorithms = options.AcceptedAlgorithms;
        if (algorithms.Count == 0)
        {
            failures.Add($"Auth:Algorithms must name at least one algorithm (supported: {string.Join(' ', AuthOptions.SupportedAlgorithms)})");
        }

        foreach (var unknown in algorithms.Where(a => !AuthOptions.SupportedAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            failures.Add($"Auth:Algorithms contains '{unknown}', which is not accepted (supported: {string.Join(' ', AuthOptions.SupportedAlgorithms)})");
        }

        if (options.Mode == AuthMode.Authority)
        {
            ValidateAuthority(options, failures);
        }
        else if (options.Mode == AuthMode.Embedded)
        {
            ValidateEmbedded(options, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateAuthority(AuthOptions options, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(options.Authority))
        {
            failures.Add("Auth:Authority is required when Auth:Mode is Authority");
        }
        else if (!IsHttpUrl(options.Authority))
        {
            failures.Add($"Auth:Authority must be an absolute http(s) URL (got '{options.Authority}')");
        }
        else if (options.RequireHttpsMetadata && !options.Authority.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Auth:Authority must use https unless Auth:RequireHttpsMetadata is false (got '{options.Authority}')");
        }
    }

    private static void ValidateEmbedded(AuthOptions options, List<string> failures)
    {
        if (options.TokenLifetimeMinutes is < 1 or > 1440)
        {
            failures.Add($"Auth:TokenLifetimeMinutes must be between 1 and 1440 (got {options.TokenLifetimeMinutes})");
        }

        if (!string.IsNullOrWhiteSpace(options.SigningKeyPem) && !IsRsaPrivateKey(options.SigningKeyPem))
        {
            failures.Add("Auth:SigningKeyPem must be a PEM-encoded RSA private key of at least 2048 bits");
        }

        if (options.Clients.Count == 0)
        {
            failures.Add("Auth:Clients must define at least one client when Auth:Mode is Embedded");
        }

        foreach (var (id, client) in options.Clients.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrEmpty(client.Secret))
            {
                failures.Add($"Auth:Clients:{id}:Secret is required");
            }

            var scopes = GcpScopes.Parse(client.Scopes);
            if (scopes.Count == 0)
            {
                failures.Add($"Auth:Clients:{id}:Scopes must list at least one scope");
            }

            foreach (var unknown in scopes.Where(s => !GcpScopes.IsKnown(s)))
            {
                failures.Add($"Auth:Clients:{id}:Scopes contains the unknown scope '{unknown}' (known: {string.Join(' ', GcpScopes.All)})");
            }

            if (!string.IsNullOrEmpty(client.Channel) && !GcpClaims.IsChannel(client.Channel))
            {
                failures.Add($"Auth:Clients:{id}:Channel must be empty or one of {string.Join(", ", GcpClaims.Channels)} (got '{client.Channel}')");
            }
        }
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static bool IsRsaPrivateKey(string pem)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa.KeySize >= 2048 && rsa.ExportParameters(includePrivateParameters: true).D is { Length: > 0 };
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return false;
        }
    }
}
