using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>
/// Embedded mode: the RSA key the token endpoint signs access tokens with (RS256) and bearer validation trusts.
/// It is <see cref="AuthOptions.SigningKeyPem"/> when configured, else generated at start (tokens then die with the
/// process). The public half is published at <c>/.well-known/jwks</c>.
/// </summary>
public sealed class EmbeddedSigningKey : IDisposable
{
    private readonly RSA _rsa;
    private readonly CryptoProviderFactory _providers = new();

    /// <summary>Creates the key from <paramref name="options"/>.</summary>
    /// <param name="options">The validated auth options.</param>
    public EmbeddedSigningKey(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pem = options.Value.SigningKeyPem;
        if (string.IsNullOrWhiteSpace(pem))
        {
            _rsa = RSA.Create(2048);
        }
        else
        {
            _rsa = RSA.Create();
            _rsa.ImportFromPem(pem);
        }

        var key = new RsaSecurityKey(_rsa);
        // RFC 7638 thumbprint: stable for a configured key, distinct per generated key
        key.KeyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false))).ComputeJwkThumbprint());
        // providers over this RSA instance are cached here, not in the process-wide default cache (keyed by key id): another
        // host with the same configured key in the process must not sign with this instance once it is disposed
        key.CryptoProviderFactory = _providers;
        Key = key;
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256);
    }

    /// <summary>The key (private half included; its <c>KeyId</c> is the RFC 7638 thumbprint).</summary>
    public RsaSecurityKey Key { get; }

    /// <summary>RS256 credentials over <see cref="Key"/>: the token endpoint's, and usable by tests to sign tokens of their own.</summary>
    public SigningCredentials SigningCredentials { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        (_providers.CryptoProviderCache as IDisposable)?.Dispose();
        _rsa.Dispose();
    }
}
