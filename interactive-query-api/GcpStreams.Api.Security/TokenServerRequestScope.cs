using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using OpenIddict.Server.AspNetCore;

namespace GcpStreams.Api.Security;

/// <summary>
/// Embedded mode: ASP.NET's authentication middleware offers every request to every scheme that handles requests, and the
/// OpenIddict token server then runs its event pipeline on each one to find out it is not one of its endpoints (~4 % of the
/// API's CPU on lookups, plus a handler built per request: docs/benchmarks.md). This provider gives the token server's
/// handler only to requests of its own endpoints (<see cref="GcpAuthenticationExtensions.TokenPath"/>, discovery, JWKS);
/// every other scheme, and those paths, are served by ASP.NET's own provider as before.
/// </summary>
/// <param name="schemes">The authentication schemes.</param>
public sealed class TokenServerRequestScope(IAuthenticationSchemeProvider schemes) : IAuthenticationHandlerProvider
{
    private readonly AuthenticationHandlerProvider inner = new(schemes);

    /// <summary>Whether <paramref name="path"/> is one of the token server's endpoints.</summary>
    /// <param name="path">The request path.</param>
    /// <returns><see langword="true"/> for the token, discovery and JWKS paths.</returns>
    public static bool IsTokenServerPath(PathString path) =>
        path.Equals(GcpAuthenticationExtensions.TokenPath, StringComparison.OrdinalIgnoreCase)
        || path.Equals(GcpAuthenticationExtensions.DiscoveryPath, StringComparison.OrdinalIgnoreCase)
        || path.Equals(GcpAuthenticationExtensions.JwksPath, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public Task<IAuthenticationHandler?> GetHandlerAsync(HttpContext context, string authenticationScheme)
    {
        ArgumentNullException.ThrowIfNull(context);
        return authenticationScheme == OpenIddictServerAspNetCoreDefaults.AuthenticationScheme && !IsTokenServerPath(context.Request.Path)
            ? Task.FromResult<IAuthenticationHandler?>(null)
            : inner.GetHandlerAsync(context, authenticationScheme);
    }
}
