namespace GcpStreams.Embedded;

/// <summary>One request a mock broker received while request tracking was on.</summary>
/// <param name="BrokerId">The id of the broker that received it (1..BrokerCount).</param>
/// <param name="ApiKey">The request type.</param>
/// <param name="MonotonicMicroseconds">
/// librdkafka's monotonic clock (<c>rd_clock()</c>, microseconds) when the request arrived: good for
/// ordering and intervals, not a wall-clock time.
/// </param>
public readonly record struct MockRequest(int BrokerId, KafkaApiKey ApiKey, long MonotonicMicroseconds);
