using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Security;

/// <summary>Embedded mode: authenticates the dev clients of <see cref="AuthOptions.Clients"/> and decides the scopes they get.</summary>
/// <param name="options">The auth options (the current value is read on every call, so reloads apply).</param>
public sealed class DevClientStore(IOptionsMonitor<AuthOptions> options)
{
    /// <summary>
    /// Whether <paramref name="clientId"/> is a configured client whose secret is <paramref name="clientSecret"/>.
    /// The secrets are compared in constant time (over their SHA-256 digests, so their lengths leak nothing either).
    /// </summary>
    /// <param name="clientId">The client id sent.</param>
    /// <param name="clientSecret">The client secret sent.</param>
    /// <returns><see langword="true"/> when both match.</returns>
    public bool Authenticate(string? clientId, string? clientSecret)
    {
        var client = Find(clientId);
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(client?.Secret ?? ""));
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(clientSecret ?? ""));
        var equal = CryptographicOperations.FixedTimeEquals(expected, actual);
        return client is not null && !string.IsNullOrEmpty(client.Secret) && !string.IsNullOrEmpty(clientSecret) && equal;
    }

    /// <summary>The scopes <paramref name="clientId"/> may obtain (empty for an unknown client).</summary>
    /// <param name="clientId">The client id.</param>
    /// <returns>The allowed scopes.</returns>
    public IReadOnlyList<string> AllowedScopes(string? clientId) => GcpScopes.Parse(Find(clientId)?.Scopes);

    /// <summary>
    /// The scopes to grant for a request: all the client's allowed scopes when <paramref name="requested"/> is empty,
    /// else <paramref name="requested"/> when it is a subset of them, else <see langword="null"/> (invalid_scope).
    /// </summary>
    /// <param name="clientId">The authenticated client.</param>
    /// <param name="requested">The scopes of the request's <c>scope</c> parameter.</param>
    /// <returns>The scopes to grant, or <see langword="null"/> when some requested scope is not allowed.</returns>
    public IReadOnlyList<string>? GrantedScopes(string? clientId, IEnumerable<string> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        var allowed = AllowedScopes(clientId);
        var asked = requested.Distinct(StringComparer.Ordinal).ToArray();
        if (asked.Length == 0)
        {
            return allowed;
        }

        return asked.All(s => allowed.Contains(s, StringComparer.Ordinal)) ? asked : null;
    }

    /// <summary>The channel <paramref name="clientId"/> is bound to (<see cref="DevClientOptions.Channel"/>), or <see langword="null"/>.</summary>
    /// <param name="clientId">The client id.</param>
    /// <returns>The channel name, or <see langword="null"/> for an unknown or unbound client.</returns>
    public string? ChannelOf(string? clientId) => Find(clientId)?.Channel is { Length: > 0 } channel ? channel : null;

    private DevClientOptions? Find(string? clientId) =>
        clientId is not null && options.CurrentValue.Clients.TryGetValue(clientId, out var client) ? client : null;
}
