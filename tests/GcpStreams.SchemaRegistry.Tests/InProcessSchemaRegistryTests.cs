using System.Net;
using Confluent.SchemaRegistry;
using ConfluentSchema = Confluent.SchemaRegistry.Schema;

namespace GcpStreams.SchemaRegistry.Tests;

/// <summary>The in-process registry behaves like Confluent Schema Registry.</summary>
public class InProcessSchemaRegistryTests
{
    private const string Subject = "GiftCertificates.Stream-value";

    private const string V1Json =
        """{"type":"record","name":"GiftCardIssued","namespace":"gcp.registry.test","fields":[{"name":"certificateId","type":"string"},{"name":"amountMinor","type":"long"},{"name":"note","type":["null","string"],"default":null}]}""";

    /// <summary>V1 plus a field with a default: BACKWARD compatible.</summary>
    private const string V2Json =
        """{"type":"record","name":"GiftCardIssued","namespace":"gcp.registry.test","fields":[{"name":"certificateId","type":"string"},{"name":"amountMinor","type":"long"},{"name":"note","type":["null","string"],"default":null},{"name":"currency","type":"string","default":"EUR"}]}""";

    /// <summary>V1 plus a field without a default: v2 readers cannot read v1 data (BACKWARD incompatible).</summary>
    private const string RequiresChannelJson =
        """{"type":"record","name":"GiftCardIssued","namespace":"gcp.registry.test","fields":[{"name":"certificateId","type":"string"},{"name":"amountMinor","type":"long"},{"name":"note","type":["null","string"],"default":null},{"name":"channel","type":"string"}]}""";

    private static readonly ConfluentSchema V1 = Avro(V1Json);
    private static readonly ConfluentSchema V2 = Avro(V2Json);
    private static readonly ConfluentSchema RequiresChannel = Avro(RequiresChannelJson);

    private InProcessSchemaRegistry registry = null!;

    [SetUp]
    public void SetUp() => registry = new InProcessSchemaRegistry();

    [TearDown]
    public void TearDown() => registry.Dispose();

    private static ConfluentSchema Avro(string json) => new(json, SchemaType.Avro);

    private static async Task<SchemaRegistryException> Refusal(Func<Task> call) =>
        (await Assert.ThrowsAsync<SchemaRegistryException>(async () => await call()))!;

    [Test]
    public async Task Registering_a_schema_returns_id_1_and_version_1()
    {
        var registered = await registry.RegisterSchemaWithResponseAsync(Subject, V1);

        Assert.That(registered.Id, Is.EqualTo(1));
        Assert.That(registered.Version, Is.EqualTo(1));
        Assert.That(registered.Subject, Is.EqualTo(Subject));
        Assert.That(Guid.TryParse(registered.Guid, out _), Is.True);
    }

