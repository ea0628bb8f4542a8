using GcpStreams.AvroGen;

namespace GcpStreams.Contracts.Tests;

/// <summary>tools/GcpStreams.AvroGen: the shared-type check, and the generated code being current and deterministic.</summary>
public class GeneratorTests
{
    private const string OrderWithChannel = """
        {"type": "record", "name": "Order", "namespace": "GcpStreams.Contracts", "doc": "An order.",
         "fields": [{"name": "channel", "doc": "Channel.", "type":
           {"type": "enum", "name": "Channel", "doc": "Sales channel.", "symbols": ["UNKNOWN", "POS"], "default": "UNKNOWN"}}]}
        """;

    [Test]
    public void SharedEnumDefinedDifferentlyIsRejectedNamingTheTypeAndBothFiles()
    {
        var otherSymbols = OrderWithChannel.Replace("Order", "Payment", StringComparison.Ordinal)
            .Replace("\"POS\"]", "\"POS\", \"PARTNER\"]", StringComparison.Ordinal);

        var error = Assert.Throws<SchemaSetException>(() =>
            SchemaSet.ParseAndCheck([new SchemaSource("Order.avsc", OrderWithChannel), new SchemaSource("Payment.avsc", otherSymbols)]));

        Assert.That(error.Message, Does.Contain("'GcpStreams.Contracts.Channel'"));
        Assert.That(error.Message, Does.Contain("Order.avsc").And.Contain("Payment.avsc"));
        Assert.That(error.Message, Does.Contain("different structure"));
    }

    [Test]
    public void SharedEnumDifferingOnlyInDocOrDefaultIsRejected()
    {
        var otherDoc = OrderWithChannel.Replace("Order", "Payment", StringComparison.Ordinal)
            .Replace("\"Sales channel.\"", "\"Channel of sale.\"", StringComparison.Ordinal);
        var otherDefault = OrderWithChannel.Replace("Order", "Payment", StringComparison.Ordinal)
            .Replace("\"default\": \"UNKNOWN\"", "\"default\": \"POS\"", StringComparison.Ordinal);

        var docError = Assert.Throws<SchemaSetException>(() =>
            SchemaSet.ParseAndCheck([new SchemaSource("Order.avsc", OrderWithChannel), new SchemaSource("Payment.avsc", otherDoc)]));
        var defaultError = Assert.Throws<SchemaSetException>(() =>
            SchemaSet.ParseAndCheck([new SchemaSource("Order.avsc", OrderWithChannel), new SchemaSource("Payment.avsc", otherDefault)]));

        Assert.That(docError.Message, Does.Contain("'GcpStreams.Contracts.Channel'").And.Contain("docs, defaults"));
        Assert.That(defaultError.Message, Does.Contain("'GcpStreams.Contracts.Channel'").And.Contain("docs, defaults"));
    }

    [Test]
    public void SharedEnumDefinedIdenticallyIsAccepted()
    {
        var sameChannel = OrderWithChannel.Replace("\"Order\"", "\"Payment\"", StringComparison.Ordinal);

        var parsed = SchemaSet.ParseAndCheck([new SchemaSource("Order.avsc", OrderWithChannel), new SchemaSource("Payment.avsc", sameChannel)]);

        Assert.That(parsed.Select(p => p.NamedTypes.ContainsKey("GcpStreams.Contracts.Channel")), Is.All.True);
    }

    [Test]
    public void SharedRecordDifferingOnlyInAFieldDocIsRejected()
    {
        // A record shared by two files, with every kind of field type the description covers.
        const string withLine = """
            {"type": "record", "name": "Order", "namespace": "GcpStreams.Contracts", "doc": "An order.",
             "fields": [{"name": "line", "doc": "The line.", "type": {"type": "record", "name": "Line", "doc": "A line.", "fields": [
               {"name": "tags", "doc": "Tags.", "type": {"type": "array", "items": "string"}, "default": []},
               {"name": "attributes", "doc": "Attributes.", "type": {"type": "map", "values": "long"}, "default": {}},
               {"name": "note", "doc": "Note.", "type": ["null", "string"], "default": null},
               {"name": "at", "doc": "When.", "type": {"type": "long", "logicalType": "timestamp-millis"}},
               {"name": "price", "doc": "Price.", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
               {"name": "digest", "doc": "Digest.", "type": {"type": "fixed", "name": "Digest", "doc": "A digest.", "size": 4}},
               {"name": "again", "doc": "Same digest type.", "type": "Digest", "aliases": ["previous"], "order": "ignore"}]}}]}
            """;
        var sameLine = withLine.Replace("\"Order\"", "\"Payment\"", StringComparison.Ordinal);
        var otherDoc = sameLine.Replace("\"Tags.\"", "\"Labels.\"", StringComparison.Ordinal);

        var accepted = SchemaSet.ParseAndCheck([new SchemaSource("Order.avsc", withLine), new SchemaSource("Payment.avsc", sameLine)]);
        var error = Assert.Throws<SchemaSetException>(() =>
            SchemaSet.ParseAndCheck([new SchemaSource("Order.avsc", withLine), new SchemaSource("Payment.avsc", otherDoc)]));

        Assert.That(accepted[1].NamedTypes.Keys, Is.EquivalentTo(new[] { "GcpStreams.Contracts.Payment", "GcpStreams.Contracts.Line", "GcpStreams.Contracts.Digest" }));
        Assert.That(error.Message, Does.Contain("'GcpStreams.Contracts.Line'").And.Contain("docs, defaults"));
        Assert.That(error.Message, Does.Contain("\"doc\":\"Labels.\"").And.Contain("\"logicalType\":\"decimal\",\"precision\":9"));
    }

