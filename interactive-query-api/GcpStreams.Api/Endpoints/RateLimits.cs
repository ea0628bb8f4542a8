using System.Globalization;
using System.Threading.RateLimiting;
using GcpStreams.Api.Hosting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// Per-client rate limits (<c>Gcp:RateLimits</c>): token buckets partitioned by the OAuth2 client id, so one client cannot
/// enumerate certificates or CVCs, and one busy client does not slow the others. Beyond the limit: 429 problem with Retry-After.
/// </summary>
public static class RateLimits
{
    /// <summary>GET /certificates/{id}, /certificates/{id}/history and /certificates.</summary>
    public const string Lookups = "lookups";

    /// <summary>GET /certificates/{id}/cvc.</summary>
    public const string Cvc = "cvc";

    public const string RateLimitedType = "https://gcpstreams.dev/problems/rate-limited";

    public static IServiceCollection AddGcpRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(Lookups, context => Bucket(context, Lookups, limits => (limits.LookupBurst, limits.LookupsPerSecond, TimeSpan.FromSeconds(1))));
            o.AddPolicy(Cvc, context => Bucket(context, Cvc, limits => (limits.CvcBurst, 1, TimeSpan.FromMinutes(1) / limits.CvcPerMinute)));
            o.OnRejected = RejectAsync;
        });
        return services;
    }

    private static RateLimitPartition<string> Bucket(HttpContext context, string policy, Func<RateLimitOptions, (int Burst, int Rate, TimeSpan Period)> limits)
    {
        var (burst, rate, period) = limits(context.RequestServices.GetRequiredService<IOptions<GcpOptions>>().Value.RateLimits);
        var client = CommandCalls.ClientOf(context);
        return RateLimitPartition.GetTokenBucketLimiter($"{policy}:{client}", _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = rate,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        var client = CommandCalls.ClientOf(context);
        await TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests",
            detail: $"Client '{client}' is over its rate limit for this endpoint (Gcp:RateLimits); retry after {retryAfter} s.",
            type: RateLimitedType,
            instance: context.Request.Path,
            extensions: new Dictionary<string, object?> { ["clientId"] = client, ["retryAfterSeconds"] = retryAfter }).ExecuteAsync(context);
    }
}
