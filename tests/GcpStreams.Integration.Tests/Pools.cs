using GcpStreams.Traffic;
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

    public static C.SalesOrder PaidOrder(string orderId, string certificateId, string poolId, C.Channel channel, long nominal) =>
        TeamRecords.Order(orderId, certificateId, poolId, channel, nominal, clientId: "client-it");

    public static C.Payment Payment(C.PaymentOperation operation, string certificateId, long amount, string? parent, C.Channel channel) =>
        TeamRecords.Payment(operation, certificateId, amount, parent, channel);
}