    [Test]
    public void UnparsableSchemaIsRejectedNamingTheFile()
    {
        var error = Assert.Throws<SchemaSetException>(() =>
            SchemaSet.ParseAndCheck([new SchemaSource("Broken.avsc", """{"type": "record", "name": "Broken", "fields": [{"name": "x", "type": "nope"}]}""")]));

        Assert.That(error.Message, Does.StartWith("Broken.avsc: not a valid Avro schema"));
    }

    [Test]
    public void MissingOrEmptyAvroDirectoryIsAnError()
    {
        var empty = Directory.CreateTempSubdirectory("avrogen-empty-").FullName;
        try
        {
            Assert.Throws<SchemaSetException>(() => Generator.ReadSources(Path.Combine(empty, "missing")));
            Assert.Throws<SchemaSetException>(() => Generator.ReadSources(empty));
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Test]
    public void TopLevelRecordNotNamedAsItsFileIsRejected()
    {
        var error = Assert.Throws<SchemaSetException>(() => Generator.Generate([new SchemaSource("Payment.avsc", OrderWithChannel)]));

        Assert.That(error.Message, Does.Contain("Payment.avsc").And.Contain("'Payment'"));
    }

    [Test]
    public void GeneratedCodeIsUpToDateWithTheSchemas()
    {
        var expected = Generator.Generate(Generator.ReadSources(Path.Combine(RepoRoot, "avro")));
        var generatedDir = Path.Combine(RepoRoot, "topology", "GcpStreams.Contracts", "Generated");
        var actual = Directory.GetFiles(generatedDir, "*.cs", SearchOption.AllDirectories)
            .ToDictionary(path => Path.GetRelativePath(generatedDir, path), File.ReadAllText);

        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys), "run `make avro`");
        var stale = expected.Where(e => actual[e.Key] != e.Value).Select(e => e.Key).ToList();
        Assert.That(stale, Is.Empty, "run `make avro`");
    }

    [Test]
    public void GenerationIsDeterministicAndEveryFileIsMarkedGenerated()
    {
        var sources = Generator.ReadSources(Path.Combine(RepoRoot, "avro"));

        var first = Generator.Generate(sources);
        var second = Generator.Generate(sources.Reverse().ToList());

        Assert.That(second, Is.EqualTo(first));
        Assert.That(first.Values, Is.All.StartsWith(Generator.HeaderMarker + "\n"));
        Assert.That(first.Values, Has.None.Contain("\r"));
    }

    [Test]
    public void WritingOutputDeletesStaleGeneratedFilesButRefusesOthers()
    {
        var dir = Directory.CreateTempSubdirectory("avrogen-test-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "Gone.cs"), Generator.HeaderMarker + "\nclass Gone {}\n");
            var files = new Dictionary<string, string> { ["Kept.cs"] = Generator.HeaderMarker + "\nclass Kept {}\n" };

            var result = Generator.WriteOutput(dir, files);

            Assert.That(result.Deleted, Is.EqualTo(new[] { "Gone.cs" }));
            Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EqualTo(new[] { "Kept.cs" }));
            Assert.That(Generator.WriteOutput(dir, files).Unchanged, Is.EqualTo(new[] { "Kept.cs" }));

            File.WriteAllText(Path.Combine(dir, "HandWritten.cs"), "class HandWritten {}\n");
            Assert.Throws<SchemaSetException>(() => Generator.WriteOutput(dir, files));
            Assert.That(File.Exists(Path.Combine(dir, "HandWritten.cs")), Is.True);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void CommandLineGeneratesIntoADirectoryAndReportsContractErrors()
    {
        var root = Directory.CreateTempSubdirectory("avrogen-cli-").FullName;
        try
        {
            var avro = Directory.CreateDirectory(Path.Combine(root, "avro")).FullName;
            var generated = Path.Combine(root, "Generated");
            File.WriteAllText(Path.Combine(avro, "Order.avsc"), OrderWithChannel);
            using var output = new StringWriter();
            using var error = new StringWriter();

            var usage = Cli.Run([avro], output, error);
            var done = Cli.Run([avro, generated], output, error);
            File.WriteAllText(Path.Combine(avro, "Payment.avsc"), OrderWithChannel.Replace("Order", "Payment", StringComparison.Ordinal)
                .Replace("\"POS\"]", "\"POS\", \"PARTNER\"]", StringComparison.Ordinal));
            var conflict = Cli.Run([avro, generated], output, error);

            Assert.That((usage, done, conflict), Is.EqualTo((2, 0, 1)));
            Assert.That(Directory.GetFiles(generated).Select(Path.GetFileName), Is.EquivalentTo(new[] { "Channel.cs", "Order.cs" }));
            Assert.That(output.ToString(), Does.Contain("1 schemas -> 2 types"));
            Assert.That(error.ToString(), Does.Contain("usage:").And.Contain("'GcpStreams.Contracts.Channel'"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GcpStreams.sln")) && Directory.Exists(Path.Combine(dir.FullName, "avro")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("repository root (GcpStreams.sln + avro/) not found above " + TestContext.CurrentContext.TestDirectory);
        }
    }
}
