using System.Net;
using Confluent.SchemaRegistry;

namespace GcpStreams.SchemaRegistry.Tests.Http;

/// <summary>Confluent's own <see cref="CachedSchemaRegistryClient"/> against the served in-process registry.</summary>
public class ConfluentClientTests
{
    private const string Subject = "gift-cards-value";

    private RegistryServer server = null!;
    private CachedSchemaRegistryClient client = null!;

    [SetUp]
    public async Task SetUp()
    {
        server = await RegistryServer.StartAsync();
        client = server.NewClient();
    }

    [TearDown]
    public async Task TearDown()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    [Test]
    public async Task Registers_and_reads_back_by_id_latest_version_subjects_and_versions()
    {
        var id1 = await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));
        var id2 = await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V2));

        Assert.That((id1, id2), Is.EqualTo((1, 2)));
        var stored = await server.Registry.GetRegisteredSchemaAsync(Subject, 1);
        Assert.That(stored.Id, Is.EqualTo(id1), "the ids are the in-process registry's");

        var byId = await client.GetSchemaAsync(id1);
        Assert.That(byId.SchemaString, Is.EqualTo(stored.SchemaString));
        Assert.That(byId.SchemaType, Is.EqualTo(SchemaType.Avro));
        Assert.That(byId.References, Is.Empty);

        var latest = await client.GetLatestSchemaAsync(Subject);
        Assert.That((latest.Subject, latest.Version, latest.Id), Is.EqualTo((Subject, 2, id2)));

        var first = await client.GetRegisteredSchemaAsync(Subject, 1);
        Assert.That((first.Subject, first.Version, first.Id, first.Guid), Is.EqualTo((Subject, 1, id1, stored.Guid)));
        Assert.That(first.SchemaString, Is.EqualTo(stored.SchemaString));

        Assert.That(await client.GetAllSubjectsAsync(), Is.EqualTo(new[] { Subject }));
        Assert.That(await client.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task Registering_again_or_under_another_subject_keeps_the_id_and_lookup_finds_the_version()
    {
        var id = await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));

        using var other = server.NewClient(); // no cache: every answer comes from the server
        Assert.That(await other.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1)), Is.EqualTo(id));
        Assert.That(await other.RegisterSchemaAsync("other-subject", Schemas.Avro(Schemas.V1)), Is.EqualTo(id));
        Assert.That(await other.GetSchemaIdAsync(Subject, Schemas.Avro(Schemas.V1)), Is.EqualTo(id));

        // A fresh client: "other" would answer from the registration it cached (Confluent's register response
        // carries no subject).
        using var third = server.NewClient();
        var found = await third.LookupSchemaAsync(Subject, Schemas.Avro(Schemas.V1), ignoreDeletedSchemas: true);
        Assert.That((found.Subject, found.Version, found.Id), Is.EqualTo((Subject, 1, id)));
        Assert.That(await server.Registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task Checks_compatibility_against_the_latest_version()
    {
        await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));

        Assert.That(await client.IsCompatibleAsync(Subject, Schemas.Avro(Schemas.V2)), Is.True);
        Assert.That(await client.IsCompatibleAsync(Subject, Schemas.Avro(Schemas.NoDefault)), Is.False);
        Assert.That(await client.IsCompatibleAsync("no-such-subject", Schemas.Avro(Schemas.NoDefault)), Is.True, "nothing to be incompatible with");
    }

    [Test]
    public async Task Reads_and_updates_the_global_and_subject_compatibility_levels()
    {
        Assert.That(await client.GetCompatibilityAsync(), Is.EqualTo(Compatibility.Backward));

        Assert.That(await client.UpdateCompatibilityAsync(Compatibility.FullTransitive), Is.EqualTo(Compatibility.FullTransitive));
        Assert.That(await client.GetCompatibilityAsync(), Is.EqualTo(Compatibility.FullTransitive));
        Assert.That(await server.Registry.GetCompatibilityAsync(), Is.EqualTo(Compatibility.FullTransitive));

        var none = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetCompatibilityAsync(Subject));
        Assert.That((none!.ErrorCode, none.Status), Is.EqualTo((40408, HttpStatusCode.NotFound)));

        Assert.That(await client.UpdateCompatibilityAsync(Compatibility.None, Subject), Is.EqualTo(Compatibility.None));
        Assert.That(await client.GetCompatibilityAsync(Subject), Is.EqualTo(Compatibility.None));
        Assert.That(server.Registry.GetEffectiveCompatibility(Subject), Is.EqualTo(Compatibility.None));
    }

    [Test]
    public async Task An_incompatible_new_version_is_refused_with_409_40901()
    {
        await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));

        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.NoDefault)));

        Assert.That((refused!.ErrorCode, refused.Status), Is.EqualTo((40901, HttpStatusCode.Conflict)));
        Assert.That(refused.Message, Does.StartWith("Schema being registered is incompatible with an earlier schema for subject \"gift-cards-value\""));
        Assert.That(await server.Registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task Unknown_subjects_versions_and_ids_are_Confluents_404s()
    {
        await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));

        var subject = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetLatestSchemaAsync("no-such-subject"));
        Assert.That((subject!.ErrorCode, subject.Status), Is.EqualTo((40401, HttpStatusCode.NotFound)));
        Assert.That(subject.Message, Is.EqualTo("Subject 'no-such-subject' not found.; error code: 40401"));

        var versions = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetSubjectVersionsAsync("no-such-subject"));
        Assert.That(versions!.ErrorCode, Is.EqualTo(40401));

        var version = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetRegisteredSchemaAsync(Subject, 7));
        Assert.That((version!.ErrorCode, version.Status), Is.EqualTo((40402, HttpStatusCode.NotFound)));

        var id = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetSchemaAsync(99));
        Assert.That((id!.ErrorCode, id.Status), Is.EqualTo((40403, HttpStatusCode.NotFound)));

        var lookup = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetSchemaIdAsync(Subject, Schemas.Avro(Schemas.V2)));
        Assert.That(lookup!.ErrorCode, Is.EqualTo(40403));
    }

    [Test]
    public async Task An_invalid_schema_is_refused_with_422_42201()
    {
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(
            () => client.RegisterSchemaAsync(Subject, Schemas.Avro("""{"type":"record","name":"Broken","fields":[{"name":"x"}]}""")));

        Assert.That((refused!.ErrorCode, refused.Status), Is.EqualTo((42201, HttpStatusCode.UnprocessableEntity)));
    }

    [Test]
    public async Task Reads_by_guid_and_by_metadata()
    {
        var withMetadata = new Schema(Schemas.V1, [], SchemaType.Avro, new Metadata(null, new Dictionary<string, string> { ["owner"] = "payments" }, null), null);
        var registered = await client.RegisterSchemaWithResponseAsync(Subject, withMetadata);
        await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V2));

        Assert.That(registered.Guid, Is.EqualTo((await server.Registry.GetRegisteredSchemaAsync(Subject, 1)).Guid));
        var byGuid = await client.GetSchemaByGuidAsync(registered.Guid);
        Assert.That(byGuid.SchemaString, Is.EqualTo(registered.SchemaString));
        Assert.That(byGuid.Metadata?.Properties["owner"], Is.EqualTo("payments"));

        var owned = await client.GetLatestWithMetadataAsync(Subject, new Dictionary<string, string> { ["owner"] = "payments" }, ignoreDeletedSchemas: true);
        Assert.That((owned.Version, owned.Id), Is.EqualTo((1, registered.Id)));
    }

    [Test]
    public async Task A_schema_with_a_rule_set_registered_twice_keeps_one_id_and_one_version()
    {
        // Confluent's RuleSet.Equals compares rule lists by reference: each request deserializes its own lists.
        static Schema WithRules() => new(Schemas.V1, [], SchemaType.Avro, null,
            new RuleSet([new Rule("positive", RuleKind.Condition, RuleMode.Write, "CEL", null, null, "message.amountMinor > 0", null, null, false)], null));

        var first = await client.RegisterSchemaAsync(Subject, WithRules());
        using var other = server.NewClient();
        var second = await other.RegisterSchemaAsync(Subject, WithRules());

        Assert.That(second, Is.EqualTo(first));
        Assert.That(await server.Registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
        var back = await other.GetSchemaAsync(first);
        Assert.That(back.RuleSet?.DomainRules, Is.Null);
        Assert.That(back.RuleSet?.MigrationRules.Single().Expr, Is.EqualTo("message.amountMinor > 0"));
    }

    [Test]
    public async Task Subjects_with_slashes_and_percent_signs_reach_the_registry_unchanged()
    {
        const string odd = "team/orders%20-value";

        var id = await client.RegisterSchemaAsync(odd, Schemas.Avro(Schemas.V1));

        Assert.That(await server.Registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { odd }));
        Assert.That((await client.GetLatestSchemaAsync(odd)).Id, Is.EqualTo(id));
        Assert.That(await client.GetSubjectVersionsAsync(odd), Is.EqualTo(new[] { 1 }));
        Assert.That(await client.UpdateCompatibilityAsync(Compatibility.Full, odd), Is.EqualTo(Compatibility.Full));
        Assert.That(server.Registry.GetEffectiveCompatibility(odd), Is.EqualTo(Compatibility.Full));
    }

    [Test]
    public async Task Creates_lists_and_deletes_associations()
    {
        var created = await client.CreateAssociationAsync(new AssociationCreateOrUpdateRequest
        {
            ResourceName = "orders",
            ResourceNamespace = "lkc-1",
            ResourceId = "topic-id-1",
            ResourceType = "topic",
            Associations = [new AssociationCreateOrUpdateInfo { Subject = "orders-custom", Schema = Schemas.Avro(Schemas.V1) }],
        });

        Assert.That(created.Associations.Single().Subject, Is.EqualTo("orders-custom"));
        Assert.That(await server.Registry.GetSubjectVersionsAsync("orders-custom"), Is.EqualTo(new[] { 1 }));

        var found = await client.GetAssociationsByResourceNameAsync("orders", "-", "topic", ["value"], null, 0, -1);
        Assert.That(found.Select(a => (a.Subject, a.ResourceNamespace, a.AssociationType, a.Lifecycle)),
            Is.EqualTo(new[] { ("orders-custom", "lkc-1", "value", "STRONG") }));
        Assert.That(await client.GetAssociationsByResourceNameAsync("orders", "-", "topic", ["key"], null, 0, -1), Is.Empty);

        await client.DeleteAssociationsAsync("topic-id-1", "topic", null, cascadeLifecycle: false);

        Assert.That(await client.GetAssociationsByResourceNameAsync("orders", "-", "topic", null, null, 0, -1), Is.Empty);
    }

    [Test]
    public async Task An_existing_association_is_refused_with_409_40903()
    {
        var request = new AssociationCreateOrUpdateRequest
        {
            ResourceName = "orders",
            ResourceNamespace = "lkc-1",
            ResourceId = "topic-id-1",
            Associations = [new AssociationCreateOrUpdateInfo { Subject = "orders-custom", Schema = Schemas.Avro(Schemas.V1) }],
        };
        await client.CreateAssociationAsync(request);

        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.CreateAssociationAsync(request));

        Assert.That((refused!.ErrorCode, refused.Status), Is.EqualTo((40903, HttpStatusCode.Conflict)));
    }
}
