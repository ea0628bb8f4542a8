using GcpStreams.Client;
using GcpStreams.Topology;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>The other teams' and the API's records, built the way they send them, piped into the topology under test.</summary>
internal static class Inputs
{
    public const string Pool = "pos-5000-rub";
    public const string WebPool = "web-5000-rub";
    public const long Nominal = 5_000_00;
    public const string Rub = "RUB";
    public const string ApiInstance = "api-1";
    public const string Caller = "pos-terminal-7";
    public const string Agent = "agent.ivanova";

    public static void LoadPool(this TopologyFixture f, string poolId = Pool, C.Channel channel = C.Channel.POS, int count = 5, int lowWatermark = 0, int series = 1, long nominal = Nominal,
        string? requestId = null) =>
        f.Command(poolId, new C.LoadPool { poolId = poolId, channel = channel, nominalMinor = nominal, currency = Rub, count = count, lowWatermark = lowWatermark, series = series, importedNumbers = [] },
            requestId);

    /// <summary>Sends an API command as the API does: keyed by <paramref name="key"/>, or by the caller's key when it carries an Idempotency-Key.</summary>
    public static string Command(this TopologyFixture f, string key, object payload, string? requestId = null, DateTime? at = null, string? idempotencyKey = null, string? recordKey = null,
        string caller = Caller)
    {
        var id = requestId ?? f.NextId("req");
        f.PipeCommand(recordKey ?? (idempotencyKey is null ? key : IdempotencyKeys.Scoped(caller, idempotencyKey)), NewCommand(payload, id, at, idempotencyKey, caller));
        return id;
    }

    /// <summary>An API command as the API builds it (not yet signed nor sent).</summary>
    public static C.GiftCertificateCommand NewCommand(object payload, string requestId, DateTime? at = null, string? idempotencyKey = null, string caller = Caller) => new()
    {
        requestId = requestId,
        replyTo = ApiInstance,
        idempotencyKey = idempotencyKey,
        caller = caller,
        correlationId = "corr-" + requestId,
        issuedAt = at ?? TopologyFixture.T0,
        payload = payload,
    };

    /// <summary>Reserves through the pool and returns the reply (ACCEPTED with the certificate id, or REJECTED).</summary>
    public static C.CommandReply Reserve(this TopologyFixture f, string poolId = Pool, C.Channel channel = C.Channel.POS, string? orderId = "order-1", int holdSeconds = 900, DateTime? at = null, long nominal = Nominal)
    {
        var id = f.Command(poolId, new C.ReserveCertificate { poolId = poolId, channel = channel, nominalMinor = nominal, currency = Rub, orderId = orderId, holdSeconds = holdSeconds }, at: at);
        return f.Replies().Single(r => r.Value.requestId == id).Value;
    }

    public static void PayOrder(this TopologyFixture f, string certificateId, string orderId = "order-1", string poolId = Pool, C.Channel channel = C.Channel.POS, string? clientId = "client-1", DateTime? at = null, string? eventId = null, long nominal = Nominal) =>
        f.Pipe(Topics.SalesOrders, orderId, Order(f, certificateId, orderId, poolId, channel, clientId, at, eventId, C.OrderStatus.PAID, nominal));

    public static void ReturnOrder(this TopologyFixture f, string certificateId, string orderId = "order-1", string poolId = Pool, C.Channel channel = C.Channel.POS) =>
        f.Pipe(Topics.SalesOrders, orderId, Order(f, certificateId, orderId, poolId, channel, "client-1", null, null, C.OrderStatus.RETURNED));

    public static C.SalesOrder Order(TopologyFixture f, string certificateId, string orderId, string poolId, C.Channel channel, string? clientId, DateTime? at, string? eventId, C.OrderStatus status, long nominal = Nominal) => new()
    {
        eventId = eventId ?? f.NextId("order-evt"),
        orderId = orderId,
        transactionId = "tx-" + orderId,
        channel = channel,
        storeId = "store-12",
        clientId = clientId,
        status = status,
        currency = Rub,
        totalMinor = nominal,
        certificateLines = [new C.CertificateOrderLine { lineId = "l1", certificateId = certificateId, poolId = poolId, nominalMinor = nominal }],
        returnedLineIds = [],
        certificateTenders = [],
        occurredAt = at ?? TopologyFixture.T0.AddMinutes(1),
        correlationId = "corr-" + orderId,
    };

