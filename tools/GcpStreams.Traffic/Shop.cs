using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Traffic;

/// <summary>
/// The other teams' side of the topics, as a client library: sends orders and payments in Avro (Murmur2 partitioning,
/// like Streamiz), and watches the event stream; the integration tests also send API commands straight onto the command
/// topic with it, signed with the service's command signing key (the demo's customers reserve, lock and unlock through the
/// HTTP API, <see cref="GcpApi"/>, and need no key). One instance per process.
/// </summary>
public sealed class Shop : IAsyncDisposable
{
    private readonly Codec codec;
    private readonly CommandChannel channel;
    private readonly ConcurrentDictionary<string, List<C.GiftCertificateEvent>> eventsByCertificate = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), TaskCompletionSource<C.GiftCertificateEvent>> waiters = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<C.GiftCertificateEvent>> outcomes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private readonly Task eventLoop;

    /// <param name="bootstrapServers">The brokers.</param>
    /// <param name="registry">The schema registry.</param>
    /// <param name="signer">
    /// The service's command signing key, to send commands with <see cref="SendCommandAsync"/> (a shop that sends none, as the
    /// demo's, may sign with a key of its own, which no service accepts).
    /// </param>
    public Shop(string bootstrapServers, ISchemaRegistryClient registry, RecordSigner signer)
    {
        codec = new Codec(registry);
        channel = new CommandChannel(bootstrapServers, codec, "traffic-" + Guid.NewGuid().ToString("N")[..8], signer);
        var events = CommandChannel.OpenAtEnd(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-traffic",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5,
        }, Topics.Stream.Name);
        eventLoop = CommandChannel.StartConsuming(events, Topics.Stream.Name, OnEvent, stop.Token);
    }

    /// <summary>Replies addressed to this shop and dropped (not signed by the topology, or about another certificate or pool).</summary>
    public long DroppedReplies => channel.DroppedReplies;

    /// <summary>Counts of events seen on the stream, by type.</summary>
    public ConcurrentDictionary<string, int> EventCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Sends an API command straight onto the command topic and waits for its reply (<see cref="TimeoutException"/> when none
    /// comes): for the integration tests; callers outside the service go through the HTTP API (<see cref="GcpApi"/>).
    /// </summary>
    public Task<C.CommandReply> SendCommandAsync(string key, object payload, TimeSpan timeout, CancellationToken token) =>
        channel.SendAsync(key, payload, "traffic-generator", correlationId: null, idempotencyKey: null, timeout, token);

    /// <summary>Produces a record of one of the service's topics (an order, a payment, a client), in Avro.</summary>
    public Task ProduceAsync<TValue>(Topic<string, TValue> topic, string key, TValue value, CancellationToken token)
        where TValue : class, Avro.Specific.ISpecificRecord =>
        channel.ProduceAsync(topic, key, value, token);

    /// <summary>Waits until the stream shows an event of <paramref name="eventType"/> for the certificate (or it was already seen).</summary>
    public Task<C.GiftCertificateEvent> WaitForEventAsync(string certificateId, string eventType, TimeSpan timeout, CancellationToken token)
    {
        var waiter = waiters.GetOrAdd((certificateId, eventType), _ => new TaskCompletionSource<C.GiftCertificateEvent>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (eventsByCertificate.TryGetValue(certificateId, out var seen))
        {
            lock (seen)
            {
                if (seen.FirstOrDefault(e => e.eventType == eventType) is { } already)
                {
                    waiter.TrySetResult(already);
                }
            }
        }

        return waiter.Task.WaitAsync(timeout, token);
    }

    /// <summary>
    /// Waits for the first stream event caused by an input (its event id), as Payments waits for the certificate's answer
    /// before it refunds or voids: payment events are keyed by payment id, so two of them may take different partitions.
    /// </summary>
    public Task<C.GiftCertificateEvent> WaitForOutcomeAsync(string causationId, TimeSpan timeout, CancellationToken token) =>
        outcomes.GetOrAdd(causationId, _ => new TaskCompletionSource<C.GiftCertificateEvent>(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(timeout, token);

    private void OnEvent(ConsumeResult<byte[], byte[]> record)
    {
        var e = codec.Decode(Topics.Stream, record.Message.Value);
        EventCounts.AddOrUpdate(e.eventType, 1, (_, n) => n + 1);
        outcomes.GetOrAdd(e.causationId, _ => new TaskCompletionSource<C.GiftCertificateEvent>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(e);
        if (e.certificateId is null)
        {
            return;
        }

        var list = eventsByCertificate.GetOrAdd(e.certificateId, _ => []);
        lock (list)
        {
            list.Add(e);
        }

        if (waiters.TryGetValue((e.certificateId, e.eventType), out var waiter))
        {
            waiter.TrySetResult(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await channel.DisposeAsync();
        await stop.CancelAsync();
        await eventLoop;
        stop.Dispose();
    }
}
