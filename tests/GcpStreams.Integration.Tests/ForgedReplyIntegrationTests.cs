using System.Net;
using System.Text;
using Confluent.Kafka;
using GcpStreams.Api.Security;
using GcpStreams.Client;
using Microsoft.Extensions.Logging;
using C = GcpStreams.Contracts;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// Issue 10, M3: someone who can read <c>GiftCertificates.Commands</c> and write <c>GiftCertificates.Replies</c> answers a CVC
/// request before the topology does. The API takes no reply the topology did not sign, nor one about another certificate: the
/// caller gets the normal 504 and never a CVC; each forged reply is dropped, counted and logged as a warning.
/// </summary>
[NonParallelizable]
public class ForgedReplyIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    public async Task ForgedAcceptedRepliesToAPendingRevealCvc_GiveNoCvc_TheCallerGets504_AndEachIsDropped()
    {
        var logs = new CapturedLogs();
        await using var service = await ServiceInstance.StartEmbeddedAsync("gcp-it-forged-replies",
            new Dictionary<string, string?> { ["Gcp:CommandTimeoutSeconds"] = "5" }, l => l.AddProvider(logs));
        using var api = new ApiClient(service.Url);
        await Kafka.Eventually(() => service.Commands.IsOpen, "the API's command channel to open", Timeout);
        var load = await api.CallAsync(HttpMethod.Post, "/pools/it-forged-pool/certificates", await api.TokenAsync(DevClients.Admin),
            """{"channel":"POS","nominalMinor":100000,"currency":"RUB","count":2,"series":980}""");
        load.Response.Dispose();
        Assert.That(load.Status, Is.EqualTo(HttpStatusCode.Created), load.Body.ToString());
        var reserve = await api.CallAsync(HttpMethod.Post, "/certificates/next", await api.TokenAsync(DevClients.PosTerminal),
            """{"poolId":"it-forged-pool","channel":"POS","nominalMinor":100000,"currency":"RUB","orderId":"order-forged","holdSeconds":600}""");
        reserve.Response.Dispose();
        var id = reserve.Body!.Value.GetProperty("certificateId").GetString()!;
        var other = "7700000000009999";

        // the topology stops answering (its stream closes); the API and its command channel go on
        await Task.Run(() => service.Stream.Stream!.Dispose());

        // the forger: reads the commands topic from its end, answers the first RevealCvc three ways
        using var forger = new Forger(service.Kafka.BootstrapServers, service.Registry, service.Signer);
        var forging = Task.Run(() => forger.AnswerFirstRevealCvc(other, Timeout));
        var crm = await api.TokenAsync(DevClients.CrmNotifier);
        using var response = await api.SendAsync(HttpMethod.Get, $"/certificates/{id}/cvc?notificationId=n-forged", crm);
        var body = await response.Content.ReadAsStringAsync();
        var forged = await forging;

        Assert.That(forged.requestId, Is.Not.Null, "the forger saw the command");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.GatewayTimeout), body);
        Assert.That(body, Does.Contain("command-timeout").And.Not.Contain("\"cvc\""), "no CVC");
        await Kafka.Eventually(() => service.Commands.DroppedReplies == 3, "the three forged replies to be dropped", Timeout);
        Assert.That(logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("dropped the reply", StringComparison.Ordinal)), Has.Exactly(3).Items);
        Assert.That(logs.Lines.Any(l => l.Contains("not signed with the command signing key", StringComparison.Ordinal)), Is.True, "the unsigned one says so");
        Assert.That(logs.Lines.Any(l => l.Contains($"about certificate '{other}'", StringComparison.Ordinal)), Is.True, "the one about another certificate says so");
    }

    /// <summary>Writes replies as someone with write access to the replies topic would: unsigned, signed with a guessed key, or a signed one about another certificate.</summary>
    private sealed class Forger(string bootstrapServers, Confluent.SchemaRegistry.ISchemaRegistryClient registry, RecordSigner serviceSigner) : IDisposable
    {
        private readonly Codec codec = new(registry);
        private readonly IConsumer<byte[], byte[]> commands = CommandChannel.OpenAtEnd(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "it-forger",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }, Topics.Commands.Name);

        private readonly IProducer<byte[], byte[]> producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers }).Build();

        public C.GiftCertificateCommand AnswerFirstRevealCvc(string otherCertificate, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (commands.Consume(TimeSpan.FromMilliseconds(100)) is not { } record)
                {
                    continue;
                }

                var command = codec.Decode(Topics.Commands, record.Message.Value);
                if (command.payload is not C.RevealCvc reveal)
                {
                    continue;
                }

                var accepted = new C.CommandReply
                {
                    requestId = command.requestId,
                    replyTo = command.replyTo,
                    outcome = C.ReplyOutcome.ACCEPTED,
                    certificateId = reveal.certificateId,
                    cvcKeyVersion = 1,
                    occurredAt = command.issuedAt,
                };
                Send(accepted, null); // unsigned
                Send(accepted, new RecordSigner(Encoding.UTF8.GetBytes("a-key-the-forger-guessed-32-bytes-or-more"))); // another key
                accepted.certificateId = otherCertificate; // signed by the topology's key, but about another certificate (a bug, or a stolen signature)
                Send(accepted, serviceSigner);
                producer.Flush(timeout);
                return command;
            }

            return new C.GiftCertificateCommand();
        }

        private void Send(C.CommandReply reply, RecordSigner? signer)
        {
            var key = Encoding.UTF8.GetBytes(reply.requestId);
            var value = codec.Encode(Topics.Replies, reply);
            var headers = signer?.Signed(Topics.Replies.Name, key, value) ?? [];
            headers.Add(GcpStreams.Client.Header.ReplyTo, Encoding.UTF8.GetBytes(reply.replyTo));
            producer.Produce(Topics.Replies.Name, new Message<byte[], byte[]> { Key = key, Value = value, Headers = headers });
        }

        public void Dispose()
        {
            commands.Dispose();
            producer.Dispose();
        }
    }
}
