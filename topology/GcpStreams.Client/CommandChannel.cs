using System.Collections.Concurrent;
using System.Text;
using Avro.Specific;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using C = GcpStreams.Contracts;

namespace GcpStreams.Client;

/// <summary>
/// Request/reply over the topics, for a caller of the service (the HTTP API, the traffic generator): sends
/// <see cref="C.GiftCertificateCommand"/>s on <see cref="Topics.Commands"/> with <c>replyTo</c> = <see cref="InstanceId"/> and
/// completes each with the <see cref="C.CommandReply"/> that comes back on <see cref="Topics.Replies"/> for it (routed by
/// the <c>reply-to</c> header, then by request id). One per process: one idempotent producer (Murmur2 partitioning, like
/// Streamiz) and one read_committed consumer of the replies assigned to every partition at its end when the channel opens.
/// Every command is signed with the command signing key (<see cref="RecordSigner"/>, header <see cref="RecordSigner.Header"/>);
/// a reply is taken only when the topology signed it and it answers a command this channel sent and still waits for, about the
/// same certificate or pool: any other reply addressed here is dropped, counted and reported (issue 10, M3).
/// </summary>
public sealed class CommandChannel : IAsyncDisposable
{
    private readonly Codec codec;
    private readonly RecordSigner signer;
    private readonly IProducer<byte[], byte[]> producer;
    private readonly ConcurrentDictionary<string, Waiting> pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, object> serializers = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task replyLoop;
    private readonly Action<string>? onError;
    private readonly Action<string>? onWarning;
    private long droppedReplies;
    private long lateReplies;
    private int disposed;

