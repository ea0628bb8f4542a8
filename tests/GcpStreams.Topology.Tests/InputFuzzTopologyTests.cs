using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using CsCheck;
using GcpStreams.Client;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// Fuzzing the inputs (issue 15): 100 000 generated records over every input topic the other teams and the API write —
/// garbage bytes, truncated Avro, unknown schema ids, schema-valid nonsense (unicode, extreme numbers, unknown targets) and
/// re-deliveries — in batches of 1 000, each into a fresh topology holding one issued certificate (CsCheck: a failing batch
/// is shrunk and its seed printed). Nothing throws out of the topology, every record that cannot be decoded is dead-lettered
/// under its own key with a reason and a message, and afterwards the certificate still takes a capture with the right balance.
/// </summary>
public class InputFuzzTopologyTests
{
    private const int Batches = 100;
    private const int PerBatch = 1_000;
    private const long Nominal = Inputs.Nominal;

    private static readonly string[] InputTopics = [Topics.Payments.Name, Topics.SalesOrders.Name, Topics.Commands.Name, Topics.NotificationResults.Name];

    /// <summary>What a generated record is.</summary>
    public enum Kind
    {
        Garbage,
        Truncated,
        UnknownSchemaId,
        Nonsense,
        Redelivery,
    }

    /// <summary>The recipe of one record: made into bytes against the fixture's codec (schema ids are the fixture's registry's).</summary>
    public sealed record Recipe(Kind Kind, int Topic, byte[] Bytes, string Text, long Number, int Cut, bool Signed);

