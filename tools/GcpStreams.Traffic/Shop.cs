using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Topology;
using C = GcpStreams.Contracts;

namespace GcpStreams.Traffic;

/// <summary>
/// The other teams' side of the topics, as a client library: sends API commands, orders and payments in Avro
/// (Murmur2 partitioning, like Streamiz), and watches replies and the event stream. One instance per process.
/// </summary>
public sealed class Shop : IAsyncDisposable
{
    private readonly Codec codec;
    private readonly IProducer<byte[], byte[]> producer;
    private readonly string instance = "traffic-" + Guid.NewGuid().ToString("N")[..8];
    private readonly ConcurrentDictionary<string, TaskCompletionSource<C.CommandReply>> pendingReplies = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<C.GiftCertificateEvent>> eventsByCertificate = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), TaskCompletionSource<C.GiftCertificateEvent>> waiters = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<C.GiftCertificateEvent>> outcomes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private readonly Task replyLoop;
    private readonly Task eventLoop;

    public Shop(string bootstrapServers, ISchemaRegistryClient registry)
    {
        codec = new Codec(registry);
        producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
            EnableIdempotence = true,
            LingerMs = 1,
        }).Build();
        var replies = OpenAtEnd(bootstrapServers, Topics.Replies);
        var events = OpenAtEnd(bootstrapServers, Topics.Stream);
        replyLoop = Task.Run(() => Consume(replies, Topics.Replies, OnReply));
        eventLoop = Task.Run(() => Consume(events, Topics.Stream, OnEvent));
    }

    /// <summary>Counts of events seen on the stream, by type.</summary>
    public ConcurrentDictionary<string, int> EventCounts { get; } = new(StringComparer.Ordinal);

    public async Task<C.CommandReply> SendCommandAsync(string key, object payload, TimeSpan timeout, CancellationToken token)
    {
        var requestId = Guid.NewGuid().ToString();
        var reply = pendingReplies.GetOrAdd(requestId, _ => new TaskCompletionSource<C.CommandReply>(TaskCreationOptions.RunContinuationsAsynchronously));
        var command = new C.GiftCertificateCommand
        {
            requestId = requestId,
            replyTo = instance,
            caller = "traffic-generator",
            correlationId = requestId,
            issuedAt = DateTime.UtcNow,
            payload = payload,
        };
        await ProduceAsync(Topics.Commands, key, command, token);
        try
        {
            return await reply.Task.WaitAsync(timeout, token);
        }
        finally
        {
            pendingReplies.TryRemove(requestId, out _);
        }
    }

    public Task ProduceAsync<T>(string topic, string key, T value, CancellationToken token)
        where T : class, Avro.Specific.ISpecificRecord =>
        producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = codec.Encode(topic, value) }, token);

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

    private void OnReply(ConsumeResult<byte[], byte[]> record)
    {
        var replyTo = record.Message.Headers?.FirstOrDefault(h => h.Key == GcpStreams.Topology.Header.ReplyTo)?.GetValueBytes();
        if (replyTo is null || Encoding.UTF8.GetString(replyTo) != instance)
        {
            return; // another instance's reply
        }

        var reply = codec.Decode<C.CommandReply>(Topics.Replies, record.Message.Value);
        if (pendingReplies.TryGetValue(reply.requestId, out var pending))
        {
            pending.TrySetResult(reply);
        }
    }

    private void OnEvent(ConsumeResult<byte[], byte[]> record)
    {
        var e = codec.Decode<C.GiftCertificateEvent>(Topics.Stream, record.Message.Value);
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

    /// <summary>
    /// Reads a topic from its current end: every partition is assigned explicitly at its high watermark before this
    /// returns, so nothing produced after the shop starts is missed (no group rebalance to wait for).
    /// </summary>
    private static IConsumer<byte[], byte[]> OpenAtEnd(string bootstrapServers, string topic)
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "gcp-traffic",
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            FetchWaitMaxMs = 5,
        }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High)));
        return consumer;
    }

    private void Consume(IConsumer<byte[], byte[]> consumer, string topic, Action<ConsumeResult<byte[], byte[]>> handle)
    {
        using (consumer)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } record)
                    {
                        handle(record);
                    }
                }
                catch (ConsumeException e)
                {
                    Console.Error.WriteLine($"consume {topic}: {e.Error.Reason}");
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        producer.Flush(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await Task.WhenAll(replyLoop, eventLoop);
        producer.Dispose();
        stop.Dispose();
    }
}
