using System.Diagnostics;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Security;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Auditing;

/// <summary>
/// Audits every call of an <see cref="AuditedEndpoint"/>, whatever its outcome (401, 403 and 429 included): who called,
/// with which OAuth2 client, which endpoint (the route template, never the query: it may carry a notification id), what
/// it concerned, the status, a short outcome, the latency and the correlation id. Runs before authentication, so it sees
/// the final status of every call (the token endpoint's too, which the token server answers during authentication); the
/// response echoes the correlation id in <c>X-Correlation-Id</c>.
/// </summary>
public sealed class AuditMiddleware(RequestDelegate next, AuditWriter writer)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is not RouteEndpoint endpoint || endpoint.Metadata.GetMetadata<AuditedEndpoint>() is null)
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var correlationId = CommandCalls.CorrelationId(context);
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[CommandCalls.CorrelationIdHeader] = correlationId;
            return Task.CompletedTask;
        });
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            var status = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            // the route template without a trailing slash: a group's "" route (GET /pools) has the raw text "/pools/"
            var route = "/" + (endpoint.RoutePattern.RawText ?? context.Request.Path.Value ?? string.Empty).Trim('/');
            var authenticated = context.User.Identity?.IsAuthenticated == true;
            var clientId = route == GcpAuthenticationExtensions.TokenPath ? TokenClient(context) : CommandCalls.ClientOf(context);
            writer.Write(new C.AuditRecord
            {
                auditId = Guid.NewGuid().ToString(),
                caller = context.User.FindFirst("sub")?.Value ?? (authenticated || status < 400 ? clientId : CommandCalls.Anonymous),
                clientId = clientId,
                method = context.Request.Method,
                endpoint = route,
                certificateId = AuditTrail.CertificateOf(context, route),
                poolId = AuditTrail.PoolOf(context, route),
                statusCode = status,
                outcome = Outcome(status),
                latencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                correlationId = correlationId,
                occurredAt = DateTime.UtcNow,
            }, unauthenticatedFailure: !authenticated && status >= 400);
        }
    }

    /// <summary>
    /// The token endpoint's client: the <c>client_id</c> the request named (authenticated or not; at most
    /// <see cref="CommandCalls.MaxTextLength"/> characters of it), never its secret; <c>anonymous</c> when it named none.
    /// </summary>
    private static string TokenClient(HttpContext context) =>
        GcpAuthenticationExtensions.TokenRequestClientId(context) is { Length: > 0 } named
            ? named[..Math.Min(named.Length, CommandCalls.MaxTextLength)]
            : CommandCalls.Anonymous;

    /// <summary>The short outcome label of a status code.</summary>
    public static string Outcome(int status) => status switch
    {
        >= 200 and < 300 => "ok",
        StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType => "invalid",
        StatusCodes.Status401Unauthorized => "unauthenticated",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status409Conflict or StatusCodes.Status422UnprocessableEntity => "rejected",
        StatusCodes.Status429TooManyRequests => "rate_limited",
        StatusCodes.Status503ServiceUnavailable => "unavailable",
        StatusCodes.Status504GatewayTimeout => "timeout",
        >= 400 and < 500 => "client_error",
        _ => "error",
    };
}
