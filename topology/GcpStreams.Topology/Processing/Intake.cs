using System.Text.RegularExpressions;
using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Domain.Pools;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Mapping;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// First step for every input topic: decode the Avro bytes, validate the content, and route each command to its single owner
/// through an internal topic (pools by pool id, certificate ledgers by certificate id). Everything else is dead-lettered
/// with a reason, or ignored when it is not the service's business (a card payment, an unpaid order).
/// </summary>
public sealed partial class IntakeTransformer : RecordTransformer
{
    private readonly TopologySettings settings;
    private IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>>? clients;
    private IdempotencyGate gate = null!;
    private SupportDisclosureGate supportDisclosures = null!;

    /// <summary>
    /// For Streamiz's <c>TransformerBuilder.Transformer&lt;T&gt;(params)</c>, which creates a prototype with <c>new T()</c> and then one
    /// instance per task through the constructor that takes the parameters. The prototype never processes a record.
    /// </summary>
    public IntakeTransformer()
        : base(null!, null!)
    {
        settings = null!;
    }

    public IntakeTransformer(Codec codec, TopologySettings settings)
        : base(codec, settings)
    {
        this.settings = settings;
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        clients = (IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>>)context.GetStateStore(StoreNames.Clients);
        var keys = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.IdempotencyKeys);
        gate = new IdempotencyGate(keys, settings.IdempotencyKeyRetention);
        supportDisclosures = new SupportDisclosureGate(keys, settings.SupportDisclosuresPerClientPerDay); // swept by gate.Forget
        context.Schedule(settings.ReservationSweepInterval, PunctuationType.PROCESSING_TIME, gate.Forget);
    }

    /// <summary>
    /// Of the intake's inputs, only the API's commands are signed (with the command signing key): the other teams' topics are
    /// guarded by their write ACLs (docs/operations.md).
    /// </summary>
    protected override bool Signed(string topic) => topic == Topics.Commands.Name;

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source) =>
        source.Topic switch
        {
            var t when t == Topics.SalesOrders.Name => Order(Codec.Decode(Topics.SalesOrders, record.Value, record.Headers), source),
            var t when t == Topics.Payments.Name => Payment(Codec.Decode(Topics.Payments, record.Value, record.Headers), source),
            var t when t == Topics.Commands.Name => Command(Codec.Decode(Topics.Commands, record.Value, record.Headers), source),
            var t when t == Topics.NotificationResults.Name => NotificationResult(Codec.Decode(Topics.NotificationResults, record.Value, record.Headers), source),
            _ => throw new InvalidOperationException($"no intake for topic {source.Topic}"),
        };

    private IReadOnlyList<Outgoing> Order(C.SalesOrder order, SourceRecord source)
    {
        Require(order.eventId, "eventId");
        Require(order.orderId, "orderId");
        var at = At(order.occurredAt);
        var channel = Channel(order.channel);
        switch (order.status)
        {
            case C.OrderStatus.PAID:
                RequireCurrency(order.currency);
                foreach (var line in order.certificateLines)
                {
                    Require(line.lineId, "certificateLines.lineId");
                    Require(line.certificateId, "certificateLines.certificateId");
                    RequirePoolId(line.poolId);
                    RequirePositive(line.nominalMinor, "certificateLines.nominalMinor");
                }

                return
                [
                    .. order.certificateLines.Select(line => ToPool(new IssueReserved(
                        line.poolId, LineCausation(order.eventId, line.lineId), at, line.certificateId, order.orderId,
                        line.recipientClientId ?? order.clientId, ContactOf(line.recipientClientId ?? order.clientId), channel, line.nominalMinor, order.currency),
                        order.correlationId, source)),
                ];
            case C.OrderStatus.RETURNED:
                var returned = order.returnedLineIds.Count == 0
                    ? order.certificateLines
                    : [.. order.certificateLines.Where(l => order.returnedLineIds.Contains(l.lineId))];
                return
                [
                    .. returned.Select(line => ToCertificate(new CancelCertificate(
                        line.certificateId, LineCausation(order.eventId, line.lineId), at, order.orderId, "order returned"), order.correlationId, source)),
                ];
            case C.OrderStatus.CREATED:
                // nothing is issued before payment; the order processor remembers the lines, to release them if a payment fails
                return order.certificateLines.Count == 0
                    ? []
                    : [ToOrders(order.orderId, order.eventId, at, [.. order.certificateLines.Select(Reserved)], null, order.correlationId, source)];
            case C.OrderStatus.CANCELLED:
                // the order will not be paid: its reservations go back to their pools at once
                return
                [
                    .. order.certificateLines.Select(Reserved).Select(line => ToPool(new ReleaseReservation(
                        line.PoolId, LineCausation(order.eventId, line.LineId), at, line.CertificateId, order.orderId, "order cancelled"), order.correlationId, source)),
                ];
            default:
                throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"order status {order.status} is not one this service knows");
        }
    }

    private IReadOnlyList<Outgoing> Payment(C.Payment payment, SourceRecord source)
    {
        if (payment.status == C.PaymentStatus.FAILED && !string.IsNullOrWhiteSpace(payment.orderId))
        {
            // a failed payment of an order (any method): the certificates the order reserved go back to their pools at once
            Require(payment.eventId, "eventId");
            return [ToOrders(payment.orderId, payment.eventId, At(payment.occurredAt), null, Require(payment.paymentId, "paymentId"), payment.correlationId, source)];
        }

        if (payment.method != C.PaymentMethod.GIFT_CERTIFICATE || payment.status is C.PaymentStatus.FAILED or C.PaymentStatus.PENDING)
        {
            return []; // not a certificate tender, or no money moves (yet): only SUCCEEDED operations touch a ledger
        }

        if (payment.status != C.PaymentStatus.SUCCEEDED)
        {
            throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"payment status {payment.status} is not one this service knows");
        }

        Require(payment.eventId, "eventId");
        Require(payment.paymentId, "paymentId");
        Require(payment.certificateId, "certificateId (a GIFT_CERTIFICATE payment must name its certificate)");
        var at = At(payment.occurredAt);
        var channel = Channel(payment.channel);
        var id = payment.certificateId;
        CertificateCommand command = payment.operation switch
        {
            C.PaymentOperation.AUTHORIZE => new AuthorizePayment(id, payment.eventId, at, payment.paymentId, Amount(payment), Currency(payment), channel),
            C.PaymentOperation.CAPTURE => new CapturePayment(id, payment.eventId, at, payment.paymentId, payment.parentPaymentId, Amount(payment), Currency(payment), channel),
            C.PaymentOperation.VOID => new VoidAuthorization(id, payment.eventId, at, payment.paymentId, Require(payment.parentPaymentId, "parentPaymentId (a VOID names its AUTHORIZE)"), channel),
            C.PaymentOperation.REFUND => new RefundPayment(id, payment.eventId, at, payment.paymentId, payment.parentPaymentId, Amount(payment), Currency(payment), channel),
            _ => throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"payment operation {payment.operation} is not one this service knows"),
        };
        return [ToCertificate(command, payment.correlationId, source, storeId: string.IsNullOrWhiteSpace(payment.storeId) ? null : payment.storeId)];
    }

    /// <summary>
    /// An API command (its signature was checked before it was decoded) that cannot be carried out is dead-lettered, and its
    /// caller gets a REJECTED reply at once. A stale command, or a copy of one already carried out, is dead-lettered
    /// (REPLAYED) without a reply: whoever wrote the copy is not the caller waiting for it.
    /// </summary>
    private IReadOnlyList<Outgoing> Command(C.GiftCertificateCommand command, SourceRecord source)
    {
        if (Replay(command, source) is { } replayed)
        {
            return DeadLetter(source, C.DeadLetterReason.REPLAYED, replayed);
        }

        try
        {
            return RouteCommand(command, source);
        }
        catch (InvalidInputException e) when (command.replyTo is not null && !string.IsNullOrWhiteSpace(command.requestId))
        {
            return
            [
                .. DeadLetter(source, e.Reason, e.Message),
                Codec.Reply(Replies.Refused(command, nameof(C.RejectionReason.UNKNOWN), e.Message)),
            ];
        }
    }

    /// <summary>
    /// Why a signed command is not carried out, or null: its <c>issuedAt</c> is further than <see cref="TopologySettings.CommandMaxAge"/>
    /// from the time its record was appended to the topic (the broker's time with <c>message.timestamp.type=LogAppendTime</c>), or
    /// its request id was carried out already from another record (a copy within the window). The same record read again (a
    /// restart before its offset was committed) is not a copy: the owners recognise their own duplicates.
    /// </summary>
    private string? Replay(C.GiftCertificateCommand command, SourceRecord source)
    {
        var issuedAt = At(command.issuedAt);
        var appended = DateTimeOffset.FromUnixTimeMilliseconds(source.Timestamp);
        var skew = (appended - issuedAt).Duration();
        if (skew > settings.CommandMaxAge)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"command {command.requestId} was issued at {issuedAt:O} but appended at {appended:O}: {skew.TotalSeconds:F0} s apart, more than the {settings.CommandMaxAge.TotalSeconds:F0} s allowed (a replay, or the API's clock is off)");
        }

        return string.IsNullOrWhiteSpace(command.requestId) || gate.FirstSeen(command.requestId, source, issuedAt + (2 * settings.CommandMaxAge)) is not { } first
            ? null
            : $"request {command.requestId} was carried out already from {first}; this is a copy";
    }

    private IReadOnlyList<Outgoing> RouteCommand(C.GiftCertificateCommand command, SourceRecord source)
    {
        Require(command.requestId, "requestId");
        var at = At(command.issuedAt);
        var caller = string.IsNullOrWhiteSpace(command.caller) ? "unknown" : command.caller;
        var request = command.requestId;
        return command.payload switch
        {
            C.ReserveCertificate r => [ToPoolOrRefuse(new ReserveNext(RequirePoolId(r.poolId), request, at, request, Channel(r.channel), r.nominalMinor, RequireCurrency(r.currency), r.orderId,
                TimeSpan.FromSeconds(r.holdSeconds > 0 ? r.holdSeconds : settings.DefaultReservationHold.TotalSeconds),
                IdempotencyKeyOf(command), Fingerprint(r), caller), command, source, caller)],
            C.LoadPool l => [ToPoolOrRefuse(new LoadPool(RequirePoolId(l.poolId), request, at, Channel(l.channel), l.nominalMinor, RequireCurrency(l.currency), l.lowWatermark,
                l.series, l.count, [.. l.importedNumbers], IdempotencyKeyOf(command), Fingerprint(l)), command, source, caller)],
            C.LockCertificate l => [ToCertificate(new LockCertificate(Require(l.certificateId, "certificateId"), request, at, Require(l.reason, "reason"), caller), command.correlationId, source, command.replyTo, caller)],
            C.UnlockCertificate u => [ToCertificate(new UnlockCertificate(Require(u.certificateId, "certificateId"), request, at, Require(u.reason, "reason"), caller), command.correlationId, source, command.replyTo, caller)],
            C.RevealCvc r => ToCertificateWithinClientCap(new RevealCvc(Require(r.certificateId, "certificateId"), request, at, request,
                EnumMap.Convert<C.DisclosureKind, DisclosureKind>(r.kind == C.DisclosureKind.UNKNOWN ? throw Invalid("kind") : r.kind), r.notificationId, r.supportTicket, r.reason, caller, r.agent),
                command, source),
            C.RequestNotification n => [ToCertificate(new RequestNotification(Require(n.certificateId, "certificateId"), request, at, Require(n.reason, "reason"), caller),
                command.correlationId, source, command.replyTo, caller)],
            _ => throw Invalid($"payload {command.payload?.GetType().Name ?? "null"}"),
        };
    }

    private IReadOnlyList<Outgoing> NotificationResult(C.NotificationResult result, SourceRecord source)
    {
        Require(result.eventId, "eventId");
        Require(result.certificateId, "certificateId");
        Require(result.notificationId, "notificationId");
        var outcome = result.outcome switch
        {
            C.NotificationOutcome.SENT => NotificationOutcome.Sent,
            C.NotificationOutcome.FAILED => NotificationOutcome.Failed,
            _ => throw Invalid($"outcome {result.outcome}"),
        };
        var contact = EnumMap.Convert<C.ContactChannel, ContactChannel>(result.contactChannel);
        return
        [
            ToCertificate(new RecordNotificationResult(result.certificateId, result.eventId, At(result.occurredAt), result.notificationId, contact, outcome,
                result.attempt, result.reason, WillRetry: outcome == NotificationOutcome.Failed && (result.willRetry ?? result.attempt < settings.NotificationMaxAttempts)), null, source),
        ];
    }

    private Outgoing ToPool(PoolCommand command, string? correlationId, SourceRecord source) =>
        PoolProcessor.Input(Internals, command, correlationId, source);

    /// <summary>
    /// A reservation or load goes to its pool. With an Idempotency-Key it must first pass the key's claim, kept here: the
    /// command is keyed by the caller's key, so this task owns the key; the same key with another request is refused at once.
    /// </summary>
    private Outgoing ToPoolOrRefuse(PoolCommand command, C.GiftCertificateCommand api, SourceRecord source, string caller)
    {
        var (idempotencyKey, fingerprint) = command switch
        {
            ReserveNext r => (r.IdempotencyKey, r.RequestFingerprint),
            LoadPool l => (l.IdempotencyKey, l.RequestFingerprint),
            _ => (null, string.Empty),
        };
        if (idempotencyKey is not null)
        {
            var recordKey = source.Key is { } k ? System.Text.Encoding.UTF8.GetString(k) : null;
            if (recordKey != idempotencyKey)
            {
                throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT,
                    $"a command with an Idempotency-Key must be keyed by '{{caller}}:{{key}}' ('{idempotencyKey}'), not '{recordKey}'");
            }

            if (gate.Conflict(idempotencyKey, fingerprint, command.PoolId, command.CausationId, command.At) is { } first)
            {
                return Codec.Reply(Replies.Refused(api, nameof(C.RejectionReason.IDEMPOTENCY_CONFLICT),
                    $"idempotency key '{api.idempotencyKey}' was used for another request (pool {first.PoolId}, request {first.RequestId})", command.PoolId));
            }
        }

        return PoolProcessor.Input(Internals, command, api.correlationId, source, api.replyTo, caller);
    }

    private Outgoing ToCertificate(CertificateCommand command, string? correlationId, SourceRecord source, string? replyTo = null, string? caller = null, string? storeId = null) =>
        CertificateProcessor.Input(Internals, command, correlationId, source, replyTo, caller, storeId);

    private Outgoing ToOrders(string orderId, string causationId, DateTimeOffset at, IReadOnlyList<ReservedLine>? placed, string? failedPaymentId, string? correlationId, SourceRecord source) =>
        Internals.OrderInput.Record(orderId, new OrderInput(orderId, causationId, at, placed, failedPaymentId, correlationId, source));

    /// <summary>A certificate line of an order as the pools know it; its fields are checked as for a paid order.</summary>
    private static ReservedLine Reserved(C.CertificateOrderLine line) =>
        new(Require(line.lineId, "certificateLines.lineId"), Require(line.certificateId, "certificateLines.certificateId"), RequirePoolId(line.poolId));

    private ContactChannel ContactOf(string? clientId) => ClientContacts.Of(clients, Codec, clientId);

    /// <summary>An idempotency key is the caller's: two callers may use the same key without meeting.</summary>
    private static string? IdempotencyKeyOf(C.GiftCertificateCommand command) =>
        string.IsNullOrWhiteSpace(command.idempotencyKey) ? null : IdempotencyKeys.Scoped(command.caller, command.idempotencyKey);

    /// <summary>What makes two reservation requests "the same request" for an idempotency key.</summary>
    private static string Fingerprint(C.ReserveCertificate r) =>
        DeterministicId.Derive("reserve", r.poolId, r.channel.ToString(), r.nominalMinor.ToString(System.Globalization.CultureInfo.InvariantCulture), r.currency ?? string.Empty,
            r.orderId ?? string.Empty, r.holdSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>What makes two loads "the same request" for an idempotency key.</summary>
    private static string Fingerprint(C.LoadPool l) =>
        DeterministicId.Derive("load", l.poolId, l.channel.ToString(), l.nominalMinor.ToString(System.Globalization.CultureInfo.InvariantCulture), l.currency ?? string.Empty,
            l.count.ToString(System.Globalization.CultureInfo.InvariantCulture), l.lowWatermark.ToString(System.Globalization.CultureInfo.InvariantCulture),
            l.series?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, string.Join(',', l.importedNumbers ?? []));

    private static string LineCausation(string eventId, string lineId) => $"{eventId}/{lineId}";

    private static DateTimeOffset At(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private static Channel Channel(C.Channel channel) =>
        channel == C.Channel.UNKNOWN ? throw Invalid("channel (UNKNOWN is not a sales channel)") : EnumMap.Convert<C.Channel, Channel>(channel);

    private static long Amount(C.Payment payment) => RequirePositive(payment.amountMinor, "amountMinor");

    private static string Currency(C.Payment payment) => RequireCurrency(payment.currency);

    private static string Require(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw Invalid(field) : value;

    private static string RequirePoolId(string? poolId) =>
        poolId is not null && PoolIdFormat().IsMatch(poolId) ? poolId : throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"pool id '{poolId}' must be 1-64 letters, digits, '.', '_' or '-'");

    private static long RequirePositive(long value, string field) =>
        value > 0 ? value : throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"{field} must be positive, was {value}");

    private static string RequireCurrency(string? currency) =>
        currency is not null && CurrencyCode().IsMatch(currency) ? currency : throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT, $"currency '{currency}' is not an ISO 4217 code");

    private static InvalidInputException Invalid(string field) => new(C.DeadLetterReason.INVALID_CONTENT, $"missing or invalid {field}");

    [GeneratedRegex(@"^[A-Z]{3}\z")]
    private static partial Regex CurrencyCode();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex PoolIdFormat();
}
