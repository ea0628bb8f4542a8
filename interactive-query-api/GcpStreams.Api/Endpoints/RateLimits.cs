using System.Globalization;
using System.Threading.RateLimiting;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// Per-client rate limits (<c>Gcp:RateLimits</c>): token buckets partitioned by the OAuth2 client id, so one client cannot
/// enumerate certificates or CVCs nor flood the writes, and one busy client does not slow the others; and per source address on the
/// embedded token endpoint, against guessing client secrets, and on every request without a valid token. Beyond the limit: 429
/// problem with Retry-After.
/// </summary>
public static class RateLimits
{
    /// <summary>GET /certificates/{id}, /certificates/{id}/history and /certificates.</summary>
    public const string Lookups = "lookups";

    /// <summary>POST /certificates/{id}/cvc/support-disclosures.</summary>
    public const string Cvc = "cvc";

    /// <summary>GET /certificates/{id}/cvc?notificationId= (the CRM notifier: one read per notification sent).</summary>
    public const string NotifyCvc = "notify-cvc";

    /// <summary>POST /certificates/next, /certificates/{id}/lock, /unlock and /notifications, /pools/{id}/certificates.</summary>
    public const string Writes = "writes";

    public const string RateLimitedType = "https://gcpstreams.dev/problems/rate-limited";

    public static IServiceCollection AddGcpRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(Lookups, context => Bucket(context, Lookups, limits => (limits.LookupBurst, limits.LookupsPerSecond, TimeSpan.FromSeconds(1))));
            o.AddPolicy(Cvc, context => Bucket(context, Cvc, limits => (limits.CvcBurst, 1, TimeSpan.FromMinutes(1) / limits.CvcPerMinute)));
            o.AddPolicy(NotifyCvc, context => Bucket(context, NotifyCvc, limits => (limits.NotifyCvcBurst, 1, TimeSpan.FromMinutes(1) / limits.NotifyCvcPerMinute)));
            o.AddPolicy(Writes, context => Bucket(context, Writes, limits => (limits.WriteBurst, limits.WritesPerSecond, TimeSpan.FromSeconds(1))));
            o.OnRejected = RejectAsync;
        });
        return services;
    }

    /// <summary>
    /// Embedded auth mode: limits <c>POST /connect/token</c> per source address (<c>Gcp:RateLimits:TokenRequestsPerMinute</c>,
    /// <c>TokenBurst</c>). Runs before authentication, where the token server answers, and after the audit, so a refused
    /// request is audited as <c>rate_limited</c>. Behind a proxy every client shares the proxy's address.
    /// </summary>
    public static IApplicationBuilder UseTokenEndpointRateLimit(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Mode != AuthMode.Embedded)
        {
            return app;
        }

        var limits = app.Services.GetRequiredService<IOptions<GcpOptions>>().Value.RateLimits;
        return app.UseRateLimitPerAddress(
            context => context.Request.Path.StartsWithSegments(GcpAuthenticationExtensions.TokenPath, StringComparison.OrdinalIgnoreCase),
            limits.TokenBurst, TimeSpan.FromMinutes(1) / limits.TokenRequestsPerMinute,
            address => $"Address {address} is over the token endpoint's rate limit (Gcp:RateLimits:TokenRequestsPerMinute, TokenBurst)");
    }

    /// <summary>
    /// Limits requests without a valid token per source address (<c>Gcp:RateLimits:AnonymousPerMinute</c>, <c>AnonymousBurst</c>):
    /// use after authentication (which decides whether the token is valid) and before authorization (which answers 401/403), so
    /// guessing tokens or scanning anonymously is throttled while authenticated clients keep their own per-client buckets. The
    /// health probes, the token endpoint (its own limit) and the embedded schema registry are not limited.
    /// </summary>
    public static IApplicationBuilder UseAnonymousRateLimit(this WebApplication app)
    {
        var limits = app.Services.GetRequiredService<IOptions<GcpOptions>>().Value.RateLimits;
        return app.UseRateLimitPerAddress(
            context => context.User.Identity?.IsAuthenticated != true
                && !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
                && !context.Request.Path.StartsWithSegments(GcpAuthenticationExtensions.TokenPath, StringComparison.OrdinalIgnoreCase)
                && !context.Request.Path.StartsWithSegments(EmbeddedStartup.SchemaRegistryPath, StringComparison.OrdinalIgnoreCase),
            limits.AnonymousBurst, TimeSpan.FromMinutes(1) / limits.AnonymousPerMinute,
            address => $"Address {address} is over the rate limit of requests without a valid token (Gcp:RateLimits:AnonymousPerMinute, AnonymousBurst)");
    }

    /// <summary>
    /// A token bucket per source address on the requests <paramref name="applies"/> selects; 429 problem beyond it. Not the
    /// rate-limiting middleware: that one would also enforce the endpoints' per-client policies, which are not its business here.
    /// </summary>
    private static IApplicationBuilder UseRateLimitPerAddress(
        this WebApplication app, Func<HttpContext, bool> applies, int burst, TimeSpan period, Func<string, string> overLimit)
    {
        var byAddress = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetTokenBucketLimiter(
            AddressOf(context), _ => BucketOptions(burst, 1, period)));
        app.Lifetime.ApplicationStopped.Register(byAddress.Dispose);
        return app.UseWhen(applies, branch => branch.Use(async (context, next) =>
        {
            using var lease = byAddress.AttemptAcquire(context);
            if (lease.IsAcquired)
            {
                await next(context);
                return;
            }

            var address = AddressOf(context);
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await ProblemAsync(new OnRejectedContext { HttpContext = context, Lease = lease }, retryAfter => $"{overLimit(address)}; retry after {retryAfter} s.",
                new Dictionary<string, object?> { ["remoteAddress"] = address });
        }));
    }

    private static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static RateLimitPartition<string> Bucket(HttpContext context, string policy, Func<RateLimitOptions, (int Burst, int Rate, TimeSpan Period)> limits)
    {
        var (burst, rate, period) = limits(context.RequestServices.GetRequiredService<IOptions<GcpOptions>>().Value.RateLimits);
        var client = CommandCalls.ClientOf(context);
        return RateLimitPartition.GetTokenBucketLimiter($"{policy}:{client}", _ => BucketOptions(burst, rate, period));
    }

    private static TokenBucketRateLimiterOptions BucketOptions(int burst, int rate, TimeSpan period) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = rate,
        ReplenishmentPeriod = period,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var client = CommandCalls.ClientOf(rejected.HttpContext);
        return ProblemAsync(rejected, retryAfter => $"Client '{client}' is over its rate limit for this endpoint (Gcp:RateLimits); retry after {retryAfter} s.",
            new Dictionary<string, object?> { ["clientId"] = client });
    }

    /// <summary>The 429 problem of every limit: <c>Retry-After</c>, the detail, and the extensions plus <c>retryAfterSeconds</c>.</summary>
    private static async ValueTask ProblemAsync(OnRejectedContext rejected, Func<int, string> detail, Dictionary<string, object?> extensions)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        extensions["retryAfterSeconds"] = retryAfter;
        await TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests",
            detail: detail(retryAfter),
            type: RateLimitedType,
            instance: context.Request.Path,
            extensions: extensions).ExecuteAsync(context);
    }
}
