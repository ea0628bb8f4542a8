using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace GcpStreams.Api.Security;

/// <summary>Wires the API's OAuth2 security: <see cref="AddGcpAuthentication"/> on the services, <see cref="MapDevTokenEndpoint"/> on the app.</summary>
public static class GcpAuthenticationExtensions
{
    /// <summary>The token endpoint path of embedded mode.</summary>
    public const string TokenPath = "/connect/token";

    /// <summary>The OpenID Connect discovery document path of embedded mode.</summary>
    public const string DiscoveryPath = "/.well-known/openid-configuration";

    /// <summary>The JWKS (public signing keys) path of embedded mode.</summary>
    public const string JwksPath = "/.well-known/jwks";

    /// <summary>
    /// Registers the <c>Auth</c> options (validated at start), JwtBearer as the default scheme, one policy per scope
    /// (<see cref="Policies"/>), problem-details 401/403 answers, and in <see cref="AuthMode.Embedded"/> mode the
    /// OpenIddict token server (client credentials, dev clients from configuration, discovery and JWKS).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The root configuration (its <c>Auth</c> section is read).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddGcpAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(AuthOptions.SectionName);
        services.AddOptions<AuthOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>());

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.TryAddSingleton(_ => new ValidatedTokenCache(TimeProvider.System));
        services.AddAuthorization(Policies.AddScopePolicies);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, ScopeAuthorizationHandler>());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();

        var mode = section.GetValue(nameof(AuthOptions.Mode), AuthMode.Embedded);
        if (mode == AuthMode.Embedded)
        {
            AddEmbeddedServer(services);
            services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
                .Configure<IOptions<AuthOptions>, EmbeddedSigningKey, EmbeddedIssuer, ValidatedTokenCache>((jwt, auth, key, issuer, cache) =>
                {
                    ConfigureCommon(jwt, auth.Value, cache);
                    jwt.TokenValidationParameters.IssuerSigningKey = key.Key;
                    jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256];
                    // the pinned issuer, read at the first validation (the server listens by then)
                    jwt.TokenValidationParameters.IssuerValidator = (iss, _, _) => issuer.Matches(iss) ? iss : throw InvalidIssuer(iss, issuer.Value);
                });
        }
        else
        {
            services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
                .Configure<IOptions<AuthOptions>, ValidatedTokenCache>((jwt, auth, cache) =>
                {
                    ConfigureCommon(jwt, auth.Value, cache);
                    jwt.Authority = auth.Value.Authority;
                    jwt.RequireHttpsMetadata = auth.Value.RequireHttpsMetadata;
                    jwt.TokenValidationParameters.ValidAlgorithms = auth.Value.AcceptedAlgorithms;
                    if (auth.Value.Issuer is { Length: > 0 } configured)
                    {
                        // only this issuer: JwtBearer would otherwise also accept the discovered one
                        jwt.TokenValidationParameters.IssuerValidator = (iss, _, _) =>
                            string.Equals(iss.TrimEnd('/'), configured.TrimEnd('/'), StringComparison.OrdinalIgnoreCase) ? iss : throw InvalidIssuer(iss, configured);
                    }
                });
        }

        return services;
    }

    /// <summary>
    /// Embedded mode: maps <c>POST /connect/token</c> (OAuth2 client credentials, RFC 6749 §4.4). OpenIddict validates
    /// the request and the client before this endpoint runs; discovery and JWKS are served by OpenIddict itself.
    /// Authority mode: maps nothing.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="conventions">More conventions for the token endpoint when it is mapped (e.g. the host's audit marker).</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapDevTokenEndpoint(this IEndpointRouteBuilder endpoints, Action<IEndpointConventionBuilder>? conventions = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var auth = endpoints.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Mode == AuthMode.Embedded)
        {
            var token = endpoints.MapPost(TokenPath, IssueToken)
                .AllowAnonymous()
                .ExcludeFromDescription()
                .WithName("DevToken");
            conventions?.Invoke(token);
        }

        return endpoints;
    }

    /// <summary>
    /// Embedded mode: the <c>client_id</c> a token request named (in its form or its HTTP Basic credentials), once the
    /// token server has read it, whether or not the client authenticated; <see langword="null"/> for any other request.
    /// Never the secret.
    /// </summary>
    /// <param name="context">The request, after the authentication middleware.</param>
    /// <returns>The client id as sent.</returns>
    public static string? TokenRequestClientId(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetOpenIddictServerRequest()?.ClientId;
    }

    private static IResult IssueToken(HttpContext context, DevClientStore clients, IOptions<AuthOptions> auth)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The token request did not go through the OpenIddict server.");
        // DevClientValidationHandler has authenticated the client and checked the scopes
        var scopes = clients.GrantedScopes(request.ClientId, request.GetScopes()) ?? [];
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Subject, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetClaim(Claims.ClientId, request.ClientId);
        if (clients.ChannelOf(request.ClientId) is { Length: > 0 } channel)
        {
            identity.SetClaim(GcpClaims.Channel, channel);
        }

        identity.SetScopes(scopes);
        identity.SetResources(auth.Value.Audience);
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return TypedResults.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static void AddEmbeddedServer(IServiceCollection services)
    {
        services.TryAddSingleton<EmbeddedSigningKey>();
        services.TryAddSingleton<EmbeddedIssuer>();
        services.TryAddSingleton<DevClientStore>();
        services.Replace(ServiceDescriptor.Scoped<IAuthenticationHandlerProvider, TokenServerRequestScope>());
        services.AddOpenIddict().AddServer(server =>
        {
            server.SetTokenEndpointUris(TokenPath.TrimStart('/'))
                .SetConfigurationEndpointUris(DiscoveryPath.TrimStart('/'))
                .SetJsonWebKeySetEndpointUris(JwksPath.TrimStart('/'));
            server.AllowClientCredentialsFlow();
            server.EnableDegradedMode(); // no application store: DevClientValidationHandler authenticates clients from configuration
            server.RegisterScopes([.. GcpScopes.All]);
            server.DisableAccessTokenEncryption(); // plain JWS access tokens, validated by JwtBearer here and elsewhere
            server.AddEphemeralEncryptionKey(); // OpenIddict wants one; no token this server issues is encrypted
            server.AddEventHandler(DevClientValidationHandler.Descriptor);
            server.UseAspNetCore()
                .EnableTokenEndpointPassthrough()
                .DisableTransportSecurityRequirement(); // embedded mode is for development: plain http is allowed
        });
        services.AddOptions<OpenIddictServerOptions>()
            .Configure<EmbeddedSigningKey, IOptions<AuthOptions>, EmbeddedIssuer>((server, key, auth, issuer) =>
            {
                server.SigningCredentials.Add(key.SigningCredentials);
                server.AccessTokenLifetime = TimeSpan.FromMinutes(auth.Value.TokenLifetimeMinutes);
                // pinned: without it OpenIddict writes the issuer of the request's Host header
                server.Issuer = issuer.Uri;
            });
    }

    private static void ConfigureCommon(JwtBearerOptions jwt, AuthOptions auth, ValidatedTokenCache cache)
    {
        // one handler: JWS access tokens, validated once per token (see ValidatedTokenCache)
        jwt.TokenHandlers.Clear();
        jwt.TokenHandlers.Add(cache);
        jwt.MapInboundClaims = false; // keep `scope`, `sub`, `client_id` as the token names them
        cache.MapInboundClaims = false; // (the options' setter reaches only its own default handlers)
        jwt.TokenValidationParameters.ValidAudience = auth.Audience;
        jwt.TokenValidationParameters.NameClaimType = Claims.Subject;
        jwt.TokenValidationParameters.RoleClaimType = Claims.Role;
        jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
        jwt.TokenValidationParameters.TypeValidator = AccessTokenRules.ValidateType;
        jwt.Events = ProblemResponses.BearerEvents();
        jwt.Events.OnTokenValidated = AccessTokenRules.OnTokenValidated;
    }

    private static SecurityTokenInvalidIssuerException InvalidIssuer(string issuer, string expected) =>
        new($"The issuer '{issuer}' is not this server ('{expected}').") { InvalidIssuer = issuer };
}
