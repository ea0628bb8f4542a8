using System.Net;
using Confluent.Kafka;
using GcpStreams.Api.Hosting;
using GcpStreams.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Issue 10, M2: a record the stream cannot write (here a dead letter larger than the producer's <c>message.max.bytes</c>,
/// 1,000,000 bytes by default; the embedded broker itself takes larger ones) stops its task. The instance then says so:
/// <c>/health/ready</c> is 503 naming the topic and the error, an error log line names the topic, and an <c>alert</c>
/// <c>PRODUCE_FAILED</c> is on <c>GiftCertificates.Stream</c>.
/// </summary>
[NonParallelizable]
public class ProductionFailureIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task AnOutputRecordTooLargeToProduce_MakesTheInstanceNotReady_NamingTheTopic_LogsAnError_AndAlertsOnTheStream()
    {
        var logs = new CapturedLogs();
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-produce-failed", logging: l => l.AddProvider(logs));
        using var api = new ApiClient(service.Url);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        using (var ready = await api.SendAsync(HttpMethod.Get, "/health/ready", token: null))
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), "ready before");
        }

        // a payment of 1.2 MB: not Avro, so the intake dead-letters it, with its bytes: too large for the stream's producer
        using (var payments = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = service.Kafka.BootstrapServers, MessageMaxBytes = 2_000_000 }).Build())
        {
            await payments.ProduceAsync(Topics.Payments.Name, new Message<byte[], byte[]> { Key = "pay-huge"u8.ToArray(), Value = new byte[1_200_000] });
        }

        var failures = service.Services.GetRequiredService<ProductionFailures>();
        await Kafka.Eventually(() => failures.First is not null, "the production failure", Timeout);
        var (status, body, response) = await api.CallAsync(HttpMethod.Get, "/health/ready", token: null);
        response.Dispose();
        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), body.ToString());
        var detail = body!.Value.GetProperty("detail").GetString();
        Assert.That(detail, Does.Contain($"could not write a record to {Topics.DeadLetter}").And.Contain("MsgSizeTooLarge"));
        Assert.That(body.Value.GetProperty("productionFailure").GetProperty("topic").GetString(), Is.EqualTo(Topics.DeadLetter.Name));
        Assert.That(logs.Lines.Where(l => l.StartsWith("Error GcpStreams.Api.Hosting.ProductionFailures", StringComparison.Ordinal)),
            Has.Some.Contains($"Could not produce to {Topics.DeadLetter}"));

        C.Alert? alert = null;
        await Kafka.Eventually(() =>
        {
            alert = Kafka.ReadStream(service.Kafka.BootstrapServers, service.Registry)
                .Select(e => e.Event.payload).OfType<C.Alert>().FirstOrDefault(a => a.kind == C.AlertKind.PRODUCE_FAILED);
            return alert is not null;
        }, "the PRODUCE_FAILED alert on the stream", Timeout);
        Assert.That(alert!.severity, Is.EqualTo(C.AlertSeverity.CRITICAL));
        Assert.That((alert.details["topic"], alert.details["error"], alert.details["recordKey"]), Is.EqualTo((Topics.DeadLetter.Name, "MsgSizeTooLarge", "pay-huge")));
    }
}
