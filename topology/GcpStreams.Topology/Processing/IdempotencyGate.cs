using GcpStreams.Topology.Internal;
using Streamiz.Kafka.Net.State;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// The claims of Idempotency-Keys, kept by the intake task that reads the partition of <c>GiftCertificates.Commands</c> the
/// keys are routed to (<see cref="IdempotencyKeys.Scoped"/>): the single owner of each key. A key is one request across every
/// pool and both write kinds (reservation, load): the first use claims it with the request's fingerprint (which names the pool);
/// a retry with the same request passes on to its pool (which replays the first outcome); the same key with another request
/// is refused before it reaches any pool. Claims are kept for <see cref="TopologySettings.IdempotencyKeyRetention"/>, as the
/// pools keep their outcomes, then swept.
/// </summary>
internal sealed class IdempotencyGate(IKeyValueStore<string, byte[]> store, TimeSpan retention)
{
    private const string ClaimPrefix = "k/";
    /// <summary>The retention entries of the intake's store, swept by <see cref="Forget"/> (the <see cref="SupportDisclosureGate"/>'s too).</summary>
    internal const string RetentionPrefix = "x/";
    private const string RequestPrefix = "q/";

    /// <summary>Claims <paramref name="key"/> for this request if it is new; returns the first claim when the key was used for another request.</summary>
    public Claim? Conflict(string key, string fingerprint, string poolId, string requestId, DateTimeOffset at)
    {
        var claimKey = ClaimPrefix + key;
        if (store.Get(claimKey) is { } bytes)
        {
            var first = InternalJson.Deserialize<Claim>(bytes);
            return first.RequestFingerprint == fingerprint ? null : first;
        }

        store.Put(claimKey, InternalJson.Serialize(new Claim(fingerprint, poolId, requestId)));
        store.Put(TimeIndex.Key(RetentionPrefix, at + retention, claimKey), []);
        return null;
    }

    /// <summary>
    /// Remembers the record that first carried <paramref name="requestId"/> (topic/partition/offset) until <paramref name="until"/>;
    /// returns those coordinates when another record carries it again (a copy of a signed command), null for the first record
    /// or the same record read again. Commands are keyed by their pool, certificate or Idempotency-Key, and a copy must keep the
    /// signed key, so every copy of a command meets its first record in this task.
    /// </summary>
    public string? FirstSeen(string requestId, SourceRecord source, DateTimeOffset until)
    {
        var requestKey = RequestPrefix + requestId;
        var coordinates = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{source.Topic}/{source.Partition}/{source.Offset}");
        if (store.Get(requestKey) is { } bytes)
        {
            var first = System.Text.Encoding.UTF8.GetString(bytes);
            return first == coordinates ? null : first;
        }

        store.Put(requestKey, System.Text.Encoding.UTF8.GetBytes(coordinates));
        store.Put(TimeIndex.Key(RetentionPrefix, until, requestKey), []);
        return null;
    }

    /// <summary>Forgets the claims and request ids past their retention (bounded per sweep): a retry after that is a new request.</summary>
    public void Forget(long wallClockMs) => TimeIndex.ForgetDue(store, RetentionPrefix, wallClockMs);

    /// <summary>What an Idempotency-Key was first used for: the request's fingerprint, its pool and its request id.</summary>
    internal sealed record Claim(string RequestFingerprint, string PoolId, string RequestId);
}
