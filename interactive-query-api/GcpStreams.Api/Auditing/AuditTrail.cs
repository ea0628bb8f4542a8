namespace GcpStreams.Api.Auditing;

/// <summary>
/// Marks the endpoints whose every call is audited (to <c>GiftCertificates.Audit</c> and the log), and lets a handler name
/// what the call concerned when the route does not (the certificate a reservation got).
/// </summary>
public static class AuditTrail
{
    private const string CertificateItem = "gcp.audit.certificateId";
    private const string PoolItem = "gcp.audit.poolId";

    /// <summary>Every call of these endpoints is audited.</summary>
    public static TBuilder Audited<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AuditedEndpoint.Instance);

    /// <summary>The call concerned this certificate (when its route does not name it).</summary>
    public static void SetCertificate(HttpContext context, string? certificateId) => context.Items[CertificateItem] = certificateId;

    /// <summary>The call concerned this pool (when its route does not name it).</summary>
    public static void SetPool(HttpContext context, string? poolId) => context.Items[PoolItem] = poolId;

    internal static string? CertificateOf(HttpContext context, string route) =>
        context.Items.TryGetValue(CertificateItem, out var set) ? set as string
        : route.StartsWith("/certificates/{id}", StringComparison.Ordinal) ? context.Request.RouteValues["id"] as string
        : null;

    internal static string? PoolOf(HttpContext context, string route) =>
        context.Items.TryGetValue(PoolItem, out var set) ? set as string
        : route.StartsWith("/pools/{id}", StringComparison.Ordinal) ? context.Request.RouteValues["id"] as string
        : null;
}

/// <summary>The endpoint metadata that <see cref="AuditTrail.Audited{TBuilder}"/> adds.</summary>
public sealed class AuditedEndpoint
{
    public static readonly AuditedEndpoint Instance = new();

    private AuditedEndpoint()
    {
    }
}