    [Test]
    public async Task Registering_the_same_schema_again_returns_the_same_id_and_no_new_version()
    {
        var first = await registry.RegisterSchemaAsync(Subject, V1);
        var again = await registry.RegisterSchemaAsync(Subject, V1);
        var reformatted = await registry.RegisterSchemaAsync(Subject, Avro(global::Avro.Schema.Parse(V1Json).ToString()));

        Assert.That(again, Is.EqualTo(first));
        Assert.That(reformatted, Is.EqualTo(first), "the canonical form ignores whitespace and namespace spelling");
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task The_same_schema_under_another_subject_gets_the_same_id()
    {
        var inStream = await registry.RegisterSchemaWithResponseAsync(Subject, V1);
        var inAudit = await registry.RegisterSchemaWithResponseAsync("GiftCertificates.Audit-value", V1);

        Assert.That(inAudit.Id, Is.EqualTo(inStream.Id));
        Assert.That(inAudit.Guid, Is.EqualTo(inStream.Guid));
        Assert.That(inAudit.Version, Is.EqualTo(1));
        Assert.That(registry.SchemaCount, Is.EqualTo(1));
    }

    [Test]
    public async Task The_guid_of_a_schema_is_derived_from_its_content()
    {
        using var other = new InProcessSchemaRegistry();
        await other.RegisterSchemaAsync("something-else", V2);

        var here = await registry.RegisterSchemaWithResponseAsync(Subject, V1);
        var there = await other.RegisterSchemaWithResponseAsync(Subject, V1);

        Assert.That(there.Guid, Is.EqualTo(here.Guid));
        Assert.That(there.Id, Is.Not.EqualTo(here.Id), "ids count registrations; guids do not");
    }

    [Test]
    public async Task A_compatible_evolution_becomes_version_2_with_a_new_id()
    {
        await registry.RegisterSchemaAsync(Subject, V1);

        var v2 = await registry.RegisterSchemaWithResponseAsync(Subject, V2);

        Assert.That(v2.Version, Is.EqualTo(2));
        Assert.That(v2.Id, Is.EqualTo(2));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task Registering_an_earlier_version_again_returns_it_without_a_new_version()
    {
        var v1 = await registry.RegisterSchemaWithResponseAsync(Subject, V1);
        await registry.RegisterSchemaAsync(Subject, V2);

        var again = await registry.RegisterSchemaWithResponseAsync(Subject, V1);

        Assert.That((again.Id, again.Version), Is.EqualTo((v1.Id, 1)));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task A_schema_change_that_breaks_backward_compatibility_is_refused()
    {
        await registry.RegisterSchemaAsync(Subject, V1);

        var refusal = await Refusal(() => registry.RegisterSchemaAsync(Subject, RequiresChannel));

        Assert.That(refusal.Status, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.IncompatibleSchema));
        Assert.That(refusal.Message, Does.Contain("incompatible with an earlier schema for subject \"GiftCertificates.Stream-value\""));
        Assert.That(refusal.Message, Does.Contain("/fields/channel: reader field has no default and is missing from writer"));
        Assert.That(refusal.Message, Does.Contain("compatibility: 'BACKWARD'"));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
        Assert.That(registry.SchemaCount, Is.EqualTo(1), "a refused schema gets no id");
    }

    [Test]
    public async Task Compatibility_NONE_lets_an_incompatible_schema_through()
    {
        await registry.RegisterSchemaAsync(Subject, V1);
        await registry.UpdateCompatibilityAsync(Compatibility.None, Subject);

        var registered = await registry.RegisterSchemaWithResponseAsync(Subject, RequiresChannel);

        Assert.That(registered.Version, Is.EqualTo(2));
        Assert.That(await registry.GetCompatibilityAsync(Subject), Is.EqualTo(Compatibility.None));
        Assert.That(await registry.GetCompatibilityAsync(), Is.EqualTo(Compatibility.Backward), "global level unchanged");
    }

    [Test]
    public async Task The_global_level_applies_to_subjects_without_their_own()
    {
        await registry.RegisterSchemaAsync(Subject, V1);
        await registry.UpdateCompatibilityAsync(Compatibility.None);

        Assert.That(registry.GetEffectiveCompatibility(Subject), Is.EqualTo(Compatibility.None));
        Assert.That((await registry.RegisterSchemaWithResponseAsync(Subject, RequiresChannel)).Version, Is.EqualTo(2));
    }

    [Test]
    public async Task The_default_compatibility_is_BACKWARD_and_a_subject_has_none_of_its_own()
    {
        Assert.That(await registry.GetCompatibilityAsync(), Is.EqualTo(Compatibility.Backward));
        var refusal = await Refusal(() => registry.GetCompatibilityAsync(Subject));
        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SubjectLevelCompatibilityNotConfigured));
    }

