using System.Diagnostics.Metrics;
using GcpStreams.Api.ReadModel;

namespace GcpStreams.Api.Observability;

/// <summary>
/// The pools' levels as the read model shows them (meter <see cref="MeterName"/>), read at each scrape. The read model is global,
/// so every instance reports every pool with the same values: aggregate with <c>max by (pool)</c>, never <c>sum</c>.
/// <list type="bullet">
/// <item><c>gcp_pool_available_certificates{pool, channel}</c>, <c>gcp_pool_reserved_certificates{pool, channel}</c>,
///   <c>gcp_pool_low_watermark_certificates{pool, channel}</c>;</item>
/// <item><c>gcp_pool_issue_blocked_total{pool, channel}</c>: reservations refused because the pool was empty (<c>issue.blocked</c>).</item>
/// </list>
/// </summary>
public sealed class PoolMetrics : IDisposable
{
    public const string MeterName = "GcpStreams.Pools";

    private readonly CertificateReadModel readModel;
    private readonly Meter meter = new(MeterName);

    public PoolMetrics(CertificateReadModel readModel)
    {
        this.readModel = readModel;
        meter.CreateObservableGauge("gcp.pool.available_certificates", () => Per(p => p.Available), description: "Certificates available in the pool (read model).");
        meter.CreateObservableGauge("gcp.pool.reserved_certificates", () => Per(p => p.Reserved), description: "Certificates reserved and not yet issued (read model).");
        meter.CreateObservableGauge("gcp.pool.low_watermark_certificates", () => Per(p => p.LowWatermark), description: "The pool's low watermark: below it a POOL_LOW alert is raised.");
        meter.CreateObservableCounter("gcp.pool.issue_blocked", () => Per(p => p.IssueBlocked), description: "Reservations refused because the pool was empty (issue.blocked events).");
    }

    public void Dispose() => meter.Dispose();

    private IEnumerable<Measurement<long>> Per(Func<PoolView, long> value) =>
        readModel.GetPools().Select(p => new Measurement<long>(value(p),
            new KeyValuePair<string, object?>("pool", p.PoolId), new KeyValuePair<string, object?>("channel", p.Channel.ToString())));
}