    private static readonly Gen<Recipe> Records =
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, InputTopics.Length - 1], Gen.Byte.Array[0, 200], Gen.String, Gen.Long, Gen.Int[0, int.MaxValue], Gen.Bool)
            .Select((kind, topic, bytes, text, number, cut, signed) => new Recipe((Kind)kind, topic, bytes, text, number, cut, signed));

    [Test]
    public void HundredThousandGeneratedRecords_OnEveryInputTopic_NothingThrows_TheUndecodableAreDeadLettered_AndTheLedgerStillWorks() =>
        Records.Array[PerBatch].Sample(Batch, iter: Batches, threads: 1, seed: "0N0XIzNsQ0O2");

    private static void Batch(Recipe[] recipes)
    {
        using var f = new TopologyFixture();
        f.LoadPool();
        var id = f.IssuedCertificate();
        var undecodable = new List<string>();
        (string Topic, byte[] Key, byte[] Value, Headers Headers)? previous = null;
        for (var i = 0; i < recipes.Length; i++)
        {
            var recipe = recipes[i];
            var topic = InputTopics[recipe.Topic];
            var key = Encoding.UTF8.GetBytes($"fuzz-{i}");
            if (recipe.Kind == Kind.Redelivery && previous is { } again)
            {
                f.PipeRaw(again.Topic, again.Key, again.Value, headers: again.Headers);
                continue;
            }

            var valid = Nonsense(f, topic, recipe, $"fuzz-{i}");
            var value = recipe.Kind switch
            {
                Kind.Garbage => recipe.Bytes,
                Kind.Truncated => valid[..(recipe.Cut % valid.Length)],
                Kind.UnknownSchemaId => WithSchemaId(valid, 100_000 + (recipe.Cut % 1_000_000)),
                _ => valid,
            };
            // commands are signed by the API; an unsigned one is refused before it is decoded, so both are generated
            var headers = topic == Topics.Commands.Name && recipe.Signed ? TopologyFixture.Signer.Signed(topic, key, value) : [];
            f.PipeRaw(topic, key, value, headers: headers);
            previous = (topic, key, value, headers);
            if (recipe.Kind is Kind.Garbage or Kind.Truncated or Kind.UnknownSchemaId)
            {
                undecodable.Add($"fuzz-{i}");
            }
        }

        var letters = f.All(Topics.DeadLetter);
        Assert.That(letters.Where(l => l.Value.reason == C.DeadLetterReason.UNKNOWN || string.IsNullOrWhiteSpace(l.Value.message)).Select(l => l.Key), Is.Empty,
            "every dead letter says why");
        Assert.That(letters.Where(l => !InputTopics.Contains(l.Value.sourceTopic)).Select(l => l.Value.sourceTopic), Is.Empty, "every dead letter names its source");
        Assert.That(undecodable.Except(letters.Select(l => l.Key ?? string.Empty)), Is.Empty, "every record that cannot be decoded is dead-lettered under its key");

        TestContext.Out.WriteLine($"batch: {undecodable.Count} undecodable, dead letters {string.Join(", ", letters.GroupBy(l => l.Value.reason).Select(g => $"{g.Key} {g.Count()}"))}, stream events {f.AllRaw(Topics.Stream.Name).Count}");
        var capture = f.Pay(C.PaymentOperation.CAPTURE, id, 1_00);
        Assert.That(f.Events().Where(e => e.Value.causationId == capture.eventId).Select(e => e.Payload<C.CertificateRedeemed>().balanceAfterMinor).Single(),
            Is.EqualTo(Nominal - 1_00), "the stream still runs, and no generated record touched the issued certificate");
    }

    /// <summary>A record of the topic's schema whose fields are generated: unknown certificates, pools and orders, unicode, extreme numbers.</summary>
    private static byte[] Nonsense(TopologyFixture f, string topic, Recipe r, string key)
    {
        var text = r.Text;
        var target = "fz-" + text; // never the issued certificate's id (digits only)
        if (topic == Topics.Payments.Name)
        {
            var payment = Inputs.Payment(f, (C.PaymentOperation)(int)((ulong)r.Number % 5), target, r.Number, parent: r.Signed ? text : null, paymentId: text, eventId: key,
                currency: text.Length > 3 ? text[..3] : text);
            payment.method = r.Cut % 3 == 0 ? C.PaymentMethod.CARD : C.PaymentMethod.GIFT_CERTIFICATE;
            return f.Codec.Encode(Topics.Payments, payment);
        }

        if (topic == Topics.SalesOrders.Name)
        {
            var order = Inputs.Order(f, target, orderId: text, poolId: text, (C.Channel)(int)((ulong)r.Number % 6), clientId: text, at: null, eventId: key,
                (C.OrderStatus)(int)((ulong)r.Cut % 5), nominal: r.Number);
            return f.Codec.Encode(Topics.SalesOrders, order);
        }

        if (topic == Topics.Commands.Name)
        {
            object payload = (r.Cut % 3) switch
            {
                0 => new C.ReserveCertificate { poolId = text, channel = C.Channel.POS, nominalMinor = r.Number, currency = text, orderId = text, holdSeconds = (int)r.Number },
                1 => new C.LoadPool { poolId = text, channel = C.Channel.INTERNET_STORE, nominalMinor = r.Number, currency = text, count = (int)r.Number, lowWatermark = (int)(r.Number >> 32), series = r.Cut, importedNumbers = [text] },
                _ => new C.LockCertificate { certificateId = target, reason = text },
            };
            return f.Codec.Encode(Topics.Commands, Inputs.NewCommand(payload, key, caller: text));
        }

        return f.Codec.Encode(Topics.NotificationResults, new C.NotificationResult
        {
            eventId = key,
            notificationId = text,
            certificateId = target,
            clientId = text,
            contactChannel = C.ContactChannel.EMAIL,
            outcome = (C.NotificationOutcome)(int)((ulong)r.Number % 3),
            attempt = (int)r.Number,
            reason = text,
            willRetry = r.Signed,
            occurredAt = TopologyFixture.T0,
        });
    }

    /// <summary>The same record under another (unregistered) schema id: the Confluent wire format's bytes 1-4.</summary>
    private static byte[] WithSchemaId(byte[] valid, int schemaId)
    {
        var copy = (byte[])valid.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(1, 4), schemaId);
        return copy;
    }
}
