using GcpStreams.Api.Hosting;
using GcpStreams.Serialization;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops.Tests;

/// <summary>gcp-ops' command line and the pieces of its checks that need no broker; attached mode's start-up rules.</summary>
public class OpsCommandTests
{
    [TestCase(new string[0], "a command is needed.")]
    [TestCase(new[] { "rebuild" }, "unknown command 'rebuild'.")]
    [TestCase(new[] { "ledger-check" }, "--bootstrap is required.")]
    [TestCase(new[] { "ledger-check", "--bootstrap" }, "--bootstrap needs a value.")]
    [TestCase(new[] { "ledger-check", "--bootstrap", "b:1", "--show", "0", "--schema-registry", "http://r" }, "--show is '0'")]
    [TestCase(new[] { "secrecy-scan", "--dir", "/tmp" }, "nothing to look for: give --cvc, --cvc-file or --cvc-key.")]
    [TestCase(new[] { "secrecy-scan", "--cvc", "12a4" }, "CVC #1 of --cvc / --cvc-file is not 3-8 digits.")]
    [TestCase(new[] { "secrecy-scan", "--cvc-key", "1=c2VjcmV0LWtleS0xNi1ieXRlcyE=" }, "--cvc-key needs --bootstrap and --schema-registry")]
    [TestCase(new[] { "secrecy-scan", "--cvc-key", "one=abc" }, "--cvc-key must be VERSION=BASE64")]
    [TestCase(new[] { "secrecy-scan", "--cvc-key", "1=not base64!" }, "--cvc-key of version 1 is not base64.")]
    [TestCase(new[] { "secrecy-scan", "--cvc-key", "1=c2hvcnQ=" }, "--cvc-key of version 1 must decode to at least 16 bytes.")]
    [TestCase(new[] { "secrecy-scan", "--cvc", "1234", "--color", "on" }, "unknown argument '--color'.")]
    public void BadArguments_Exit2_NamingWhatIsWrong_AndPrintUsage(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(OpsCommands.Run(args, output, error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.StartWith("gcp-ops: " + message).And.Contain("usage:"));
        Assert.That(error.ToString(), Does.Not.Contain("12a4").And.Not.Contain("not base64!"), "a value that may be a secret is not echoed");
    }

    [Test]
    public void SecrecyScan_OfFilesOnly_CleanAndLeaky_AndATextCvcOnlyOnItsOwn()
    {
        var dir = Directory.CreateTempSubdirectory("gcp-ops-files-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "a.log"), "order 48213 paid at 10:48:21, card ending 4821.50, id GC-48219\n");
            using var output = new StringWriter();
            using var error = new StringWriter();
            Assert.That(OpsCommands.Run(["secrecy-scan", "--cvc", "4821", "--dir", dir], output, error), Is.EqualTo(0), output.ToString() + error);
            Assert.That(output.ToString(), Does.Contain("1 CVC(s) looked for in 0 records of 0 topics and 1 files").And.Contain("no CVC found"));

            File.WriteAllBytes(Path.Combine(dir, "store.sst"), [0x01, 0x08, (byte)'4', (byte)'8', (byte)'2', (byte)'1', 0x00]); // an Avro string
            File.WriteAllText(Path.Combine(dir, "reply.json"), """{"cvc":"4821"}""");
            using var output2 = new StringWriter();
            Assert.That(OpsCommands.Run(["secrecy-scan", "--cvc", "4821", "--dir", dir, "--show", "1"], output2, error), Is.EqualTo(1));
            Assert.That(output2.ToString(), Does.Contain("2 hit(s); the first 1:").And.Contain("CVC #1 given (****) in file ").And.Not.Contain("4821"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase(Domain.CertificateStatus.PartiallyRedeemed, "PARTIALLY_REDEEMED")]
    [TestCase(Domain.CertificateStatus.Active, "ACTIVE")]
    [TestCase(Domain.CertificateStatus.Exhausted, "EXHAUSTED")]
    public void StatusSymbols_AreTheContractsOnes(Domain.CertificateStatus status, string symbol)
    {
        Assert.That(LedgerCheck.Symbol(status), Is.EqualTo(symbol));
        Assert.That(Enum.Parse<C.CertificateStatus>(symbol), Is.Not.EqualTo(default(C.CertificateStatus)));
    }

    [Test]
    public void EnumSymbols_MapToTheDomains() =>
        Assert.That(
            (LedgerFold.Enum<Domain.Channel>("INTERNET_STORE"), LedgerFold.Enum<Domain.ContactChannel>("SMS"), LedgerFold.Enum<Domain.DisclosureKind>("SUPPORT")),
            Is.EqualTo((Domain.Channel.InternetStore, Domain.ContactChannel.Sms, Domain.DisclosureKind.Support)));

    [Test]
    public void LedgerFold_AnEventBeforeTheIssue_AndASequenceGap_AreProblems()
    {
        var fold = new LedgerFold("GC-1");
        fold.Apply(Event(1, new C.CertificateReserved { requestId = "r", nominalMinor = 100, reservedUntil = DateTime.UtcNow }), "at 0");
        fold.Apply(Event(2, new C.CertificateLocked { reason = "x", requestedBy = "support" }), "at 1");
        fold.Apply(Event(3, new C.CertificateIssued { orderId = "o", nominalMinor = 100, balanceAfterMinor = 100 }), "at 2");
        fold.Apply(Event(4, new C.CertificateRedeemed { paymentId = "p", amountMinor = 30, balanceAfterMinor = 60, heldAfterMinor = 0 }), "at 3");
        Assert.That(fold.Problems, Is.EqualTo(new[]
        {
            "at 1: certificate.locked before certificate.issued (the stream's log start may have moved past the issue)",
            "at 2: certificate.issued carries sequence 3, the fold expects 2",
            "at 3: certificate.redeemed says balance 60, held 0; the fold gives balance 70, held 0",
        }));
        Assert.That(fold.Certificate!.BalanceMinor, Is.EqualTo(70));
    }

    [Test]
    public void Attached_NeedsBootstrapServersAndARegistry_Embedded_RefusesBootstrapServers_Cluster_RefusesTheAttachedSigningKey()
    {
        Assert.That(new KafkaOptionsValidation().Validate(null, new KafkaOptions { Mode = KafkaMode.Attached }).Failures,
            Has.Some.StartsWith("Kafka:BootstrapServers is required when Kafka:Mode is Attached"));
        Assert.That(new KafkaOptionsValidation().Validate(null, new KafkaOptions { Mode = KafkaMode.Embedded, BootstrapServers = "127.0.0.1:9092" }).Failures,
            Has.Some.StartsWith("Kafka:BootstrapServers is '127.0.0.1:9092' while Kafka:Mode is Embedded"));
        Assert.That(new KafkaOptionsValidation().Validate(null, new KafkaOptions { Mode = KafkaMode.Attached, BootstrapServers = "127.0.0.1:9092" }).Succeeded, Is.True);

        var attached = Options.Create(new KafkaOptions { Mode = KafkaMode.Attached, BootstrapServers = "127.0.0.1:9092" });
        Assert.That(new SchemaRegistryModeValidation(attached).Validate(null, new SchemaRegistryOptions()).FailureMessage,
            Does.StartWith("SchemaRegistry:Url is required when Kafka:Mode is Attached"));
        Assert.That(new SchemaRegistryModeValidation(attached).Validate(null, new SchemaRegistryOptions { Url = "http://127.0.0.1:8081" }).Succeeded, Is.True);

        var cluster = Options.Create(new KafkaOptions { Mode = KafkaMode.Cluster, BootstrapServers = "kafka:9092" });
        var gcp = new GcpOptions { NumberingKey = "c2VjcmV0LW51bWJlcmluZy1rZXktMzJieXRlcyEh", CommandSigningKey = GcpOptions.DevelopmentCommandSigningKey };
        Assert.That(new GcpOptionsValidation(cluster).Validate(null, gcp).Failures, Has.Some.StartsWith("Gcp:CommandSigningKey is the public development key of attached mode"));
        Assert.That(new GcpOptionsValidation(attached).Validate(null, gcp).Failures ?? [], Has.None.Contains("CommandSigningKey"));
        Assert.That((KafkaMode.Embedded.IsDevelopment(), KafkaMode.Attached.IsDevelopment(), KafkaMode.Cluster.IsDevelopment()), Is.EqualTo((true, true, false)));
    }

    private static C.GiftCertificateEvent Event(long sequence, object payload) => new()
    {
        eventId = $"e{sequence}",
        eventType = payload switch
        {
            C.CertificateReserved => "certificate.reserved",
            C.CertificateLocked => "certificate.locked",
            C.CertificateIssued => "certificate.issued",
            _ => "certificate.redeemed",
        },
        certificateId = "GC-1",
        poolId = "pool",
        channel = C.Channel.POS,
        currency = "RUB",
        occurredAt = DateTime.UtcNow,
        causationId = $"c{sequence}",
        sequence = sequence,
        payload = payload,
    };
}
