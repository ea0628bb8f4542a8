using C = GcpStreams.Contracts;

namespace GcpStreams.Traffic;

/// <summary>
/// The records the other teams send, built as they build them: a paid order from Orders (one certificate line), a gift
/// certificate payment from Payments. Shared by the traffic generator, the benchmark and the integration tests.
/// </summary>
public static class TeamRecords
{
    /// <summary>An order (PAID unless said otherwise) selling one certificate of a pool at its nominal.</summary>
    public static C.SalesOrder Order(string orderId, string certificateId, string poolId, C.Channel channel, long nominal, string currency = "RUB",
        C.OrderStatus status = C.OrderStatus.PAID, string clientId = "client-1") => new()
    {
        eventId = Guid.NewGuid().ToString(),
        orderId = orderId,
        transactionId = "tx-" + orderId,
        channel = channel,
        clientId = clientId,
        status = status,
        currency = currency,
        totalMinor = nominal,
        certificateLines = [new C.CertificateOrderLine { lineId = "1", certificateId = certificateId, poolId = poolId, nominalMinor = nominal }],
        returnedLineIds = [],
        certificateTenders = [],
        occurredAt = DateTime.UtcNow,
        correlationId = orderId,
    };

    /// <summary>
    /// A PAID order of the shop (no certificate bought) paid, in part or whole, with a gift certificate: one certificate tender of
    /// <paramref name="amount"/> naming the capture's payment id, as Orders records it alongside the capture Payments records.
    /// </summary>
    public static C.SalesOrder TenderOrder(string orderId, string certificateId, long amount, string paymentId, C.Channel channel, string currency = "RUB",
        string clientId = "client-1") => new()
    {
        eventId = Guid.NewGuid().ToString(),
        orderId = orderId,
        transactionId = "tx-" + orderId,
        channel = channel,
        clientId = clientId,
        status = C.OrderStatus.PAID,
        currency = currency,
        totalMinor = amount,
        certificateLines = [],
        returnedLineIds = [],
        certificateTenders = [new C.CertificateTender { certificateId = certificateId, amountMinor = amount, paymentId = paymentId }],
        occurredAt = DateTime.UtcNow,
        correlationId = orderId,
    };

    private static readonly string[] FirstNames = ["Anna", "Boris", "Clara", "Dmitri", "Elena", "Fedor", "Galina", "Igor", "Julia", "Kirill"];

    /// <summary>
    /// A buyer as CRM publishes it on All_Clients: a name, an e-mail address at example.test (e-mail preferred, the demo's notifier
    /// sends to smtp4dev), a phone, a language (Russian or English).
    /// </summary>
    public static C.Client Client(string clientId, Random random)
    {
        var name = FirstNames[random.Next(FirstNames.Length)];
        return new()
        {
            clientId = clientId,
            fullName = name,
            email = $"{name.ToLowerInvariant()}.{clientId}@example.test",
            phone = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"+7900{random.Next(1_000_000, 9_999_999)}"),
            preferredContact = C.ContactChannel.EMAIL,
            locale = random.Next(2) == 0 ? "ru-RU" : "en",
            updatedAt = DateTime.UtcNow,
        };
    }

    /// <summary>A SUCCEEDED gift-certificate payment with a fresh event id and payment id (<c>pay-…</c>).</summary>
    public static C.Payment Payment(C.PaymentOperation operation, string certificateId, long amount, string? parent, C.Channel channel, string currency = "RUB")
    {
        var paymentId = "pay-" + Guid.NewGuid().ToString("N")[..12];
        return new()
        {
            eventId = Guid.NewGuid().ToString(),
            paymentId = paymentId,
            correlationId = paymentId,
            operation = operation,
            method = C.PaymentMethod.GIFT_CERTIFICATE,
            certificateId = certificateId,
            parentPaymentId = parent,
            amountMinor = amount,
            currency = currency,
            status = C.PaymentStatus.SUCCEEDED,
            channel = channel,
            occurredAt = DateTime.UtcNow,
        };
    }
}
