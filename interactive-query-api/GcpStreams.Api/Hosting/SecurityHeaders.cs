namespace GcpStreams.Api.Hosting;

/// <summary>
/// Headers of every response, whatever answers it (an endpoint, the token server, a problem of the exception handler or the
/// status code pages): <c>X-Content-Type-Options: nosniff</c>; and, on an endpoint that declares a
/// <see cref="ContentSecurityPolicy"/> (Swagger UI), that policy and <c>X-Frame-Options: DENY</c>; on every response under
/// <c>/certificates</c> (reads, writes, problems), <c>Cache-Control: no-store</c>. The headers are set
/// when the response starts, so a handler that clears the response on the way does not lose them.
/// </summary>
public static class SecurityHeaders
{
    private static readonly PathString CertificatesPath = new("/certificates");

    /// <summary>Adds the headers; use first in the pipeline (routing has chosen the endpoint by then).</summary>
    public static IApplicationBuilder UseGcpSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(next => context =>
        {
            var policy = context.GetEndpoint()?.Metadata.GetMetadata<ContentSecurityPolicy>();
            context.Response.OnStarting(static state =>
            {
                var (response, policy) = ((HttpResponse, ContentSecurityPolicy?))state;
                response.Headers.XContentTypeOptions = "nosniff";
                if (response.HttpContext.Request.Path.StartsWithSegments(CertificatesPath, StringComparison.Ordinal))
                {
                    // a certificate number is the bearer credential of the certificate: no cache may keep a response that names one
                    response.Headers.CacheControl = "no-store";
                }

                if (policy is not null)
                {
                    response.Headers.ContentSecurityPolicy = policy.Value;
                    response.Headers.XFrameOptions = "DENY";
                }

                return Task.CompletedTask;
            }, (context.Response, policy));
            return next(context);
        });
}

/// <summary>Endpoint metadata: the <c>Content-Security-Policy</c> its responses carry (<see cref="SecurityHeaders"/>).</summary>
/// <param name="Value">The policy.</param>
public sealed record ContentSecurityPolicy(string Value);
