using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>Records the tests send, built as the owning teams build them.</summary>
internal static class Pools
{
    public static C.LoadPool Load(string poolId, C.Channel channel, long nominal, int count, int series) => new()
    {
        poolId = poolId, channel = channel, nominalMinor = nominal, currency = "RUB", count = count, lowWatermark = 0, series = series, importedNumbers = [],
    };

    public static C.ReserveCertificate Reserve(string poolId, C.Channel channel, long nominal, string? orderId) => new()
    {
        poolId = poolId, channel = channel, nominalMinor = nominal, currency = "RUB", orderId = orderId, holdSeconds = 600,
    };

    public static C.SalesOrder PaidOrder(string orderId, string certificateId, string poolId, C.Channel channel, long nominal) => new()
    {
        eventId = Guid.NewGuid().ToString(),
        orderId = orderId,
        transactionId = "tx-" + orderId,
        channel = channel,
        clientId = "client-it",
        status = C.OrderStatus.PAID,
        currency = "RUB",
        totalMinor = nominal,
        certificateLines = [new C.CertificateOrderLine { lineId = "1", certificateId = certificateId, poolId = poolId, nominalMinor = nominal }],
        returnedLineIds = [],
        certificateTenders = [],
        occurredAt = DateTime.UtcNow,
    };

    public static C.Payment Payment(C.PaymentOperation operation, string certificateId, long amount, string? parent, C.Channel channel) => new()
    {
        eventId = Guid.NewGuid().ToString(),
        paymentId = "pay-" + Guid.NewGuid().ToString("N")[..12],
        correlationId = "corr-it",
        operation = operation,
        method = C.PaymentMethod.GIFT_CERTIFICATE,
        certificateId = certificateId,
        parentPaymentId = parent,
        amountMinor = amount,
        currency = "RUB",
        status = C.PaymentStatus.SUCCEEDED,
        channel = channel,
        occurredAt = DateTime.UtcNow,
    };
}
