using System.Security.Claims;
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
        services.AddHttpContextAccessor();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddAuthorization(Policies.AddScopePolicies);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, ScopeAuthorizationHandler>());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();

        var mode = section.GetValue(nameof(AuthOptions.Mode), AuthMode.Embedded);
        if (mode == AuthMode.Embedded)
        {
            AddEmbeddedServer(services);
            services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
                .Configure<IOptions<AuthOptions>, EmbeddedSigningKey, IHttpContextAccessor>((jwt, auth, key, accessor) =>
                {
                    ConfigureCommon(jwt, auth.Value);
                    jwt.TokenValidationParameters.IssuerSigningKey = key.Key;
                    jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256];
                    jwt.TokenValidationParameters.IssuerValidator = IssuerValidatorFor(auth.Value.Issuer, accessor);
                });
        }
        else
        {
            services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
                .Configure<IOptions<AuthOptions>>((jwt, auth) =>
                {
                    ConfigureCommon(jwt, auth.Value);
                    jwt.Authority = auth.Value.Authority;
                    jwt.RequireHttpsMetadata = auth.Value.RequireHttpsMetadata;
                    if (!string.IsNullOrEmpty(auth.Value.Issuer))
                    {
                        // only this issuer: JwtBearer would otherwise also accept the discovered one
                        jwt.TokenValidationParameters.IssuerValidator = IssuerValidatorFor(auth.Value.Issuer, accessor: null);
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
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapDevTokenEndpoint(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var auth = endpoints.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Mode == AuthMode.Embedded)
        {
            endpoints.MapPost(TokenPath, IssueToken)
                .AllowAnonymous()
                .ExcludeFromDescription()
                .WithName("DevToken");
        }

        return endpoints;
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
        identity.SetScopes(scopes);
        identity.SetResources(auth.Value.Audience);
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return TypedResults.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static void AddEmbeddedServer(IServiceCollection services)
    {
        services.TryAddSingleton<EmbeddedSigningKey>();
        services.TryAddSingleton<DevClientStore>();
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
            .Configure<EmbeddedSigningKey, IOptions<AuthOptions>>((server, key, auth) =>
            {
                server.SigningCredentials.Add(key.SigningCredentials);
                server.AccessTokenLifetime = TimeSpan.FromMinutes(auth.Value.TokenLifetimeMinutes);
                if (!string.IsNullOrEmpty(auth.Value.Issuer))
                {
                    server.Issuer = new Uri(auth.Value.Issuer, UriKind.Absolute);
                }
            });
    }

    private static void ConfigureCommon(JwtBearerOptions jwt, AuthOptions auth)
    {
        jwt.MapInboundClaims = false; // keep `scope`, `sub`, `client_id` as the token names them
        jwt.TokenValidationParameters.ValidAudience = auth.Audience;
        jwt.TokenValidationParameters.NameClaimType = Claims.Subject;
        jwt.TokenValidationParameters.RoleClaimType = Claims.Role;
        jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
        jwt.Events = ProblemResponses.BearerEvents();
    }

    /// <summary>
    /// The issuer check: the configured issuer, else (embedded mode) the base URL of the current request (the one
    /// OpenIddict writes when no issuer is configured), with or without a trailing slash.
    /// </summary>
    private static IssuerValidator IssuerValidatorFor(string? configured, IHttpContextAccessor? accessor) => (issuer, _, _) =>
    {
        var expected = configured;
        if (string.IsNullOrEmpty(expected) && accessor?.HttpContext?.Request is { } request)
        {
            expected = $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}";
        }

        if (expected is not null && string.Equals(issuer.TrimEnd('/'), expected.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            return issuer;
        }

        throw new SecurityTokenInvalidIssuerException($"The issuer '{issuer}' is not this server ('{expected}').") { InvalidIssuer = issuer };
    };
}
