using System.Collections.Concurrent;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

namespace GcpStreams.CrmNotifier;

/// <summary>What the notifier needs of a client: how to reach them and in which language.</summary>
public sealed record ClientContact(string ClientId, string? FullName, string? Email, string? Phone, C.ContactChannel Preferred, string? Locale);

/// <summary>
/// CRM's clients (the compacted All_Clients, every partition): contact data for the notifications, and the record the notifier
/// writes the last notification onto. Records are kept as Avro generic records with the schema they were written with, so a
/// read-modify-write keeps every field as it was, even fields this build does not know.
/// </summary>
public sealed partial class ClientDirectory(KafkaClients kafka, IProducer<string, byte[]> producer, TimeProvider time, ILogger<ClientDirectory> logger)
    : TopicFollower(kafka, CrmTopics.Clients, logger)
{
    private readonly ConcurrentDictionary<string, GenericRecord> clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> writers = new(StringComparer.Ordinal);

    /// <summary>The client as last read (or written), or null when All_Clients has no record of them (yet).</summary>
    public ClientContact? Get(string clientId) => clients.TryGetValue(clientId, out var record) ? Contact(clientId, record) : null;

    /// <summary>The client; when unknown, first reads All_Clients up to its present end (a record written just before the order).</summary>
    public async Task<ClientContact?> FindAsync(string clientId, CancellationToken token)
    {
        if (Get(clientId) is { } known)
        {
            return known;
        }

        await CatchUpAsync(token);
        return Get(clientId);
    }

    /// <summary>
    /// Records the notification's final outcome as the client's <c>lastNotification</c> (id, certificate, channel, outcome, time),
    /// keeping the rest of the record as it was: read-modify-write keyed by client id, one writer per client in this instance, and
    /// never over a newer notification. Nothing when All_Clients has no record of the client (CRM's master data decides who exists).
    /// </summary>
    public async Task RecordLastNotificationAsync(string clientId, string certificateId, string notificationId, C.ContactChannel channel, C.NotificationOutcome outcome,
        CancellationToken token)
    {
        var writer = writers.GetOrAdd(clientId, _ => new SemaphoreSlim(1, 1));
        await writer.WaitAsync(token);
        try
        {
            if (!clients.TryGetValue(clientId, out var current))
            {
                LogUnknownClient(logger, notificationId);
                return;
            }

            var now = time.GetUtcNow().UtcDateTime;
            if (current.TryGetValue("lastNotification", out var last) && last is GenericRecord previous && previous.TryGetValue("at", out var at) && at is DateTime previousAt && previousAt > now)
            {
                return; // a newer notification is recorded already
            }

            var updated = Copy(current);
            if (Field(current.Schema, "lastNotification") is { } field && StatusSchema(field.Schema) is { } statusSchema)
            {
                var status = new GenericRecord(statusSchema);
                Set(status, "certificateId", certificateId);
                Set(status, "notificationId", notificationId);
                Set(status, "outcome", Enum(statusSchema, "outcome", outcome.ToString()));
                Set(status, "contactChannel", Enum(statusSchema, "contactChannel", channel.ToString()));
                Set(status, "at", now);
                updated.Add("lastNotification", status);
            }

            Set(updated, "updatedAt", now);
            var value = await Kafka.EncodeGenericAsync(CrmTopics.Clients, updated);
            await producer.ProduceAsync(CrmTopics.Clients, new Message<string, byte[]> { Key = clientId, Value = value }, token);
            clients[clientId] = updated; // write-through: the next notification of this client reads its own write
        }
        finally
        {
            writer.Release();
        }
    }

    protected override async Task OnRecord(ConsumeResult<string, byte[]> record)
    {
        if (record.Message.Key is not { } key)
        {
            return;
        }

        if (record.Message.Value is not { Length: > 0 } value)
        {
            clients.TryRemove(key, out _); // a tombstone: CRM deleted the client
            return;
        }

        var decoded = await Kafka.DecodeAsync<GenericRecord>(CrmTopics.Clients, value);
        clients[key] = decoded;
    }

    private static ClientContact Contact(string clientId, GenericRecord record)
    {
        var preferred = Text(record, "preferredContact") is { } symbol && System.Enum.TryParse<C.ContactChannel>(symbol, out var channel) ? channel : C.ContactChannel.NONE;
        return new ClientContact(clientId, Text(record, "fullName"), Text(record, "email"), Text(record, "phone"), preferred, Text(record, "locale"));
    }

    private static string? Text(GenericRecord record, string name) =>
        record.TryGetValue(name, out var value) ? value switch
        {
            string s => s,
            GenericEnum e => e.Value,
            _ => null,
        } : null;

    private static GenericRecord Copy(GenericRecord record)
    {
        var copy = new GenericRecord(record.Schema);
        foreach (var field in record.Schema.Fields)
        {
            copy.Add(field.Name, record.GetValue(field.Pos));
        }

        return copy;
    }

    private static Field? Field(RecordSchema schema, string name) => schema.TryGetField(name, out var field) ? field : null;

    private static RecordSchema? StatusSchema(Schema schema) => schema switch
    {
        RecordSchema r => r,
        UnionSchema u => u.Schemas.OfType<RecordSchema>().FirstOrDefault(),
        _ => null,
    };

    private static GenericEnum? Enum(RecordSchema schema, string field, string symbol) =>
        Field(schema, field)?.Schema is EnumSchema e ? new GenericEnum(e, e.Symbols.Contains(symbol) ? symbol : e.Symbols[0]) : null;

    private static void Set(GenericRecord record, string name, object? value)
    {
        if (record.Schema.TryGetField(name, out _))
        {
            record.Add(name, value);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {NotificationId}: All_Clients has no record of its client, so no last notification is recorded")]
    private static partial void LogUnknownClient(ILogger logger, string notificationId);
}