    [Test]
    public async Task FORWARD_refuses_removing_a_field_old_readers_need_and_accepts_adding_one()
    {
        await registry.UpdateCompatibilityAsync(Compatibility.Forward, Subject);
        await registry.RegisterSchemaAsync(Subject, V1);

        Assert.That((await registry.RegisterSchemaWithResponseAsync(Subject, RequiresChannel)).Version, Is.EqualTo(2), "v1 readers skip 'channel'");
        var withoutAmount = Avro("""{"type":"record","name":"GiftCardIssued","namespace":"gcp.registry.test","fields":[{"name":"certificateId","type":"string"},{"name":"channel","type":"string"}]}""");
        var refusal = await Refusal(() => registry.RegisterSchemaAsync(Subject, withoutAmount));
        Assert.That(refusal.Message, Does.Contain("/fields/amountMinor: reader field has no default and is missing from writer"));
    }

    [Test]
    public async Task BACKWARD_TRANSITIVE_checks_every_earlier_version_not_only_the_latest()
    {
        var v1 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"}]}""");
        var v2 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"note","type":"string","default":""}]}""");
        var v3 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"note","type":"string"}]}""");
        await registry.UpdateCompatibilityAsync(Compatibility.BackwardTransitive, "transitive");
        await registry.RegisterSchemaAsync("transitive", v1);
        await registry.RegisterSchemaAsync("transitive", v2);
        await registry.RegisterSchemaAsync("plain", v1);
        await registry.RegisterSchemaAsync("plain", v2);

        var refusal = await Refusal(() => registry.RegisterSchemaAsync("transitive", v3));
        var accepted = await registry.RegisterSchemaWithResponseAsync("plain", v3);

        Assert.That(refusal.Message, Does.Contain("version 1"));
        Assert.That(accepted.Version, Is.EqualTo(3), "BACKWARD only checks the latest version");
    }

    [Test]
    public async Task IsCompatible_checks_against_the_latest_version()
    {
        Assert.That(await registry.IsCompatibleAsync(Subject, RequiresChannel), Is.True, "no version yet");
        await registry.RegisterSchemaAsync(Subject, V1);

        Assert.That(await registry.IsCompatibleAsync(Subject, V2), Is.True);
        Assert.That(await registry.IsCompatibleAsync(Subject, RequiresChannel), Is.False);
        Assert.That(await registry.TestCompatibilityVerboseAsync(Subject, RequiresChannel),
            Has.Some.Contains("/fields/channel: reader field has no default and is missing from writer"));
    }

    [Test]
    public async Task Versions_latest_by_version_and_by_id_are_served()
    {
        var v1 = await registry.RegisterSchemaWithResponseAsync(Subject, V1);
        var v2 = await registry.RegisterSchemaWithResponseAsync(Subject, V2);

        var latest = await registry.GetLatestSchemaAsync(Subject);
        var first = await registry.GetRegisteredSchemaAsync(Subject, 1);
        var minusOne = await registry.GetRegisteredSchemaAsync(Subject, -1);
        var byId = await registry.GetSchemaAsync(v1.Id);
        var byGuid = await registry.GetSchemaByGuidAsync(v2.Guid);
        var bySubjectAndId = await registry.GetSchemaBySubjectAndIdAsync("any-subject", v2.Id);

        Assert.That((latest.Version, latest.Id), Is.EqualTo((2, v2.Id)));
        Assert.That(minusOne.Version, Is.EqualTo(2));
        Assert.That((first.Version, first.Id, first.Subject), Is.EqualTo((1, v1.Id, Subject)));
        Assert.That(global::Avro.Schema.Parse(byId.SchemaString), Is.EqualTo(global::Avro.Schema.Parse(V1Json)));
        Assert.That(byId.SchemaType, Is.EqualTo(SchemaType.Avro));
        Assert.That(byId.References, Is.Empty);
        Assert.That(byGuid.SchemaString, Is.EqualTo(v2.SchemaString));
        Assert.That(bySubjectAndId.SchemaString, Is.EqualTo(v2.SchemaString));
        Assert.That(await registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { Subject }));
    }

    [Test]
    public async Task The_returned_schema_text_is_canonical_and_registers_to_the_same_id()
    {
        var id = await registry.RegisterSchemaAsync(Subject, V1);
        var text = (await registry.GetSchemaAsync(id)).SchemaString;

        Assert.That(text, Does.Not.Contain("\n"));
        Assert.That(await registry.RegisterSchemaAsync("other", Avro(text)), Is.EqualTo(id));
    }

    [Test]
    public async Task Lookup_finds_a_registered_schema_and_its_version()
    {
        await registry.RegisterSchemaAsync(Subject, V1);
        await registry.RegisterSchemaAsync(Subject, V2);

        var found = await registry.LookupSchemaAsync(Subject, V1, ignoreDeletedSchemas: true);

        Assert.That((found.Version, found.Id), Is.EqualTo((1, 1)));
        Assert.That(await registry.GetSchemaIdAsync(Subject, V2), Is.EqualTo(2));
        Assert.That((await Refusal(() => registry.GetSchemaIdAsync(Subject, RequiresChannel))).ErrorCode,
            Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
    }

    [Test]
    public async Task An_unknown_subject_is_refused_with_40401()
    {
        foreach (var call in new Func<Task>[]
                 {
                     () => registry.GetLatestSchemaAsync("nope"),
                     () => registry.GetSubjectVersionsAsync("nope"),
                     () => registry.GetRegisteredSchemaAsync("nope", 1),
                     () => registry.LookupSchemaAsync("nope", V1, ignoreDeletedSchemas: true),
                     () => registry.GetSchemaIdAsync("nope", V1),
                 })
        {
            var refusal = await Refusal(call);
            Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SubjectNotFound));
            Assert.That(refusal.Status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(refusal.Message, Does.StartWith("Subject 'nope' not found."));
        }
    }

    [Test]
    public async Task An_unknown_version_is_refused_with_40402_and_an_invalid_one_with_42202()
    {
        await registry.RegisterSchemaAsync(Subject, V1);

        Assert.That((await Refusal(() => registry.GetRegisteredSchemaAsync(Subject, 2))).ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.VersionNotFound));
        Assert.That((await Refusal(() => registry.GetRegisteredSchemaAsync(Subject, 0))).ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.InvalidVersion));
    }

    [Test]
    public async Task An_unknown_schema_id_or_guid_is_refused_with_40403()
    {
        Assert.That((await Refusal(() => registry.GetSchemaAsync(42))).ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
        Assert.That((await Refusal(() => registry.GetSchemaBySubjectAndIdAsync(Subject, 42))).ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
        Assert.That((await Refusal(() => registry.GetSchemaByGuidAsync(Guid.NewGuid().ToString()))).ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
    }

    [TestCase("not json")]
    [TestCase("""{"type":"record","name":"R"}""")]
    [TestCase("""{"type":"recrod","name":"R","fields":[]}""")]
    [TestCase("""{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":"zero"}]}""")]
    [TestCase("""{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"],"default":1}]}""")]
    [TestCase("""{"type":"enum","name":"E","symbols":["A"],"default":"B"}""")]
    public async Task An_invalid_schema_is_refused_with_42201(string json)
    {
        var refusal = await Refusal(() => registry.RegisterSchemaAsync(Subject, Avro(json)));

        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.InvalidSchema));
        Assert.That(refusal.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
    }

    [Test]
    public async Task Schema_types_other_than_AVRO_are_refused_with_42201()
    {
        var refusal = await Refusal(() => registry.RegisterSchemaAsync(Subject, new ConfluentSchema("{}", SchemaType.Json)));

        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.InvalidSchema));
        Assert.That(refusal.Message, Does.Contain("AVRO only"));
    }

    [Test]
    public void Errors_arrive_through_faulted_tasks_like_an_http_client()
    {
        var task = registry.GetLatestSchemaAsync("nope");

        Assert.That(task.IsFaulted, Is.True);
    }

    [Test]
    public async Task Concurrent_registrations_of_one_schema_yield_one_id_and_one_version()
    {
        const int threadCount = 32;
        var ids = new int[threadCount];
        using var start = new Barrier(threadCount);
        var threads = Enumerable.Range(0, threadCount).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            ids[i] = registry.RegisterSchemaAsync(i % 2 == 0 ? Subject : "other-value", V1).GetAwaiter().GetResult();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(ids.Distinct(), Is.EqualTo(new[] { 1 }));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
        Assert.That(await registry.GetSubjectVersionsAsync("other-value"), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task Concurrent_registrations_of_different_schemas_get_dense_unique_ids()
    {
        const int count = 40;
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(() =>
            registry.RegisterSchemaAsync($"subject-{i}", Avro($$"""{"type":"record","name":"R{{i}}","fields":[]}""")))));

        Assert.That(ids.Order(), Is.EqualTo(Enumerable.Range(1, count)));
    }

    [Test]
    public async Task A_schema_can_reference_a_type_registered_under_another_subject()
    {
        await registry.RegisterSchemaAsync("money", Avro("""{"type":"record","name":"Money","namespace":"gcp","fields":[{"name":"amountMinor","type":"long"},{"name":"currency","type":"string"}]}"""));
        var order = new ConfluentSchema(
            """{"type":"record","name":"Order","namespace":"gcp","fields":[{"name":"total","type":"gcp.Money"}]}""",
            [new SchemaReference("gcp.Money", "money", 1)],
            SchemaType.Avro);

        var id = await registry.RegisterSchemaAsync("orders-value", order);
        var stored = await registry.GetSchemaAsync(id);

        Assert.That(stored.References, Is.EqualTo(new[] { new SchemaReference("gcp.Money", "money", 1) }));
        Assert.That((await Refusal(() => registry.RegisterSchemaAsync("x", new ConfluentSchema(order.SchemaString, [new SchemaReference("gcp.Money", "money", 7)], SchemaType.Avro)))).ErrorCode,
            Is.EqualTo(SchemaRegistryErrorCodes.InvalidSchema));
    }

    [Test]
    public async Task Latest_with_metadata_finds_the_latest_version_carrying_the_properties()
    {
        var tagged = new ConfluentSchema(V1.SchemaString, [], SchemaType.Avro,
            new Metadata(null, new Dictionary<string, string> { ["owner"] = "payments" }, null), null);
        await registry.RegisterSchemaAsync(Subject, tagged);
        await registry.RegisterSchemaAsync(Subject, V2);

        var found = await registry.GetLatestWithMetadataAsync(Subject, new Dictionary<string, string> { ["owner"] = "payments" }, true);

        Assert.That(found.Version, Is.EqualTo(1));
        Assert.That((await Refusal(() => registry.GetLatestWithMetadataAsync(Subject, new Dictionary<string, string> { ["owner"] = "crm" }, true))).ErrorCode,
            Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
    }

    [Test]
    public async Task Associations_are_empty_until_created_and_can_be_deleted()
    {
        Assert.That(await registry.GetAssociationsByResourceNameAsync("orders", "-", "topic", ["value"], null, 0, -1), Is.Empty);

        await registry.CreateAssociationAsync(new AssociationCreateOrUpdateRequest(
            "orders", "lkc-1", "topic-id-1", "topic", [new AssociationCreateOrUpdateInfo("orders-v", "value", null, null, V1, null)]));
        var found = await registry.GetAssociationsByResourceNameAsync("orders", "-", "topic", ["value"], null, 0, -1);

        Assert.That(found.Select(a => (a.Subject, a.AssociationType, a.Lifecycle)), Is.EqualTo(new[] { ("orders-v", "value", "STRONG") }));
        Assert.That(await registry.GetSubjectVersionsAsync("orders-v"), Is.EqualTo(new[] { 1 }), "the schema was registered");

        await registry.DeleteAssociationsAsync("topic-id-1", null, null, cascadeLifecycle: false);
        Assert.That(await registry.GetAssociationsByResourceNameAsync("orders", "-", null, null, null, 0, -1), Is.Empty);
    }
}
