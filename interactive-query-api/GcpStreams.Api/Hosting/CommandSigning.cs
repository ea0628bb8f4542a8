using System.Security.Cryptography;
using GcpStreams.Client;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// The command signing key of this instance (<c>Gcp:CommandSigningKey</c>), resolved once for the API's command channel and the
/// topology alike: the configured key, or, in embedded mode when none is configured, a random one made at start (the API and
/// the topology are one process there, and the embedded broker keeps nothing across restarts). Cluster mode has no default:
/// options validation stops startup without a key. The key is never logged; <see cref="ToString"/> shows its id only.
/// </summary>
public sealed class CommandSigning
{
    public CommandSigning(IOptions<GcpOptions> gcp, IOptions<KafkaOptions> kafka)
    {
        ArgumentNullException.ThrowIfNull(gcp);
        ArgumentNullException.ThrowIfNull(kafka);
        var configured = gcp.Value.CommandSigningKey;
        if (string.IsNullOrEmpty(configured))
        {
            if (kafka.Value.Mode == KafkaMode.Cluster)
            {
                throw new InvalidOperationException("Gcp:CommandSigningKey is required when Kafka:Mode is Cluster (`openssl rand -base64 32`, the same on every instance).");
            }

            Key = RandomNumberGenerator.GetBytes(32);
            Generated = true;
        }
        else
        {
            Key = Convert.FromBase64String(configured);
        }

        AcceptedKeys = [.. gcp.Value.AcceptedCommandSigningKeys.Select(Convert.FromBase64String)];
        MaxAge = TimeSpan.FromSeconds(gcp.Value.CommandMaxAgeSeconds);
        Signer = new RecordSigner(Key, AcceptedKeys);
    }

    /// <summary>The signing key. A secret.</summary>
    internal byte[] Key { get; }

    /// <summary>The keys accepted besides it (rotation).</summary>
    internal IReadOnlyList<byte[]> AcceptedKeys { get; }

    /// <summary>True when no key was configured and this instance made one (embedded mode only).</summary>
    public bool Generated { get; }

    /// <summary>How far a command's issuedAt may be from its append time (<c>Gcp:CommandMaxAgeSeconds</c>).</summary>
    public TimeSpan MaxAge { get; }

    /// <summary>Signs and verifies with the key (and accepts <see cref="AcceptedKeys"/>).</summary>
    public RecordSigner Signer { get; }

    public override string ToString() => $"command signing key {Signer.KeyId}{(Generated ? " (generated at start)" : string.Empty)}";
}
