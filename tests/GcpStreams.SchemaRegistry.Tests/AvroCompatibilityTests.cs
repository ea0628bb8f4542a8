using Avro;
using Avro.Generic;
using Avro.IO;
using GcpStreams.SchemaRegistry.Tests.Fixtures;
using static GcpStreams.SchemaRegistry.Tests.Fixtures.Avsc;
using Compatibility = Confluent.SchemaRegistry.Compatibility;

namespace GcpStreams.SchemaRegistry.Tests;

/// <summary>The Avro specification's schema resolution rules, each checked in both directions.</summary>
public class AvroCompatibilityTests
{
    private static readonly Schema OrderV1 = Record("Order", Field("id", P("string")), Field("amountMinor", P("long")));

    [Test]
    public void Apache_Avro_ships_no_compatibility_checker_so_we_have_our_own()
    {
        var candidates = typeof(Schema).Assembly.GetTypes()
            .Where(t => t.Name.Contains("Compatib", StringComparison.OrdinalIgnoreCase))
            .Select(t => t.FullName)
            .ToList();

        Assert.That(candidates, Is.Empty, "Apache.Avro gained a compatibility checker: consider using it");
    }

    [Test]
    public void Identical_schemas_are_compatible()
    {
        var result = AvroCompatibility.CanRead(OrderV1, Schema.Parse(OrderV1.ToString()));

        Assert.That(result.IsCompatible, Is.True);
        Assert.That(result.Messages, Is.Empty);
    }

    [Test]
    public void Adding_a_field_with_a_default_is_backward_and_forward_compatible()
    {
        var v2 = Record("Order", Field("id", P("string")), Field("amountMinor", P("long")), Field("currency", P("string"), "\"EUR\""));

        Assert.That(AvroCompatibility.CanRead(reader: v2, writer: OrderV1).IsCompatible, Is.True, "new reads old: default fills the gap");
        Assert.That(AvroCompatibility.CanRead(reader: OrderV1, writer: v2).IsCompatible, Is.True, "old reads new: extra writer field is skipped");
    }

    [Test]
    public void Adding_a_field_without_a_default_is_not_backward_compatible_but_is_forward_compatible()
    {
        var v2 = Record("Order", Field("id", P("string")), Field("amountMinor", P("long")), Field("currency", P("string")));

        var backward = AvroCompatibility.CanRead(reader: v2, writer: OrderV1);
        var forward = AvroCompatibility.CanRead(reader: OrderV1, writer: v2);

        Assert.That(backward.Messages, Is.EqualTo(new[] { "/fields/currency: reader field has no default and is missing from writer" }));
        Assert.That(backward.Incompatibilities.Single().Kind, Is.EqualTo(AvroIncompatibilityKind.ReaderFieldMissingDefault));
        Assert.That(forward.IsCompatible, Is.True);
    }

    [Test]
    public void Removing_a_field_is_backward_compatible_and_forward_compatible_only_if_it_had_a_default()
    {
        var withoutAmount = Record("Order", Field("id", P("string")));
        var withDefaultedAmount = Record("Order", Field("id", P("string")), Field("amountMinor", P("long"), "0"));

        Assert.That(AvroCompatibility.CanRead(reader: withoutAmount, writer: OrderV1).IsCompatible, Is.True, "new reads old");
        Assert.That(
            AvroCompatibility.CanRead(reader: OrderV1, writer: withoutAmount).Messages,
            Is.EqualTo(new[] { "/fields/amountMinor: reader field has no default and is missing from writer" }),
            "old reader needs the removed field");
        Assert.That(AvroCompatibility.CanRead(reader: withDefaultedAmount, writer: withoutAmount).IsCompatible, Is.True);
    }

