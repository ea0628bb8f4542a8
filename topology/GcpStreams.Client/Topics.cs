using Avro.Specific;
using Confluent.Kafka;
using C = GcpStreams.Contracts;

namespace GcpStreams.Client;

/// <summary>
/// The public topics of the service (what other teams and the API read or write), named once with their key and value types.
/// Owners and keys are in docs/architecture.md; the topology's internal topics are its own (<c>InternalTopics</c> in
/// GcpStreams.Topology).
/// </summary>
public static class Topics
{
    /// <summary>Orders (Orders team), key orderId.</summary>
    public static readonly Topic<string, C.SalesOrder> SalesOrders = Text<C.SalesOrder>("All_SalesOrder");

    /// <summary>Payment operations (Payments team), key paymentId.</summary>
    public static readonly Topic<string, C.Payment> Payments = Text<C.Payment>("All_Payments");

    /// <summary>Clients (CRM), compacted, key clientId.</summary>
    public static readonly Topic<string, C.Client> Clients = Text<C.Client>("All_Clients", compacted: true);

    /// <summary>Commands from the API, key poolId or certificateId (<c>{client}:{Idempotency-Key}</c> for a command with one).</summary>
    public static readonly Topic<string, C.GiftCertificateCommand> Commands = Text<C.GiftCertificateCommand>("GiftCertificates.Commands");

    /// <summary>Command outcomes, key requestId.</summary>
    public static readonly Topic<string, C.CommandReply> Replies = Text<C.CommandReply>("GiftCertificates.Replies");

    /// <summary>THE typed event stream, key certificateId (poolId for pool events).</summary>
    public static readonly Topic<string, C.GiftCertificateEvent> Stream = Text<C.GiftCertificateEvent>("GiftCertificates.Stream");

    /// <summary>Latest state per certificate, compacted, key certificateId (no secret).</summary>
    public static readonly Topic<string, C.CertificateState> State = Text<C.CertificateState>("GiftCertificates.State", compacted: true);

    /// <summary>One record per API call, key certificateId, poolId or clientId.</summary>
    public static readonly Topic<string, C.AuditRecord> Audit = Text<C.AuditRecord>("GiftCertificates.Audit");

    /// <summary>Input that could not be processed, with the reason and its source coordinates; key the original record's key bytes.</summary>
    public static readonly Topic<byte[], C.DeadLetter> DeadLetter = new("GiftCertificates.DeadLetter", Serializers.ByteArray, Deserializers.ByteArray);

    /// <summary>CRM notifier results, key certificateId.</summary>
    public static readonly Topic<string, C.NotificationResult> NotificationResults = Text<C.NotificationResult>("CRM.NotificationResults");

    /// <summary>The BI daily marts, compacted, key <c>{day}|{channel}</c> (e.g. <c>2026-11-30|POS</c>): the latest record per key is the mart.</summary>
    public static readonly Topic<string, C.DailyReport> DailyReport = Text<C.DailyReport>("GiftCertificates.DailyReport", compacted: true);

    /// <summary>Every public topic.</summary>
    public static readonly IReadOnlyList<ITopic> All = [SalesOrders, Payments, Clients, Commands, Replies, Stream, State, Audit, DeadLetter, NotificationResults, DailyReport];

    /// <summary>The names of the topics other teams write and this service consumes.</summary>
    public static readonly IReadOnlyList<string> Inputs = [SalesOrders.Name, Payments.Name, Clients.Name, Commands.Name, NotificationResults.Name];

    /// <summary>The names of the topics this service writes for others.</summary>
    public static readonly IReadOnlyList<string> Outputs = [Stream.Name, State.Name, Replies.Name, DeadLetter.Name, Audit.Name, DailyReport.Name];

    /// <summary>A topic keyed by text (UTF-8).</summary>
    private static Topic<string, T> Text<T>(string name, bool compacted = false)
        where T : class, ISpecificRecord =>
        new(name, Serializers.Utf8, Deserializers.Utf8, compacted);
}
