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

    private async Task<int> RegisterAsync(string subject, ConfluentSchema schema) =>
        (await registry.RegisterSchemaWithResponseAsync(subject, schema)).Id;

    [Test]
    public async Task Registering_a_schema_returns_id_1_and_version_1()
    {
        var registered = await registry.RegisterSchemaWithResponseAsync(Subject, V1);

        Assert.That(registered.Id, Is.EqualTo(1));
        Assert.That(registered.Version, Is.EqualTo(1));
        Assert.That(registered.Subject, Is.EqualTo(Subject));
    }

    [Test]
    public async Task Registering_the_same_schema_again_returns_the_same_id_and_no_new_version()
    {
        var first = await RegisterAsync(Subject, V1);
        var again = await RegisterAsync(Subject, V1);
        var reformatted = await RegisterAsync(Subject, Avro(global::Avro.Schema.Parse(V1Json).ToString()));

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
        Assert.That(inAudit.Version, Is.EqualTo(1));
        Assert.That(registry.SchemaCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_compatible_evolution_becomes_version_2_with_a_new_id()
    {
        await RegisterAsync(Subject, V1);

        var v2 = await registry.RegisterSchemaWithResponseAsync(Subject, V2);

        Assert.That(v2.Version, Is.EqualTo(2));
        Assert.That(v2.Id, Is.EqualTo(2));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task Registering_an_earlier_version_again_returns_it_without_a_new_version()
    {
        var v1 = await registry.RegisterSchemaWithResponseAsync(Subject, V1);
        await RegisterAsync(Subject, V2);

        var again = await registry.RegisterSchemaWithResponseAsync(Subject, V1);

        Assert.That((again.Id, again.Version), Is.EqualTo((v1.Id, 1)));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task A_schema_change_that_breaks_backward_compatibility_is_refused()
    {
        await RegisterAsync(Subject, V1);

        var refusal = await Refusal(() => registry.RegisterSchemaWithResponseAsync(Subject, RequiresChannel));

        Assert.That(refusal.Status, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.IncompatibleSchema));
        Assert.That(refusal.Message, Does.Contain("incompatible with an earlier schema for subject \"GiftCertificates.Stream-value\""));
        Assert.That(refusal.Message, Does.Contain("/fields/channel: reader field has no default and is missing from writer"));
        Assert.That(refusal.Message, Does.Contain("compatibility: 'BACKWARD'"));
        Assert.That(await registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
        Assert.That(registry.SchemaCount, Is.EqualTo(1), "a refused schema gets no id");
    }

    [Test]
    public async Task BACKWARD_checks_the_latest_version_only_and_the_refusal_names_it()
    {
        var v1 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"}]}""");
        var v2 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"note","type":"string","default":""}]}""");
        var v3 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"note","type":"string"}]}""");
        var v4 = Avro("""{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"note","type":"string"},{"name":"tag","type":"string"}]}""");
        await RegisterAsync("plain", v1);
        await RegisterAsync("plain", v2);

        var accepted = await registry.RegisterSchemaWithResponseAsync("plain", v3);
        var refusal = await Refusal(() => registry.RegisterSchemaWithResponseAsync("plain", v4));

        Assert.That(accepted.Version, Is.EqualTo(3), "v3 cannot read v1 data, but BACKWARD only checks the latest version");
        Assert.That(refusal.Message, Does.Contain("/fields/tag: reader field has no default and is missing from writer [BACKWARD: the new schema cannot read data written with version 3]"));
    }

    [Test]
    public async Task The_latest_version_and_schemas_by_id_are_served()
    {
        var v1 = await registry.RegisterSchemaWithResponseAsync(Subject, V1);
        var v2 = await registry.RegisterSchemaWithResponseAsync(Subject, V2);

        var latest = await registry.GetLatestSchemaAsync(Subject);
        var byId = await registry.GetSchemaBySubjectAndIdAsync(Subject, v1.Id);
        var withAnySubject = await registry.GetSchemaBySubjectAndIdAsync("any-subject", v2.Id);

        Assert.That((latest.Subject, latest.Version, latest.Id, latest.SchemaString), Is.EqualTo((Subject, 2, v2.Id, v2.SchemaString)));
        Assert.That(global::Avro.Schema.Parse(byId.SchemaString), Is.EqualTo(global::Avro.Schema.Parse(V1Json)));
        Assert.That(byId.SchemaType, Is.EqualTo(SchemaType.Avro));
        Assert.That(byId.References, Is.Empty);
        Assert.That(withAnySubject.SchemaString, Is.EqualTo(v2.SchemaString));
        Assert.That(await registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { Subject }));
    }

    [Test]
    public async Task The_returned_schema_text_is_canonical_and_registers_to_the_same_id()
    {
        var id = await RegisterAsync(Subject, V1);
        var text = (await registry.GetSchemaBySubjectAndIdAsync(Subject, id)).SchemaString;

        Assert.That(text, Does.Not.Contain("\n"));
        Assert.That(await RegisterAsync("other", Avro(text)), Is.EqualTo(id));
    }

    [Test]
    public async Task Lookup_finds_a_registered_schema_and_its_version()
    {
        await RegisterAsync(Subject, V1);
        await RegisterAsync(Subject, V2);

        var found = await registry.LookupSchemaAsync(Subject, V1, ignoreDeletedSchemas: true);

        Assert.That((found.Version, found.Id), Is.EqualTo((1, 1)));
        Assert.That((await registry.LookupSchemaAsync(Subject, V2, ignoreDeletedSchemas: true)).Id, Is.EqualTo(2));
        Assert.That((await Refusal(() => registry.LookupSchemaAsync(Subject, RequiresChannel, ignoreDeletedSchemas: true))).ErrorCode,
            Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
    }

    [Test]
    public async Task An_unknown_subject_is_refused_with_40401()
    {
        foreach (var call in new Func<Task>[]
                 {
                     () => registry.GetLatestSchemaAsync("nope"),
                     () => registry.GetSubjectVersionsAsync("nope"),
                     () => registry.LookupSchemaAsync("nope", V1, ignoreDeletedSchemas: true),
                 })
        {
            var refusal = await Refusal(call);
            Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SubjectNotFound));
            Assert.That(refusal.Status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(refusal.Message, Does.StartWith("Subject 'nope' not found."));
        }
    }

    [Test]
    public async Task An_unknown_schema_id_is_refused_with_40403()
    {
        var refusal = await Refusal(() => registry.GetSchemaBySubjectAndIdAsync(Subject, 42));

        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.SchemaNotFound));
        Assert.That(refusal.Message, Does.StartWith("Schema 42 not found"));
    }

    [TestCase("not json")]
    [TestCase("""{"type":"record","name":"R"}""")]
    [TestCase("""{"type":"recrod","name":"R","fields":[]}""")]
    [TestCase("""{"type":"record","name":"R","fields":[{"name":"a","type":"long","default":"zero"}]}""")]
    [TestCase("""{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"],"default":1}]}""")]
    [TestCase("""{"type":"enum","name":"E","symbols":["A"],"default":"B"}""")]
    public async Task An_invalid_schema_is_refused_with_42201(string json)
    {
        var refusal = await Refusal(() => registry.RegisterSchemaWithResponseAsync(Subject, Avro(json)));

        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.InvalidSchema));
        Assert.That(refusal.Status, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
    }

    [Test]
    public async Task Schema_types_other_than_AVRO_are_refused_with_42201()
    {
        var refusal = await Refusal(() => registry.RegisterSchemaWithResponseAsync(Subject, new ConfluentSchema("{}", SchemaType.Json)));

        Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.InvalidSchema));
        Assert.That(refusal.Message, Does.Contain("AVRO only"));
    }

    [Test]
    public async Task References_metadata_and_rule_sets_are_refused_with_42201()
    {
        var withReference = new ConfluentSchema(V1Json, [new SchemaReference("gcp.Money", "money", 1)], SchemaType.Avro);
        var withMetadata = new ConfluentSchema(V1Json, [], SchemaType.Avro, new Metadata(null, new Dictionary<string, string> { ["owner"] = "payments" }, null), null);
        var withRules = new ConfluentSchema(V1Json, [], SchemaType.Avro, null, new RuleSet([], []));

        foreach (var schema in new[] { withReference, withMetadata, withRules })
        {
            var refusal = await Refusal(() => registry.RegisterSchemaWithResponseAsync(Subject, schema));
            Assert.That(refusal.ErrorCode, Is.EqualTo(SchemaRegistryErrorCodes.InvalidSchema));
        }

        Assert.That(registry.SchemaCount, Is.Zero);
    }

    [Test]
    public void Errors_arrive_through_faulted_tasks_like_an_http_client()
    {
        var task = registry.GetLatestSchemaAsync("nope");

        Assert.That(task.IsFaulted, Is.True);
    }

    [Test]
    public async Task There_are_no_associations_so_the_Associated_strategy_falls_back_to_the_topic()
    {
        Assert.That(await registry.GetAssociationsByResourceNameAsync("orders", "-", "topic", ["value"], null, 0, -1), Is.Empty);
    }

    [Test]
    public async Task What_Confluents_serializers_do_not_call_is_not_supported()
    {
        var id = await RegisterAsync(Subject, V1);

        foreach (var call in new Func<Task>[]
                 {
                     () => registry.RegisterSchemaAsync(Subject, V1),
                     () => registry.GetSchemaIdAsync(Subject, V1),
                     () => registry.GetSchemaAsync(id),
                     () => registry.GetSchemaByGuidAsync(Guid.NewGuid().ToString()),
                     () => registry.GetRegisteredSchemaAsync(Subject, 1),
                     () => registry.GetLatestWithMetadataAsync(Subject, new Dictionary<string, string>(), true),
                     () => registry.IsCompatibleAsync(Subject, V2),
                     () => registry.GetCompatibilityAsync(),
                     () => registry.UpdateCompatibilityAsync(Compatibility.None),
                     () => registry.CreateAssociationAsync(new AssociationCreateOrUpdateRequest()),
                     () => registry.DeleteAssociationsAsync("topic-id", null, null, false),
                 })
        {
            var task = call();
            Assert.That(task.IsFaulted, Is.True);
            await Assert.ThrowsAsync<NotSupportedException>(async () => await task);
        }
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
            ids[i] = RegisterAsync(i % 2 == 0 ? Subject : "other-value", V1).GetAwaiter().GetResult();
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
            RegisterAsync($"subject-{i}", Avro($$"""{"type":"record","name":"R{{i}}","fields":[]}""")))));

        Assert.That(ids.Order(), Is.EqualTo(Enumerable.Range(1, count)));
    }
}