    /// <summary>Reserves, pays and returns the id of an issued certificate (outputs so far are drained).</summary>
    public static string IssuedCertificate(this TopologyFixture f, string poolId = Pool, C.Channel channel = C.Channel.POS, string orderId = "order-1", long nominal = Nominal)
    {
        var id = f.Reserve(poolId, channel, orderId, nominal: nominal).certificateId;
        f.PayOrder(id, orderId, poolId, channel, nominal: nominal);
        f.Drain();
        return id;
    }

    public static C.Payment Payment(TopologyFixture f, C.PaymentOperation operation, string? certificateId, long amount, string? parent = null, C.Channel channel = C.Channel.POS, string? paymentId = null, string? eventId = null, string currency = Rub) => new()
    {
        eventId = eventId ?? f.NextId("pay-evt"),
        paymentId = paymentId ?? f.NextId("pay"),
        orderId = "order-9",
        correlationId = "corr-pay",
        operation = operation,
        method = C.PaymentMethod.GIFT_CERTIFICATE,
        certificateId = certificateId,
        parentPaymentId = parent,
        amountMinor = amount,
        currency = currency,
        status = C.PaymentStatus.SUCCEEDED,
        channel = channel,
        storeId = "store-12",
        occurredAt = TopologyFixture.T0.AddMinutes(5),
    };

    public static C.Payment Pay(this TopologyFixture f, C.PaymentOperation operation, string certificateId, long amount, string? parent = null, C.Channel channel = C.Channel.POS, string? paymentId = null, string? eventId = null, string currency = Rub)
    {
        var payment = Payment(f, operation, certificateId, amount, parent, channel, paymentId, eventId, currency);
        f.Pipe(Topics.Payments, payment.paymentId, payment);
        return payment;
    }

    /// <summary>
    /// Lets every record already written to an internal topic be processed: the synchronous test driver runs the tasks in the
    /// order they were created, so a record one task writes for a task created before it waits for the next input. This pipes
    /// an input that no processor acts on (a card payment of no order).
    /// </summary>
    public static void Settle(this TopologyFixture f)
    {
        var card = Payment(f, C.PaymentOperation.CAPTURE, null, 1_00, paymentId: f.NextId("settle"));
        (card.method, card.orderId) = (C.PaymentMethod.CARD, null);
        f.Pipe(card);
    }

    /// <summary>Pipes a payment record as built (e.g. a re-delivery of one already sent).</summary>
    public static void Pipe(this TopologyFixture f, C.Payment payment) => f.Pipe(Topics.Payments, payment.paymentId, payment);

    /// <summary>A CRM client record on the compacted All_Clients topic (key clientId).</summary>
    public static void Client(this TopologyFixture f, string clientId, C.ContactChannel preferredContact) =>
        f.Pipe(Topics.Clients, clientId, new C.Client
        {
            clientId = clientId,
            fullName = "Client " + clientId,
            email = clientId + "@example.org",
            phone = "+7 900 000 00 00",
            preferredContact = preferredContact,
            updatedAt = TopologyFixture.T0,
        });

    /// <summary>Sends an API command to a certificate and returns its reply.</summary>
    public static C.CommandReply CertificateCommand(this TopologyFixture f, string certificateId, object payload, string? requestId = null)
    {
        var id = f.Command(certificateId, payload, requestId);
        return f.Replies().Single(r => r.Value.requestId == id).Value;
    }

    public static C.CommandReply Lock(this TopologyFixture f, string certificateId, string reason = "card reported stolen") =>
        f.CertificateCommand(certificateId, new C.LockCertificate { certificateId = certificateId, reason = reason });

    public static C.CommandReply Unlock(this TopologyFixture f, string certificateId, string reason = "owner identified") =>
        f.CertificateCommand(certificateId, new C.UnlockCertificate { certificateId = certificateId, reason = reason });

    public static C.CommandReply RevealCvc(this TopologyFixture f, string certificateId, string notificationId) =>
        f.CertificateCommand(certificateId, new C.RevealCvc { certificateId = certificateId, kind = C.DisclosureKind.NOTIFICATION, notificationId = notificationId });

