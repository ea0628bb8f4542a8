using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;

namespace GcpStreams.Api.Security;

/// <summary>
/// The authorization policies of the API, one per scope. Each requires an authenticated bearer token whose
/// <c>scope</c> claim contains that scope; use them with <c>RequireAuthorization(Policies.Read)</c>.
/// </summary>
public static class Policies
{
    /// <summary>Requires <see cref="GcpScopes.Read"/>.</summary>
    public const string Read = "scope:" + GcpScopes.Read;

    /// <summary>Requires <see cref="GcpScopes.Reserve"/>.</summary>
    public const string Reserve = "scope:" + GcpScopes.Reserve;

    /// <summary>Requires <see cref="GcpScopes.CvcNotify"/>.</summary>
    public const string CvcNotify = "scope:" + GcpScopes.CvcNotify;

    /// <summary>Requires <see cref="GcpScopes.CvcSupport"/>.</summary>
    public const string CvcSupport = "scope:" + GcpScopes.CvcSupport;

    /// <summary>Requires <see cref="GcpScopes.Lock"/>.</summary>
    public const string Lock = "scope:" + GcpScopes.Lock;

    /// <summary>Requires <see cref="GcpScopes.Admin"/>.</summary>
    public const string Admin = "scope:" + GcpScopes.Admin;

    /// <summary>Requires <see cref="GcpScopes.BackOffice"/>.</summary>
    public const string BackOffice = "scope:" + GcpScopes.BackOffice;

    /// <summary>Requires <see cref="GcpScopes.Report"/>.</summary>
    public const string Report = "scope:" + GcpScopes.Report;

    /// <summary>The policy name that requires <paramref name="scope"/>.</summary>
    /// <param name="scope">One of <see cref="GcpScopes.All"/>.</param>
    /// <returns>The policy name (<c>scope:</c> followed by the scope).</returns>
    public static string ForScope(string scope) => "scope:" + scope;

    /// <summary>Adds one policy per scope in <see cref="GcpScopes.All"/> to <paramref name="options"/>.</summary>
    /// <param name="options">The authorization options to add to.</param>
    public static void AddScopePolicies(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var scope in GcpScopes.All)
        {
            options.AddPolicy(ForScope(scope), policy => policy
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(scope)));
        }
    }
}

/// <summary>Requires the token to grant <see cref="Scope"/> in its <c>scope</c> claim.</summary>
/// <param name="scope">The scope required.</param>
public sealed class ScopeRequirement(string scope) : IAuthorizationRequirement
{
    /// <summary>The scope required.</summary>
    public string Scope { get; } = scope;

    /// <inheritdoc />
    public override string ToString() => $"scope '{Scope}'";
}

/// <summary>
/// Succeeds a <see cref="ScopeRequirement"/> when the user's <c>scope</c> claims (each space-separated; also
/// <c>scp</c>, as some authorities name it) contain the scope.
/// </summary>
public sealed class ScopeAuthorizationHandler : AuthorizationHandler<ScopeRequirement>
{
    /// <summary>The scopes granted to <paramref name="user"/>, from its <c>scope</c> and <c>scp</c> claims.</summary>
    /// <param name="user">The authenticated user.</param>
    /// <returns>The distinct scopes, in claim order.</returns>
    public static IReadOnlyList<string> GrantedScopes(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Claims
            .Where(c => c.Type is "scope" or "scp")
            .SelectMany(c => GcpScopes.Parse(c.Value))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    /// <inheritdoc />
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        if (context.User.Identity?.IsAuthenticated == true && GrantedScopes(context.User).Contains(requirement.Scope, StringComparer.Ordinal))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
