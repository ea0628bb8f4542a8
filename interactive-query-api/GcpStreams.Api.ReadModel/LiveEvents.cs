using System.Threading.Channels;

namespace GcpStreams.Api.ReadModel;

/// <summary>
/// One event of <c>GiftCertificates.Stream</c> as the read model applied it, for a live tail: the certificate it is about (null
/// for a pool's own events) and its projection.
/// </summary>
/// <param name="CertificateId">The certificate the event is about; null for pool events (pool.loaded, issue.blocked, pool alerts).</param>
/// <param name="Entry">The event's projection (type, time, amount, balance after, ...).</param>
public sealed record LiveEvent(string? CertificateId, HistoryEntry Entry);

/// <summary>What a live tail follows: the events of one certificate, or every event naming one pool (its own and its certificates').</summary>
/// <param name="CertificateId">Follow this certificate's events.</param>
/// <param name="PoolId">Follow every event whose poolId is this pool.</param>
public sealed record LiveFilter(string? CertificateId, string? PoolId)
{
    /// <summary>The events of one certificate.</summary>
    public static LiveFilter Certificate(string certificateId) => new(certificateId, null);

    /// <summary>Every event naming one pool: its loads, blocked issues and alerts, and its certificates' events.</summary>
    public static LiveFilter Pool(string poolId) => new(null, poolId);

    /// <summary>Whether an event about <paramref name="certificateId"/> in <paramref name="poolId"/> is followed.</summary>
    public bool Matches(string? certificateId, string? poolId) =>
        (CertificateId is not null && string.Equals(CertificateId, certificateId, StringComparison.Ordinal))
        || (PoolId is not null && string.Equals(PoolId, poolId, StringComparison.Ordinal));
}

/// <summary>
/// A live tail of the read model (<see cref="ReadModelStore.Subscribe"/>): the events applied after it was opened that match its
/// <see cref="Filter"/>, in the order the read model applied them, through a bounded buffer. A reader that falls
/// <see cref="Capacity"/> events behind is not waited for (the read model's consumer never blocks on a slow reader): its
/// subscription ends, <see cref="Overflowed"/> is set and <see cref="Events"/> completes after the events already buffered.
/// Dispose to stop following.
/// </summary>
public sealed class LiveSubscription : IDisposable
{
    private readonly Channel<LiveEvent> channel;
    private readonly Action<LiveSubscription> unsubscribe;
    private int overflowed;
    private int disposed;

    internal LiveSubscription(LiveFilter filter, int capacity, Action<LiveSubscription> unsubscribe)
    {
        Filter = filter;
        Capacity = capacity;
        this.unsubscribe = unsubscribe;
        channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true, // the read model's consumer thread
            FullMode = BoundedChannelFullMode.Wait, // never used to wait: TryWrite fails instead, and the subscription ends
        });
    }

    /// <summary>What this tail follows.</summary>
    public LiveFilter Filter { get; }

    /// <summary>How many events may wait in the buffer before the subscription is ended.</summary>
    public int Capacity { get; }

    /// <summary>The events, in the order the read model applied them; completes when the subscription ends.</summary>
    public ChannelReader<LiveEvent> Events => channel.Reader;

    /// <summary>True once the reader fell <see cref="Capacity"/> events behind and the subscription was ended for it.</summary>
    public bool Overflowed => Volatile.Read(ref overflowed) != 0;

    /// <summary>Stops following; <see cref="Events"/> completes.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        unsubscribe(this);
        channel.Writer.TryComplete();
    }

    /// <summary>Offers an event; false when the buffer is full (the subscription is then ended as overflowed).</summary>
    internal bool Offer(LiveEvent e)
    {
        if (channel.Writer.TryWrite(e))
        {
            return true;
        }

        Interlocked.Exchange(ref overflowed, 1);
        channel.Writer.TryComplete();
        return false;
    }

    /// <summary>Ends the subscription from the store's side (the store is disposed).</summary>
    internal void End() => channel.Writer.TryComplete();
}
