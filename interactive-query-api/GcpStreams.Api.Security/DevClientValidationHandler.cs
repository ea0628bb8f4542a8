using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace GcpStreams.Api.Security;

/// <summary>
/// OpenIddict runs in degraded mode (no application store): this handler authenticates the client of every token
/// request against <see cref="AuthOptions.Clients"/> (invalid_client, 401) and checks that the requested scopes are
/// among the client's (invalid_scope, 400).
/// </summary>
internal sealed class DevClientValidationHandler(DevClientStore clients) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<DevClientValidationHandler>()
            // before OpenIddict's own check, which would answer a missing secret with invalid_request:
            // RFC 6749 §5.2 makes "no client authentication included" an invalid_client (401)
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateClientCredentialsParameters.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.IsClientCredentialsGrantType())
        {
            return default; // OpenIddict answers other grants with unsupported_grant_type
        }

        if (!clients.Authenticate(context.ClientId, context.ClientSecret))
        {
            context.Reject(
                error: OpenIddictConstants.Errors.InvalidClient,
                description: "The client credentials are invalid (unknown client_id or wrong client_secret).");
            return default;
        }

        if (clients.GrantedScopes(context.ClientId, context.Request.GetScopes()) is null)
        {
            var allowed = string.Join(' ', clients.AllowedScopes(context.ClientId));
            var refused = string.Join(' ', context.Request.GetScopes().Where(s => !clients.AllowedScopes(context.ClientId).Contains(s, StringComparer.Ordinal)));
            context.Reject(
                error: OpenIddictConstants.Errors.InvalidScope,
                description: $"The client '{context.ClientId}' may not request '{refused}' (allowed: {allowed}).");
        }

        return default;
    }
}