    /// <param name="bootstrapServers">The cluster.</param>
    /// <param name="codec">Avro on the Confluent wire format, through the service's schema registry.</param>
    /// <param name="instanceId">This process's reply address: the <c>replyTo</c> of every command it sends.</param>
    /// <param name="signer">Signs the commands and checks the replies (the service's command signing key).</param>
    /// <param name="settings">Extra librdkafka settings (security) for both clients; keys a client does not know are ignored with a warning.</param>
    /// <param name="fetchWaitMaxMs">The reply consumer's fetch.wait.max.ms (a reply's latency floor).</param>
    /// <param name="onError">Where consume errors are reported (default: standard error).</param>
    /// <param name="onWarning">Where dropped and late replies are reported (default: standard error).</param>
    public CommandChannel(string bootstrapServers, Codec codec, string instanceId, RecordSigner signer, IEnumerable<KeyValuePair<string, string>>? settings = null,
        int fetchWaitMaxMs = 5, Action<string>? onError = null, Action<string>? onWarning = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentNullException.ThrowIfNull(signer);
        this.codec = codec;
        this.signer = signer;
        InstanceId = instanceId;
        this.onError = onError;
        this.onWarning = onWarning;
        var extra = settings?.ToList() ?? [];
        var producerConfig = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
            EnableIdempotence = true,
            LingerMs = 1,
        };
        Apply(producerConfig, extra);
        producer = new ProducerBuilder<byte[], byte[]>(producerConfig).Build();
        try
        {
            var consumerConfig = new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = instanceId, // never joined: the partitions are assigned explicitly and nothing is committed
                EnableAutoCommit = false,
                IsolationLevel = IsolationLevel.ReadCommitted,
                FetchWaitMaxMs = fetchWaitMaxMs,
            };
            Apply(consumerConfig, extra);
            var replies = OpenAtEnd(consumerConfig, Topics.Replies.Name);
            replyLoop = StartConsuming(replies, Topics.Replies.Name, OnReply, stop.Token, onError);
        }
        catch
        {
            producer.Dispose();
            throw;
        }
    }

    /// <summary>The reply address of this channel (<c>replyTo</c> of its commands, <c>reply-to</c> header of its replies).</summary>
    public string InstanceId { get; }

    /// <summary>Commands sent and still waiting for their reply.</summary>
    public int Pending => pending.Count;

    /// <summary>
    /// Replies addressed to this channel and dropped: not signed by the topology (forged or changed), or naming another
    /// certificate or pool than the command asked about.
    /// </summary>
    public long DroppedReplies => Interlocked.Read(ref droppedReplies);

    /// <summary>Signed replies addressed to this channel for a command nobody waits for any more (it timed out, or was answered already).</summary>
    public long LateReplies => Interlocked.Read(ref lateReplies);

    /// <summary>
    /// Sends a command and waits for its reply. The command's request id is new for every call; an
    /// <paramref name="idempotencyKey"/> (scoped by the service to <paramref name="caller"/>) makes a retry the same request.
    /// </summary>
    /// <param name="key">
    /// The record key: the pool id for pool commands, the certificate id for certificate commands; a command with an
    /// <paramref name="idempotencyKey"/> is keyed by the caller's key instead (<see cref="IdempotencyKeys.Scoped"/>), so that
    /// every use of one key meets in one partition, where the intake keeps the key's claim.
    /// </param>
    /// <param name="payload">ReserveCertificate, LoadPool, LockCertificate, UnlockCertificate or RevealCvc.</param>
    /// <param name="caller">Who asks (the OAuth2 client id for the API).</param>
    /// <param name="correlationId">Carried onto the events the command causes; the request id when null.</param>
    /// <param name="idempotencyKey">Optional, the caller's.</param>
    /// <param name="timeout">How long to wait for the reply.</param>
    /// <param name="cancellationToken">Cancels the wait (the command may still be carried out).</param>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/> (the command may still be carried out).</exception>
    public async Task<C.CommandReply> SendAsync(string key, object payload, string caller, string? correlationId, string? idempotencyKey, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        var requestId = Guid.NewGuid().ToString();
        var reply = new TaskCompletionSource<C.CommandReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[requestId] = new Waiting(reply, Target.Of(payload)); // before the send: the reply cannot overtake the registration
        try
        {
            var command = new C.GiftCertificateCommand
            {
                requestId = requestId,
                replyTo = InstanceId,
                caller = caller,
                correlationId = correlationId ?? requestId,
                idempotencyKey = idempotencyKey,
                issuedAt = DateTime.UtcNow,
                payload = payload,
            };
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                var recordKey = idempotencyKey is null ? key : IdempotencyKeys.Scoped(caller, idempotencyKey);
                await ProduceAsync(Topics.Commands, recordKey, command, deadline.Token, signed: true).ConfigureAwait(false);
                return await reply.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no reply to command {requestId} ({payload.GetType().Name}, key {key}) within {timeout.TotalMilliseconds:F0} ms");
            }
        }
        finally
        {
            pending.TryRemove(requestId, out _);
        }
    }

    /// <summary>Produces a record of <paramref name="topic"/> through this channel's producer (Murmur2 partitioning on the key).</summary>
    /// <remarks>
    /// Encodes with Confluent's serializer awaited asynchronously, not <see cref="Codec.Encode{T}"/> (sync over async,
    /// meant for stream threads): many concurrent callers on the thread pool would block threads on its internal lock
    /// and starve the pool. Same wire format: Topic subject strategy, schemas auto-registered.
    /// </remarks>
    public Task ProduceAsync<TValue>(Topic<string, TValue> topic, string key, TValue value, CancellationToken cancellationToken)
        where TValue : class, ISpecificRecord =>
        ProduceAsync(topic, key, value, cancellationToken, signed: false);

    /// <summary>Produces a record already encoded, with its own headers (never signed: only commands are).</summary>
    public async Task ProduceAsync(Outgoing record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await producer.ProduceAsync(record.Topic, new Message<byte[], byte[]> { Key = record.Key!, Value = record.Value!, Headers = record.Headers }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Queues a record already encoded without waiting for it (no task per record): <paramref name="onDelivered"/> runs on the
    /// producer's delivery thread — keep it short — with <see langword="null"/> once the broker has the record, or the error.
    /// </summary>
    /// <exception cref="ProduceException{TKey, TValue}">The producer refused it at once (e.g. its local queue is full); <paramref name="onDelivered"/> is not called.</exception>
    public void Produce(Outgoing record, Action<Error?> onDelivered)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(onDelivered);
        producer.Produce(record.Topic, new Message<byte[], byte[]> { Key = record.Key!, Value = record.Value!, Headers = record.Headers },
            report => onDelivered(report.Error.IsError ? report.Error : null));
    }

    private async Task ProduceAsync<TValue>(Topic<string, TValue> topic, string key, TValue value, CancellationToken cancellationToken, bool signed)
        where TValue : class, ISpecificRecord
    {
        var serializer = (IAsyncSerializer<TValue>)serializers.GetOrAdd(typeof(TValue), _ => new AvroSerializer<TValue>(codec.Registry, new AvroSerializerConfig
        {
            SubjectNameStrategy = SubjectNameStrategy.Topic,
            AutoRegisterSchemas = true,
        }));
        var bytes = await serializer.SerializeAsync(value, new SerializationContext(MessageComponentType.Value, topic.Name)).ConfigureAwait(false);
        var keyBytes = topic.KeyBytes(key);
        var message = new Message<byte[], byte[]> { Key = keyBytes!, Value = bytes, Headers = signed ? signer.Signed(topic.Name, keyBytes, bytes) : null };
        await producer.ProduceAsync(topic.Name, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A consumer of <paramref name="topic"/> from its current end: every partition is assigned explicitly at its high
    /// watermark before this returns, so nothing produced afterwards is missed (no group rebalance to wait for).
    /// </summary>
    public static IConsumer<byte[], byte[]> OpenAtEnd(ConsumerConfig config, string topic)
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        try
        {
            using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
            {
                var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
                if (metadata.Error.IsError || metadata.Partitions.Count == 0)
                {
                    throw new KafkaException(metadata.Error.IsError ? metadata.Error : new Error(ErrorCode.UnknownTopicOrPart, $"topic {topic} has no partitions"));
                }

                var partitions = metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
                consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High)));
            }

            return consumer;
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Polls <paramref name="consumer"/> until <paramref name="stopToken"/> fires, handing every record over, and closes it at the
    /// end — on a thread of its own, never the thread pool's: the loop blocks in <c>Consume</c> for good, and on a pool thread it
    /// would hold one of the pool's few (two on two cores), so its callers' continuations would queue until the pool adds threads
    /// (about half a second each). That is how the soak's tool once measured 0.5–1 s "outliers" of its own (docs/reliability.md).
    /// </summary>
    /// <returns>The loop: it ends once <paramref name="stopToken"/> fires and the consumer is closed.</returns>
    public static Task StartConsuming(IConsumer<byte[], byte[]> consumer, string topic, Action<ConsumeResult<byte[], byte[]>> handle,
        CancellationToken stopToken, Action<string>? onError = null) =>
        Task.Factory.StartNew(() => Consume(consumer, topic, handle, stopToken, onError), CancellationToken.None, TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static void Consume(IConsumer<byte[], byte[]> consumer, string topic, Action<ConsumeResult<byte[], byte[]>> handle, CancellationToken stopToken,
        Action<string>? onError)
    {
        using (consumer)
        {
            while (!stopToken.IsCancellationRequested)
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
                    (onError ?? Console.Error.WriteLine)($"consume {topic}: {e.Error.Reason}");
                }
            }
        }
    }

    private void OnReply(ConsumeResult<byte[], byte[]> record)
    {
        var replyTo = record.Message.Headers?.FirstOrDefault(h => h.Key == Header.ReplyTo)?.GetValueBytes();
        if (replyTo is null || !replyTo.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(InstanceId)))
        {
            return; // another instance's reply (that instance checks it)
        }

        // only the topology can sign: a reply without its signature never completes a command (a forged ACCEPTED for a CVC gives nothing)
        if (signer.Verify(Topics.Replies.Name, record.Message.Key, record.Message.Value, record.Message.Headers) is { IsValid: false } forged)
        {
            Drop(record, $"its signature is not the topology's ({forged.Message})");
            return;
        }

        C.CommandReply reply;
        try
        {
            reply = codec.Decode(Topics.Replies, record.Message.Value);
        }
        catch (Exception e) when (e is Serialization.AvroDeserializationException or Avro.AvroException)
        {
            (onError ?? Console.Error.WriteLine)($"undecodable reply at {record.TopicPartitionOffset}: {e.Message}");
            return;
        }

        if (reply.replyTo != InstanceId)
        {
            Drop(record, $"its reply-to header names this instance, its content '{reply.replyTo}'");
            return;
        }

        if (!pending.TryGetValue(reply.requestId ?? string.Empty, out var waiting))
        {
            Interlocked.Increment(ref lateReplies);
            (onWarning ?? Console.Error.WriteLine)($"reply at {record.TopicPartitionOffset} to request {reply.requestId} ({reply.outcome}) came when no command of this instance waited for it: "
                + "the command timed out before it was carried out, or the reply is a copy");
            return;
        }

        if (waiting.Target.Mismatch(reply) is { } mismatch)
        {
            Drop(record, mismatch);
            return;
        }

        waiting.Reply.TrySetResult(reply);
    }

    private void Drop(ConsumeResult<byte[], byte[]> record, string why)
    {
        Interlocked.Increment(ref droppedReplies);
        (onWarning ?? Console.Error.WriteLine)($"dropped the reply at {record.TopicPartitionOffset} addressed to {InstanceId}: {why}");
    }

    /// <summary>A command waiting for its reply, and what the reply must be about.</summary>
    private sealed record Waiting(TaskCompletionSource<C.CommandReply> Reply, Target Target);

    /// <summary>The certificate or the pool a command is about: its reply must be about the same one.</summary>
    private sealed record Target(string? CertificateId, string? PoolId)
    {
        public static Target Of(object payload) => payload switch
        {
            C.LockCertificate l => new(l.certificateId, null),
            C.UnlockCertificate u => new(u.certificateId, null),
            C.RevealCvc r => new(r.certificateId, null),
            C.ReserveCertificate r => new(null, r.poolId),
            C.LoadPool l => new(null, l.poolId),
            _ => new(null, null),
        };

        /// <summary>
        /// Why <paramref name="reply"/> does not answer a command about this target, or null: an ACCEPTED reply names the command's
        /// certificate (certificate commands) or pool (pool commands); a REJECTED one names no other.
        /// </summary>
        public string? Mismatch(C.CommandReply reply)
        {
            var accepted = reply.outcome == C.ReplyOutcome.ACCEPTED;
            if (CertificateId is not null && (accepted ? reply.certificateId != CertificateId : reply.certificateId is not null && reply.certificateId != CertificateId))
            {
                return $"it is about certificate '{reply.certificateId}', the command about '{CertificateId}'";
            }

            return PoolId is not null && (accepted ? reply.poolId != PoolId : reply.poolId is not null && reply.poolId != PoolId)
                ? $"it is about pool '{reply.poolId}', the command about '{PoolId}'"
                : null;
        }
    }

    private static void Apply(ClientConfig config, IEnumerable<KeyValuePair<string, string>> settings)
    {
        foreach (var (key, value) in settings)
        {
            config.Set(key, value);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        producer.Flush(TimeSpan.FromSeconds(10));
        await stop.CancelAsync().ConfigureAwait(false);
        await replyLoop.ConfigureAwait(false);
        producer.Dispose();
        stop.Dispose();
        foreach (var waiting in pending.Values)
        {
            waiting.Reply.TrySetCanceled();
        }
    }
}