    [Test]
    public void A_field_is_found_in_the_writer_through_the_reader_fields_aliases()
    {
        var renamed = Record("Order", """{"name":"orderId","type":"string","aliases":["id"]}""", Field("amountMinor", P("long")));

        Assert.That(AvroCompatibility.CanRead(reader: renamed, writer: OrderV1).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: OrderV1, writer: renamed).Messages,
            Is.EqualTo(new[] { "/fields/id: reader field has no default and is missing from writer" }));
    }

    [TestCase("int", "long", true)]
    [TestCase("int", "float", true)]
    [TestCase("int", "double", true)]
    [TestCase("long", "float", true)]
    [TestCase("long", "double", true)]
    [TestCase("float", "double", true)]
    [TestCase("string", "bytes", true)]
    [TestCase("bytes", "string", true)]
    [TestCase("long", "int", false)]
    [TestCase("double", "float", false)]
    [TestCase("float", "long", false)]
    [TestCase("double", "long", false)]
    [TestCase("int", "string", false)]
    [TestCase("string", "int", false)]
    [TestCase("boolean", "int", false)]
    [TestCase("null", "string", false)]
    public void Changing_a_primitive_type_is_compatible_only_with_a_promotion(string writerType, string readerType, bool compatible)
    {
        var writer = Record("Order", Field("value", P(writerType)));
        var reader = Record("Order", Field("value", P(readerType)));

        var result = AvroCompatibility.CanRead(reader, writer);

        Assert.That(result.IsCompatible, Is.EqualTo(compatible), result.ToString());
        if (!compatible)
        {
            Assert.That(result.Messages, Is.EqualTo(new[]
            {
                $"/fields/value: reader type {readerType} is not compatible with writer type {writerType}",
            }));
        }
    }

    [Test]
    public void An_enum_reader_missing_a_writer_symbol_needs_a_default()
    {
        const string writerEnum = """{"type":"enum","name":"Status","symbols":["ACTIVE","LOCKED","CANCELLED"]}""";
        const string readerEnum = """{"type":"enum","name":"Status","symbols":["ACTIVE","LOCKED"]}""";
        const string readerEnumWithDefault = """{"type":"enum","name":"Status","symbols":["UNKNOWN","ACTIVE","LOCKED"],"default":"UNKNOWN"}""";
        var writer = Record("Card", Field("status", writerEnum));

        var withoutDefault = AvroCompatibility.CanRead(Record("Card", Field("status", readerEnum)), writer);
        var withDefault = AvroCompatibility.CanRead(Record("Card", Field("status", readerEnumWithDefault)), writer);

        Assert.That(withoutDefault.Messages, Is.EqualTo(new[]
        {
            "/fields/status/symbols: writer symbols [CANCELLED] are missing from reader enum 'gcp.test.Status', which has no default symbol",
        }));
        Assert.That(withDefault.IsCompatible, Is.True);
    }

    [Test]
    public void Adding_an_enum_symbol_is_backward_compatible_and_forward_compatible_only_with_a_default()
    {
        var old = Record("Card", Field("status", """{"type":"enum","name":"Status","symbols":["ACTIVE","LOCKED"]}"""));
        var added = Record("Card", Field("status", """{"type":"enum","name":"Status","symbols":["ACTIVE","LOCKED","CANCELLED"]}"""));
        var oldWithDefault = Record("Card", Field("status", """{"type":"enum","name":"Status","symbols":["ACTIVE","LOCKED"],"default":"ACTIVE"}"""));

        Assert.That(AvroCompatibility.CanRead(reader: added, writer: old).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: old, writer: added).IsCompatible, Is.False);
        Assert.That(AvroCompatibility.CanRead(reader: oldWithDefault, writer: added).IsCompatible, Is.True);
    }

    [Test]
    public void Records_match_by_full_name_or_reader_alias()
    {
        var renamed = Record("Purchase", Field("id", P("string")), Field("amountMinor", P("long")));
        var otherNamespace = Schema.Parse(OrderV1.ToString().Replace("gcp.test", "gcp.other", StringComparison.Ordinal));
        var aliased = Schema.Parse("""
            {"type":"record","name":"Purchase","namespace":"gcp.test","aliases":["Order"],
             "fields":[{"name":"id","type":"string"},{"name":"amountMinor","type":"long"}]}
            """);

        Assert.That(AvroCompatibility.CanRead(reader: renamed, writer: OrderV1).Messages, Is.EqualTo(new[]
        {
            "/name: reader record name 'gcp.test.Purchase' does not match writer name 'gcp.test.Order' (nor does any reader alias)",
        }));
        Assert.That(AvroCompatibility.CanRead(reader: otherNamespace, writer: OrderV1).Incompatibilities.Single().Kind,
            Is.EqualTo(AvroIncompatibilityKind.NameMismatch));
        Assert.That(AvroCompatibility.CanRead(reader: aliased, writer: OrderV1).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: OrderV1, writer: aliased).IsCompatible, Is.False, "aliases are the reader's");
    }

    [Test]
    public void Fixed_types_must_agree_on_name_and_size()
    {
        var md5 = Record("Hash", Field("value", """{"type":"fixed","name":"Digest","size":16}"""));
        var sha = Record("Hash", Field("value", """{"type":"fixed","name":"Digest","size":32}"""));
        var renamed = Record("Hash", Field("value", """{"type":"fixed","name":"Md5","size":16}"""));

        Assert.That(AvroCompatibility.CanRead(md5, Schema.Parse(md5.ToString())).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: sha, writer: md5).Messages,
            Is.EqualTo(new[] { "/fields/value/size: reader fixed size 32 differs from writer fixed size 16" }));
        Assert.That(AvroCompatibility.CanRead(reader: md5, writer: sha).IsCompatible, Is.False);
        Assert.That(AvroCompatibility.CanRead(reader: renamed, writer: md5).Incompatibilities.Single().Path, Is.EqualTo("/fields/value/name"));
    }

    [Test]
    public void Widening_a_type_to_a_union_is_backward_compatible_narrowing_it_back_is_not()
    {
        var plain = Record("Card", Field("note", P("string")));
        var optional = Record("Card", Field("note", """["null","string"]""", "null"));

        Assert.That(AvroCompatibility.CanRead(reader: optional, writer: plain).IsCompatible, Is.True, "a non-union writer needs one matching reader branch");
        Assert.That(AvroCompatibility.CanRead(reader: plain, writer: optional).Messages, Is.EqualTo(new[]
        {
            "/fields/note/0: reader type string is not compatible with writer type null",
        }), "every writer branch must be readable by a non-union reader");
    }

    [Test]
    public void Adding_a_union_branch_is_backward_compatible_removing_one_is_not()
    {
        var narrow = Record("Card", Field("value", """["null","string"]""", "null"));
        var wide = Record("Card", Field("value", """["null","string","long"]""", "null"));

        Assert.That(AvroCompatibility.CanRead(reader: wide, writer: narrow).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: narrow, writer: wide).Messages, Is.EqualTo(new[]
        {
            "/fields/value/2: reader union [null, string] has no branch that can read writer type long",
        }));
    }

    [Test]
    public void A_union_branch_is_readable_through_a_promotion()
    {
        var writer = Record("Card", Field("value", """["null","int"]""", "null"));
        var reader = Record("Card", Field("value", """["null","double"]""", "null"));

        Assert.That(AvroCompatibility.CanRead(reader, writer).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: writer, writer: reader).IsCompatible, Is.False);
    }

    [Test]
    public void A_nested_record_change_inside_an_array_is_reported_with_its_path()
    {
        const string line = """{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"}]}""";
        const string lineWithPrice = """{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"},{"name":"priceMinor","type":"long"}]}""";
        var writer = Record("Order", Field("lines", $$"""{"type":"array","items":{{line}}}"""));
        var reader = Record("Order", Field("lines", $$"""{"type":"array","items":{{lineWithPrice}}}"""));

        Assert.That(AvroCompatibility.CanRead(reader, writer).Messages, Is.EqualTo(new[]
        {
            "/fields/lines/items/fields/priceMinor: reader field has no default and is missing from writer",
        }));
        Assert.That(AvroCompatibility.CanRead(reader: writer, writer: reader).IsCompatible, Is.True);
    }

    [Test]
    public void A_nested_record_change_inside_a_map_is_reported_with_its_path()
    {
        var writer = Record("Pool", Field("byCode", """{"type":"map","values":{"type":"record","name":"Entry","fields":[{"name":"count","type":"int"}]}}"""));
        var reader = Record("Pool", Field("byCode", """{"type":"map","values":{"type":"record","name":"Entry","fields":[{"name":"count","type":"string"}]}}"""));

        Assert.That(AvroCompatibility.CanRead(reader, writer).Messages, Is.EqualTo(new[]
        {
            "/fields/byCode/values/fields/count: reader type string is not compatible with writer type int",
        }));
        Assert.That(AvroCompatibility.CanRead(reader: writer, writer: reader).IsCompatible, Is.False);
    }

    [Test]
    public void A_nested_record_change_inside_a_union_is_reported_at_the_writer_branch()
    {
        const string v1 = """{"type":"record","name":"Holder","fields":[{"name":"name","type":"string"}]}""";
        const string v2 = """{"type":"record","name":"Holder","fields":[{"name":"name","type":"string"},{"name":"email","type":"string"}]}""";
        const string v2WithDefault = """{"type":"record","name":"Holder","fields":[{"name":"name","type":"string"},{"name":"email","type":"string","default":""}]}""";
        var writer = Record("Card", Field("holder", $"[\"null\",{v1}]", "null"));

        Assert.That(AvroCompatibility.CanRead(Record("Card", Field("holder", $"[\"null\",{v2}]", "null")), writer).Messages, Is.EqualTo(new[]
        {
            "/fields/holder/1: reader union [null, record gcp.test.Holder] has no branch that can read writer type record gcp.test.Holder",
        }));
        Assert.That(AvroCompatibility.CanRead(Record("Card", Field("holder", $"[\"null\",{v2WithDefault}]", "null")), writer).IsCompatible, Is.True);
    }

    [Test]
    public void Maps_and_arrays_check_their_values_and_items_and_do_not_read_each_other()
    {
        var longs = Record("Bag", Field("values", """{"type":"array","items":"long"}"""));
        var ints = Record("Bag", Field("values", """{"type":"array","items":"int"}"""));
        var map = Record("Bag", Field("values", """{"type":"map","values":"long"}"""));

        Assert.That(AvroCompatibility.CanRead(reader: longs, writer: ints).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: ints, writer: longs).Messages,
            Is.EqualTo(new[] { "/fields/values/items: reader type int is not compatible with writer type long" }));
        Assert.That(AvroCompatibility.CanRead(reader: map, writer: longs).Messages,
            Is.EqualTo(new[] { "/fields/values: reader type map<long> is not compatible with writer type array<long>" }));
    }

    [Test]
    public void A_recursive_schema_is_checked_without_looping()
    {
        var writer = Schema.Parse("""
            {"type":"record","name":"Node","namespace":"gcp.test","fields":[
              {"name":"value","type":"int"},
              {"name":"next","type":["null","Node"],"default":null}]}
            """);
        var evolved = Schema.Parse("""
            {"type":"record","name":"Node","namespace":"gcp.test","fields":[
              {"name":"value","type":"long"},
              {"name":"label","type":"string","default":""},
              {"name":"next","type":["null","Node"],"default":null}]}
            """);
        var broken = Schema.Parse("""
            {"type":"record","name":"Node","namespace":"gcp.test","fields":[
              {"name":"value","type":"int"},
              {"name":"label","type":"string"},
              {"name":"next","type":["null","Node"],"default":null}]}
            """);

        Assert.That(AvroCompatibility.CanRead(reader: evolved, writer: writer).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: writer, writer: evolved).Messages,
            Is.EqualTo(new[] { "/fields/value: reader type int is not compatible with writer type long" }));
        Assert.That(AvroCompatibility.CanRead(reader: broken, writer: writer).Messages,
            Is.EqualTo(new[] { "/fields/label: reader field has no default and is missing from writer" }));
    }

    [Test]
    public void Mutually_recursive_schemas_are_checked_without_looping()
    {
        const string json = """
            {"type":"record","name":"Tree","namespace":"gcp.test","fields":[
              {"name":"children","type":{"type":"array","items":{"type":"record","name":"Branch","fields":[
                {"name":"weight","type":"int"},
                {"name":"subtree","type":["null","Tree"],"default":null}]}}}]}
            """;
        var writer = Schema.Parse(json);
        var reader = Schema.Parse(json.Replace("\"weight\",\"type\":\"int\"", "\"weight\",\"type\":\"double\"", StringComparison.Ordinal));

        Assert.That(AvroCompatibility.CanRead(reader, writer).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: writer, writer: reader).Messages,
            Is.EqualTo(new[] { "/fields/children/items/fields/weight: reader type int is not compatible with writer type double" }));
    }

    [Test]
    public void Logical_types_are_checked_on_their_underlying_type()
    {
        var plain = Record("Event", Field("at", P("long")));
        var timestamp = Record("Event", Field("at", """{"type":"long","logicalType":"timestamp-millis"}"""));
        var date = Record("Event", Field("at", """{"type":"int","logicalType":"date"}"""));

        Assert.That(AvroCompatibility.CanRead(reader: timestamp, writer: plain).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: plain, writer: timestamp).IsCompatible, Is.True);
        Assert.That(AvroCompatibility.CanRead(reader: timestamp, writer: date).IsCompatible, Is.True, "int promotes to long");
        Assert.That(AvroCompatibility.CanRead(reader: date, writer: timestamp).IsCompatible, Is.False);
    }

    [Test]
    public void The_dotnet_option_also_reports_what_Apache_Avro_for_dotnet_cannot_resolve()
    {
        var text = Record("Doc", Field("body", P("string")));
        var bytes = Record("Doc", Field("body", P("bytes")));
        var plain = Record("Event", Field("at", P("long")));
        var timestamp = Record("Event", Field("at", """{"type":"long","logicalType":"timestamp-millis"}"""));

        var promotion = AvroCompatibility.CanRead(reader: bytes, writer: text, AvroCompatibilityOptions.ApacheAvroDotNet);
        var logical = AvroCompatibility.CanRead(reader: timestamp, writer: plain, AvroCompatibilityOptions.ApacheAvroDotNet);

        Assert.That(promotion.Incompatibilities.Single().Kind, Is.EqualTo(AvroIncompatibilityKind.UnsupportedByDotNetRuntime));
        Assert.That(promotion.Incompatibilities.Single().Path, Is.EqualTo("/fields/body"));
        Assert.That(logical.Incompatibilities.Single().Kind, Is.EqualTo(AvroIncompatibilityKind.UnsupportedByDotNetRuntime));
        Assert.That(AvroCompatibility.CanRead(reader: text, writer: text, AvroCompatibilityOptions.ApacheAvroDotNet).IsCompatible, Is.True);
    }

    [TestCase("\"string\"", "\"bytes\"")]
    [TestCase("\"bytes\"", "\"string\"")]
    [TestCase("\"long\"", "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}")]
    public void Apache_Avro_for_dotnet_really_refuses_those_spec_legal_resolutions(string writerType, string readerType)
    {
        // Why AvroCompatibilityOptions.ApacheAvroDotNet exists. If this starts failing, Apache.Avro fixed it.
        var writer = Record("Doc", Field("f", writerType));
        var reader = Record("Doc", Field("f", readerType));
        var record = new GenericRecord((RecordSchema)writer);
        record.Add("f", writerType.Contains("bytes", StringComparison.Ordinal) ? "hi"u8.ToArray() : writerType.Contains("long", StringComparison.Ordinal) ? 1L : "hi");
        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(writer).Write(record, new BinaryEncoder(stream));
        stream.Position = 0;

        Assert.That(AvroCompatibility.CanRead(reader, writer).IsCompatible, Is.True, "the specification allows it");
        Assert.That(
            () => new GenericDatumReader<GenericRecord>(writer, reader).Read(null!, new BinaryDecoder(stream)),
            Throws.InstanceOf<AvroException>().With.Message.Contains("Schema mismatch"));
    }

    [Test]
    public void Every_incompatibility_is_reported_not_only_the_first()
    {
        var writer = Record("Order", Field("id", P("string")), Field("amountMinor", P("long")));
        var reader = Record("Order", Field("id", P("int")), Field("amountMinor", P("int")), Field("currency", P("string")));

        var result = AvroCompatibility.CanRead(reader, writer);

        Assert.That(result.Messages, Is.EqualTo(new[]
        {
            "/fields/id: reader type int is not compatible with writer type string",
            "/fields/amountMinor: reader type int is not compatible with writer type long",
            "/fields/currency: reader field has no default and is missing from writer",
        }));
    }

    [Test]
    public void The_root_path_is_a_slash()
    {
        var result = AvroCompatibility.CanRead(Schema.Parse("\"int\""), Schema.Parse("\"string\""));

        Assert.That(result.Messages, Is.EqualTo(new[] { "/: reader type int is not compatible with writer type string" }));
    }

    [TestCase(Compatibility.Backward, false, true)]
    [TestCase(Compatibility.BackwardTransitive, false, false)]
    [TestCase(Compatibility.Forward, true, true)]
    [TestCase(Compatibility.ForwardTransitive, true, true)]
    [TestCase(Compatibility.Full, false, true)]
    [TestCase(Compatibility.FullTransitive, false, false)]
    [TestCase(Compatibility.None, true, true)]
    public void Evolution_levels_check_the_right_directions_and_versions(Compatibility level, bool addRequiredFieldOk, bool transitiveCaseOk)
    {
        // v1 {id}; v2 {id, note = ""}; candidate {id, note (no default)} reads v2 but not v1.
        var v1 = Record("Order", Field("id", P("string")));
        var v2 = Record("Order", Field("id", P("string")), Field("note", P("string"), "\"\""));
        var requiresNote = Record("Order", Field("id", P("string")), Field("note", P("string")));
        var requiresCurrency = Record("Order", Field("id", P("string")), Field("currency", P("string")));

        var addRequired = AvroCompatibility.CheckEvolution(level, requiresCurrency, [v1]);
        var transitive = AvroCompatibility.CheckEvolution(level, requiresNote, [v1, v2]);

        Assert.That(addRequired.IsCompatible, Is.EqualTo(addRequiredFieldOk), addRequired.ToString());
        Assert.That(transitive.IsCompatible, Is.EqualTo(transitiveCaseOk), transitive.ToString());
    }

    [Test]
    public void Evolution_messages_say_which_version_and_direction_failed()
    {
        var v1 = Record("Order", Field("id", P("string")));
        var candidate = Record("Order", Field("id", P("string")), Field("currency", P("string")));

        var result = AvroCompatibility.CheckEvolution(Compatibility.Backward, candidate, [v1]);

        Assert.That(result.Messages, Is.EqualTo(new[]
        {
            "/fields/currency: reader field has no default and is missing from writer "
            + "[BACKWARD: the new schema cannot read data written with version 1]",
        }));
    }
}
