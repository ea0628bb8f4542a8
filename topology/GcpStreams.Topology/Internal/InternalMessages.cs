using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Topology.Internal;

/// <summary>Where an input record came from, kept with the command so a refusal can be dead-lettered with its original bytes.</summary>
public sealed record SourceRecord(string Topic, int Partition, long Offset, byte[]? Key, byte[]? Value, long Timestamp);

/// <summary>
/// A command on its way to its certificate ledger through an internal topic (keyed by certificate id), with what the
/// outputs need besides the decision: who waits for a reply, the correlation id, the caller and the source record.
/// </summary>
public sealed record CertificateInput(CertificateCommand Command, string? ReplyTo, string? CorrelationId, string? Caller, SourceRecord? Source, string? StoreId = null);

/// <summary>A command on its way to its pool through an internal topic (keyed by pool id); fields as for <see cref="CertificateInput"/>.</summary>
public sealed record PoolInput(PoolCommand Command, string? ReplyTo, string? CorrelationId, string? Caller, SourceRecord? Source);

/// <summary>A certificate an order line reserved: what its pool needs to release it.</summary>
public sealed record ReservedLine(string LineId, string CertificateId, string PoolId);

/// <summary>
/// What the order processor hears of one order (internal topic keyed by order id): the certificate lines of a placed order,
/// or that a payment of the order failed. <see cref="CausationId"/> is the input event's id.
/// </summary>
public sealed record OrderInput(string OrderId, string CausationId, DateTimeOffset At, IReadOnlyList<ReservedLine>? PlacedLines, string? FailedPaymentId,
    string? CorrelationId, SourceRecord? Source);
