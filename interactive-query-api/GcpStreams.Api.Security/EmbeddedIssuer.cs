using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Security;

/// <summary>
/// Embedded mode: the one issuer (<c>iss</c>) the token endpoint writes and bearer validation accepts. It is
/// <see cref="AuthOptions.Issuer"/> when configured, else derived once from the first address the server listens on
/// (<c>ASPNETCORE_URLS</c>; a wildcard host such as <c>0.0.0.0</c>, <c>[::]</c>, <c>*</c> or <c>+</c> becomes
/// <c>localhost</c>). Never the request's <c>Host</c> header: a token obtained with <c>Host: evil.example</c> carries
/// this issuer, and a token naming another issuer is refused whatever the Host it is sent with.
/// </summary>
/// <param name="options">The validated auth options.</param>
/// <param name="services">The host's services: the server whose address is read when no issuer is configured.</param>
public sealed class EmbeddedIssuer(IOptions<AuthOptions> options, IServiceProvider services)
{
    // PublicationOnly: a read before the server listens fails without caching the failure
    private readonly Lazy<Uri> issuer = new(() => Resolve(options, services), LazyThreadSafetyMode.PublicationOnly);

    /// <summary>
    /// The issuer the token endpoint writes: <see cref="AuthOptions.Issuer"/> as configured, or the derived one with a
    /// trailing slash (as OpenIddict writes a base URL).
    /// </summary>
    /// <exception cref="InvalidOperationException">No issuer is configured and the server has no address yet.</exception>
    public Uri Uri => issuer.Value;

    /// <summary>The issuer without a trailing slash (tokens may carry it with one).</summary>
    /// <exception cref="InvalidOperationException">No issuer is configured and the server has no address yet.</exception>
    public string Value => Uri.AbsoluteUri.TrimEnd('/');

    /// <summary>Whether <paramref name="candidate"/> names this issuer (ignoring case and a trailing slash).</summary>
    /// <param name="candidate">The <c>iss</c> of a token.</param>
    /// <returns><see langword="true"/> for this issuer.</returns>
    public bool Matches(string? candidate) =>
        candidate is not null && string.Equals(candidate.TrimEnd('/'), Value, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The issuer for the addresses a server listens on: the first https address, else the first one, with a wildcard
    /// host replaced by <c>localhost</c>.
    /// </summary>
    /// <param name="addresses">The server's addresses, as Kestrel reports them (e.g. <c>http://127.0.0.1:8080</c>).</param>
    /// <returns>The issuer without a trailing slash, or <see langword="null"/> when there is no usable address.</returns>
    public static string? FromAddresses(IEnumerable<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var list = addresses.ToList();
        var chosen = list.FirstOrDefault(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) ?? list.FirstOrDefault();
        if (chosen is null)
        {
            return null;
        }

        // "+" and "*" do not parse as hosts: name them before parsing
        var schemeEnd = chosen.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd > 0 && chosen.Length > schemeEnd + 3 && chosen[schemeEnd + 3] is '+' or '*')
        {
            chosen = string.Concat(chosen.AsSpan(0, schemeEnd + 3), "localhost", chosen.AsSpan(schemeEnd + 4));
        }

        if (!Uri.TryCreate(chosen, UriKind.Absolute, out var uri))
        {
            return null;
        }

        var builder = new UriBuilder(uri);
        if (builder.Host is "0.0.0.0" or "[::]" or "::")
        {
            builder.Host = "localhost";
        }

        return builder.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    private static Uri Resolve(IOptions<AuthOptions> options, IServiceProvider services)
    {
        var configured = options.Value.Issuer;
        if (!string.IsNullOrEmpty(configured))
        {
            return new Uri(configured, UriKind.Absolute);
        }

        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var derived = FromAddresses(addresses)
            ?? throw new InvalidOperationException("Auth:Issuer is not set and the server listens on no address yet to derive the issuer from.");
        return new Uri(derived + "/", UriKind.Absolute);
    }
}
