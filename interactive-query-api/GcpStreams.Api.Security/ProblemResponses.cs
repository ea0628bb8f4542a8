using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>
/// Writes 401 and 403 answers as RFC 7807 problem details (<c>application/problem+json</c>) with a precise
/// <c>detail</c>, keeping the RFC 6750 <c>WWW-Authenticate</c> header (<c>invalid_token</c> on 401,
/// <c>insufficient_scope</c> with the scope on 403).
/// </summary>
public static class ProblemResponses
{
    /// <summary>The problem <c>type</c> of a 401: no token, or a token that failed validation.</summary>
    public const string UnauthorizedType = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2";

    /// <summary>The problem <c>type</c> of a 403: a valid token without the required scope.</summary>
    public const string ForbiddenType = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4";

    /// <summary>JwtBearer events that answer challenges and forbids with problem details.</summary>
    /// <returns>New events.</returns>
    public static JwtBearerEvents BearerEvents() => new()
    {
        OnChallenge = async context =>
        {
            context.HandleResponse();
            var (title, detail, error) = DescribeFailure(context.AuthenticateFailure, context.Request.Headers.Authorization.Count > 0);
            await WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, UnauthorizedType, title, detail, error, scope: null).ConfigureAwait(false);
        },
        OnForbidden = async context =>
        {
            await WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, ForbiddenType, "Forbidden",
                "The access token does not allow this request.", "insufficient_scope", scope: null).ConfigureAwait(false);
        },
    };

    /// <summary>The title, detail and RFC 6750 error code of a 401 for <paramref name="failure"/>.</summary>
    /// <param name="failure">Why validation failed; <see langword="null"/> when no token was sent.</param>
    /// <param name="hadAuthorizationHeader">Whether the request had an Authorization header (of another scheme when there is no failure).</param>
    /// <returns>Title, detail, and the error code (<see langword="null"/> when no token was sent, as RFC 6750 §3.1 asks).</returns>
    internal static (string Title, string Detail, string? Error) DescribeFailure(Exception? failure, bool hadAuthorizationHeader)
    {
        if (failure is AggregateException { InnerExceptions.Count: > 0 } aggregate)
        {
            failure = aggregate.InnerExceptions[0];
        }

        return failure switch
        {
            null when hadAuthorizationHeader => ("Missing access token",
                "The Authorization header does not carry a bearer token: send 'Authorization: Bearer <access token>'.", null),
            null => ("Missing access token",
                "No access token: send 'Authorization: Bearer <access token>' (get one from the OAuth2 token endpoint with the client_credentials grant).", null),
            SecurityTokenExpiredException e => ("Expired access token",
                $"The access token expired at {e.Expires:yyyy-MM-ddTHH:mm:ssZ}; get a new one.", "invalid_token"),
            SecurityTokenNotYetValidException e => ("Access token not yet valid",
                $"The access token is not valid before {e.NotBefore:yyyy-MM-ddTHH:mm:ssZ}.", "invalid_token"),
            SecurityTokenInvalidSignatureException => ("Invalid access token signature",
                "The access token's signature does not verify with any trusted signing key (signed by another key, or altered).", "invalid_token"),
            SecurityTokenInvalidAudienceException e => ("Invalid access token audience",
                $"The access token is for audience '{e.InvalidAudience}', not this API.", "invalid_token"),
            SecurityTokenInvalidIssuerException e => ("Invalid access token issuer",
                $"The access token was issued by '{e.InvalidIssuer}', which is not trusted.", "invalid_token"),
            SecurityTokenMalformedException => ("Malformed access token",
                "The access token is not a well-formed JWT.", "invalid_token"),
            SecurityTokenInvalidTypeException e => ("Not an access token", e.Message, "invalid_token"),
            SecurityTokenWithoutClientException e => ("Access token without a client", e.Message, "invalid_token"),
            _ => ("Invalid access token", "The access token is invalid: " + failure.Message, "invalid_token"),
        };
    }

    /// <summary>Writes a 403 problem naming the scopes that <paramref name="failure"/> says are missing.</summary>
    /// <param name="context">The request.</param>
    /// <param name="failure">The authorization failure, when known.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public static Task WriteForbiddenAsync(HttpContext context, AuthorizationFailure? failure)
    {
        ArgumentNullException.ThrowIfNull(context);
        var missing = failure?.FailedRequirements.OfType<ScopeRequirement>().Select(r => r.Scope).Distinct(StringComparer.Ordinal).ToArray() ?? [];
        if (missing.Length == 0)
        {
            var reasons = failure?.FailureReasons.Select(r => r.Message).ToArray() ?? [];
            return WriteAsync(context, StatusCodes.Status403Forbidden, ForbiddenType, "Forbidden",
                reasons.Length > 0 ? string.Join(" ", reasons) : "The access token does not allow this request.", "insufficient_scope", scope: null);
        }

        var granted = ScopeAuthorizationHandler.GrantedScopes(context.User);
        var grantedText = granted.Count == 0 ? "none" : string.Join(' ', granted);
        var detail = missing.Length == 1
            ? $"Missing scope '{missing[0]}': this endpoint requires the scope '{missing[0]}'; the access token grants: {grantedText}."
            : $"Missing scopes '{string.Join(' ', missing)}': this endpoint requires them; the access token grants: {grantedText}.";
        return WriteAsync(context, StatusCodes.Status403Forbidden, ForbiddenType, "Insufficient scope", detail, "insufficient_scope", string.Join(' ', missing),
            new Dictionary<string, object?> { ["requiredScope"] = string.Join(' ', missing), ["grantedScopes"] = granted });
    }

    private static async Task WriteAsync(HttpContext context, int status, string type, string title, string detail, string? error, string? scope,
        Dictionary<string, object?>? extensions = null)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Headers.WWWAuthenticate = BearerHeader(error, detail, scope);
        extensions ??= [];
        if (error is not null)
        {
            extensions["error"] = error;
        }

        await TypedResults.Problem(detail, context.Request.Path, status, title, type, extensions).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static string BearerHeader(string? error, string detail, string? scope)
    {
        if (error is null)
        {
            return JwtBearerDefaults.AuthenticationScheme;
        }

        var header = $"{JwtBearerDefaults.AuthenticationScheme} error=\"{error}\", error_description=\"{Quote(detail)}\"";
        return scope is null ? header : header + $", scope=\"{Quote(scope)}\"";
    }

    // RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E: no quote, no backslash, ASCII only
    private static string Quote(string value) =>
        new(value.Select(c => c is '"' or '\\' || c < 0x20 || c > 0x7E ? '\'' : c).ToArray());
}

/// <summary>
/// Answers a forbidden authorization result with a 403 problem naming the missing scope; challenges and successes
/// go to ASP.NET Core's default handler (challenges then reach <see cref="ProblemResponses.BearerEvents"/>).
/// </summary>
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <inheritdoc />
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        return authorizeResult.Forbidden
            ? ProblemResponses.WriteForbiddenAsync(context, authorizeResult.AuthorizationFailure)
            : _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