    /// <summary>
    /// A support disclosure as the API sends it: the ticket and agent of a verified grant, keyed by the caller's key
    /// (<see cref="SupportDisclosureKeys.RecordKey"/>), so the intake counts it against the caller's daily cap; the reply.
    /// </summary>
    public static C.CommandReply RevealCvcToSupport(this TopologyFixture f, string certificateId, string supportTicket, string reason = "buyer lost the e-mail", string? agent = Agent,
        string caller = Caller, DateTime? at = null, string? recordKey = null)
    {
        var id = f.Command(certificateId, new C.RevealCvc { certificateId = certificateId, kind = C.DisclosureKind.SUPPORT, supportTicket = supportTicket, reason = reason, agent = agent },
            at: at, recordKey: recordKey ?? SupportDisclosureKeys.RecordKey(caller), caller: caller);
        return f.Replies(id);
    }

    /// <summary>What the CRM notifier reports for one attempt (CRM.NotificationResults, key certificateId).</summary>
    public static void NotificationResult(this TopologyFixture f, string certificateId, string notificationId, C.NotificationOutcome outcome, int attempt = 1, string? reason = null, C.ContactChannel contact = C.ContactChannel.SMS,
        bool? willRetry = null) =>
        f.Pipe(Topics.NotificationResults, certificateId, new C.NotificationResult
        {
            eventId = f.NextId("crm-evt"),
            notificationId = notificationId,
            certificateId = certificateId,
            clientId = "client-1",
            contactChannel = contact,
            outcome = outcome,
            attempt = attempt,
            reason = reason,
            willRetry = willRetry,
            occurredAt = TopologyFixture.T0.AddMinutes(2),
        });

    /// <summary>Support asks for the notification again (<c>POST /certificates/{id}/notifications</c>); the reply.</summary>
    public static C.CommandReply RequestNotification(this TopologyFixture f, string certificateId, string reason = "buyer lost the e-mail") =>
        f.CertificateCommand(certificateId, new C.RequestNotification { certificateId = certificateId, reason = reason });

    /// <summary>The reply to one request (the replies read before it are dropped).</summary>
    public static C.CommandReply Replies(this TopologyFixture f, string requestId) => f.Replies().Single(r => r.Value.requestId == requestId).Value;

    public static void Drain(this TopologyFixture f)
    {
        f.Events();
        f.States();
        f.Replies();
        f.DeadLetters();
    }

    public static T Payload<T>(this Output<C.GiftCertificateEvent> e)
        where T : class => e.Value.payload as T ?? throw new AssertionException($"{e.Value.eventType} carries {e.Value.payload?.GetType().Name}, not {typeof(T).Name}");
}

/// <summary>Short reads of decoded outputs for assertions.</summary>
internal static class Outputs
{
    public static string[] Types(this IEnumerable<Output<C.GiftCertificateEvent>> events) => [.. events.Select(e => e.Value.eventType)];

    public static Output<C.GiftCertificateEvent> One(this IEnumerable<Output<C.GiftCertificateEvent>> events, string eventType) =>
        events.Where(e => e.Value.eventType == eventType).ToList() is [var one]
            ? one
            : throw new AssertionException($"expected exactly one {eventType}, got: {string.Join(", ", events.Types())}");

    public static C.OperationRejected Rejection(this IEnumerable<Output<C.GiftCertificateEvent>> events) =>
        events.One("operation.rejected").Payload<C.OperationRejected>();

    /// <summary>Asserts that every event is the Info alert DUPLICATE_EVENT of an ignored duplicate, each with an id of its own; returns them.</summary>
    public static List<Output<C.GiftCertificateEvent>> Duplicates(this IEnumerable<Output<C.GiftCertificateEvent>> events, int count)
    {
        var list = events.ToList();
        Assert.That(list, Has.Count.EqualTo(count));
        Assert.That(list.Select(e => (e.Value.eventType, e.Payload<C.Alert>().kind, e.Payload<C.Alert>().severity)),
            Is.All.EqualTo(("alert", C.AlertKind.DUPLICATE_EVENT, C.AlertSeverity.INFO)), "an ignored duplicate is said, nothing else");
        Assert.That(list.Select(e => e.Value.eventId).Distinct().Count(), Is.EqualTo(count), "each delivery's alert has an id of its own");
        return list;
    }

    public static C.Alert Alert(this IEnumerable<Output<C.GiftCertificateEvent>> events) =>
        events.One("alert").Payload<C.Alert>();
}
