using Avro.Generic;
using Avro.Specific;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace GcpStreams.CrmNotifier;

/// <summary>The topics the notifier reads and writes, and the header it filters the stream by.</summary>
public static class CrmTopics
{
    /// <summary>The service's event stream (read: notification.requested only, filtered by header).</summary>
    public const string Stream = "GiftCertificates.Stream";

    /// <summary>CRM's results (written, and read back to know what was sent), key certificateId.</summary>
    public const string NotificationResults = "CRM.NotificationResults";

    /// <summary>CRM's clients, compacted, key clientId (read: contact data; written: the last notification).</summary>
    public const string Clients = "All_Clients";

    public const string EventTypeHeader = "event-type";
    public const string NotificationRequested = "notification.requested";
}

/// <summary>Kafka clients and Avro serdes (Confluent's, on the schema registry) as the notifier uses them.</summary>
public sealed class KafkaClients : IDisposable
{
    private readonly NotifierOptions options;
    private readonly Dictionary<Type, object> serializers = [];
    private readonly Dictionary<Type, object> deserializers = [];
    private readonly Lock gate = new();

    public KafkaClients(NotifierOptions options, ISchemaRegistryClient? registry = null)
    {
        this.options = options;
        OwnsRegistry = registry is null;
        Registry = registry ?? new CachedSchemaRegistryClient(new SchemaRegistryConfig
        {
            Url = options.SchemaRegistryUrl,
            BasicAuthUserInfo = options.SchemaRegistryBasicAuth,
            BasicAuthCredentialsSource = options.SchemaRegistryBasicAuth is null ? null : AuthCredentialsSource.UserInfo,
        });
    }

    public ISchemaRegistryClient Registry { get; }

    private bool OwnsRegistry { get; }

    /// <summary>A consumer of raw bytes (values are decoded only when their header says they are wanted).</summary>
    public ConsumerBuilder<string, byte[]> Consumer(string? groupId) => new(With(new ConsumerConfig
    {
        BootstrapServers = options.BootstrapServers,
        GroupId = groupId ?? options.GroupId + "-tables", // tables assign their partitions: the group id is never used to commit
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        IsolationLevel = IsolationLevel.ReadCommitted,
        FetchWaitMaxMs = 10,
        SessionTimeoutMs = 10_000,
        HeartbeatIntervalMs = 1_000,
    }));

    /// <summary>The idempotent producer of results and client records (acks=all).</summary>
    public IProducer<string, byte[]> Producer() =>
        new ProducerBuilder<string, byte[]>(With(new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 1,
            Partitioner = Partitioner.Murmur2Random, // as Java clients and Streamiz: one key, one partition, whoever writes it
        })).Build();

    public IAdminClient Admin() => new AdminClientBuilder(With(new AdminClientConfig { BootstrapServers = options.BootstrapServers })).Build();

    public async Task<byte[]> EncodeAsync<T>(string topic, T value)
        where T : class, ISpecificRecord
    {
        IAsyncSerializer<T> serializer;
        lock (gate)
        {
            if (!serializers.TryGetValue(typeof(T), out var existing))
            {
                existing = new AvroSerializer<T>(Registry, new AvroSerializerConfig { AutoRegisterSchemas = true });
                serializers[typeof(T)] = existing;
            }

            serializer = (IAsyncSerializer<T>)existing;
        }

        return await serializer.SerializeAsync(value, new SerializationContext(MessageComponentType.Value, topic));
    }

    /// <summary>A generic record written back with its own (writer) schema: a read-modify-write keeps fields this build does not know.</summary>
    public async Task<byte[]> EncodeGenericAsync(string topic, GenericRecord value)
    {
        IAsyncSerializer<GenericRecord> serializer;
        lock (gate)
        {
            if (!serializers.TryGetValue(typeof(GenericRecord), out var existing))
            {
                existing = new AvroSerializer<GenericRecord>(Registry, new AvroSerializerConfig { AutoRegisterSchemas = true });
                serializers[typeof(GenericRecord)] = existing;
            }

            serializer = (IAsyncSerializer<GenericRecord>)existing;
        }

        return await serializer.SerializeAsync(value, new SerializationContext(MessageComponentType.Value, topic));
    }

    public async Task<T> DecodeAsync<T>(string topic, byte[] value)
    {
        IAsyncDeserializer<T> deserializer;
        lock (gate)
        {
            if (!deserializers.TryGetValue(typeof(T), out var existing))
            {
                existing = new AvroDeserializer<T>(Registry);
                deserializers[typeof(T)] = existing;
            }

            deserializer = (IAsyncDeserializer<T>)existing;
        }

        return await deserializer.DeserializeAsync(value, isNull: false, new SerializationContext(MessageComponentType.Value, topic));
    }

    private T With<T>(T config)
        where T : ClientConfig
    {
        foreach (var (key, value) in options.Kafka)
        {
            config.Set(key, value);
        }

        return config;
    }

    public void Dispose()
    {
        if (OwnsRegistry)
        {
            Registry.Dispose();
        }
    }
}
