using Avro;
using Avro.Specific;

namespace GcpStreams.Contracts.Tests;

/// <summary>The conventions every contract in avro/ follows (docs, namespace, money, time, optionals, enums).</summary>
public class SchemaConventionTests
{
    private static readonly string[] ExpectedContracts =
    [
        "AuditRecord", "CertificateState", "Client", "CommandReply", "DeadLetter",
        "DailyReport", "GiftCertificateCommand", "GiftCertificateEvent", "NotificationResult", "Payment", "SalesOrder",
    ];

    private static IEnumerable<TestCaseData> Contracts() =>
        ExpectedContracts.Select(name => new TestCaseData(name).SetArgDisplayNames(name));

    [Test]
    public void EveryContractIsEmbedded()
    {
        Assert.That(Schemas.All.Keys, Is.EquivalentTo(ExpectedContracts));
    }

    [Test]
    public void LoadingAnUnknownSchemaNamesTheKnownOnes()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => Schemas.Load("Nope"));

        Assert.That(error.Message, Does.Contain("'Nope'").And.Contain("Payment"));
    }

    [TestCaseSource(nameof(Contracts))]
    public void EveryRecordFieldAndEnumHasDoc(string contract)
    {
        var schema = Schemas.Parse(contract);
        var missing = AvroWalk.NamedTypes(schema)
            .Where(t => string.IsNullOrWhiteSpace(t.Documentation))
            .Select(t => $"{t.Tag} {t.Fullname}")
            .Concat(AvroWalk.Fields(schema)
                .Where(x => string.IsNullOrWhiteSpace(x.Field.Documentation))
                .Select(x => $"field {x.Record.Fullname}.{x.Field.Name}"))
            .ToList();

        Assert.That(missing, Is.Empty);
    }

    [TestCaseSource(nameof(Contracts))]
    public void TopLevelRecordIsNamedAsItsFileInTheContractsNamespace(string contract)
    {
        var schema = Schemas.Parse(contract);

        Assert.That(schema, Is.InstanceOf<RecordSchema>());
        Assert.That(((RecordSchema)schema).Fullname, Is.EqualTo("GcpStreams.Contracts." + contract));
        Assert.That(AvroWalk.NamedTypes(schema).Select(t => t.Namespace), Is.All.EqualTo("GcpStreams.Contracts"));
    }

    [TestCaseSource(nameof(Contracts))]
    public void MoneyIsLongMinorUnits(string contract)
    {
        var notLong = AvroWalk.Fields(Schemas.Parse(contract))
            .Where(x => x.Field.Name.EndsWith("Minor", StringComparison.Ordinal))
            .Where(x => AvroWalk.Unwrapped(x.Field.Schema).Tag != Schema.Type.Long)
            .Select(x => $"{x.Record.Name}.{x.Field.Name}")
            .ToList();

        Assert.That(notLong, Is.Empty);
    }

    [TestCaseSource(nameof(Contracts))]
    public void EveryTimestampIsTimestampMillis(string contract)
    {
        var fields = AvroWalk.Fields(Schemas.Parse(contract)).ToList();
        var timeNamed = fields
            .Where(x => x.Field.Name.EndsWith("At", StringComparison.Ordinal)
                        || x.Field.Name.EndsWith("Until", StringComparison.Ordinal)
                        || x.Field.Name.EndsWith("Timestamp", StringComparison.Ordinal)
                        || x.Field.Name == "at")
            .ToList();
        var notMillis = timeNamed
            .Where(x => AvroWalk.Unwrapped(x.Field.Schema) is not LogicalSchema { LogicalTypeName: "timestamp-millis" })
            .Select(x => $"{x.Record.Name}.{x.Field.Name}")
            .ToList();
        var otherLogical = fields
            .Where(x => AvroWalk.Unwrapped(x.Field.Schema) is LogicalSchema { LogicalTypeName: not "timestamp-millis" })
            .Select(x => $"{x.Record.Name}.{x.Field.Name}")
            .ToList();

        Assert.That(notMillis, Is.Empty);
        Assert.That(otherLogical, Is.Empty);
    }

    [TestCaseSource(nameof(Contracts))]
    public void OptionalFieldsAreNullFirstUnionsDefaultingToNull(string contract)
    {
        var wrong = AvroWalk.Fields(Schemas.Parse(contract))
            .Where(x => x.Field.Schema is UnionSchema union && union.Schemas.Any(s => s.Tag == Schema.Type.Null))
            .Where(x => x.Field.Schema is not UnionSchema { Count: 2 } union
                        || union.Schemas[0].Tag != Schema.Type.Null
                        || x.Field.DefaultValue is not { Type: Newtonsoft.Json.Linq.JTokenType.Null })
            .Select(x => $"{x.Record.Name}.{x.Field.Name}")
            .ToList();

        Assert.That(wrong, Is.Empty);
    }

    [TestCaseSource(nameof(Contracts))]
    public void EveryEnumHasItsFirstSymbolAsDefault(string contract)
    {
        // The Avro default (read in place of unknown symbols) is also C#'s default(T) when it comes first.
        var wrong = AvroWalk.NamedTypes(Schemas.Parse(contract))
            .OfType<EnumSchema>()
            .Where(e => e.Default is null || e.Default != e.Symbols[0])
            .Select(e => e.Fullname)
            .ToList();

        Assert.That(wrong, Is.Empty);
    }

    [TestCaseSource(nameof(Contracts))]
    public void EmbeddedSchemaEqualsTheGeneratedClassSchema(string contract)
    {
        var embedded = Schemas.Parse(contract);
        var type = typeof(Schemas).Assembly.GetType("GcpStreams.Contracts." + contract, throwOnError: true)!;
        var generated = ((ISpecificRecord)Activator.CreateInstance(type)!).Schema;

        Assert.That(SchemaNormalization.ToParsingForm(generated), Is.EqualTo(SchemaNormalization.ToParsingForm(embedded)));
        // Beyond the canonical form: docs, defaults and logical types survive too.
        Assert.That(generated.ToString(), Is.EqualTo(embedded.ToString()));
    }
}
