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
    public async Task Registers_and_reads_back_by_id()
    {
        var id1 = await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));
        var id2 = await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V2));

        Assert.That((id1, id2), Is.EqualTo((1, 2)));
        var latest = await server.Registry.GetLatestSchemaAsync(Subject);
        Assert.That((latest.Version, latest.Id), Is.EqualTo((2, id2)), "the ids are the in-process registry's");

        using var other = server.NewClient(); // no cache: every answer comes from the server
        var byId = await other.GetSchemaBySubjectAndIdAsync(Subject, id2);
        Assert.That(byId.SchemaString, Is.EqualTo(latest.SchemaString));
        Assert.That(byId.SchemaType, Is.EqualTo(SchemaType.Avro));
        Assert.That(byId.References, Is.Empty);
        Assert.That((await other.GetSchemaAsync(id1)).SchemaString, Is.EqualTo((await server.Registry.GetSchemaBySubjectAndIdAsync(null, id1)).SchemaString));
    }

    [Test]
    public async Task Registering_again_or_under_another_subject_keeps_the_id()
    {
        var id = await client.RegisterSchemaAsync(Subject, Schemas.Avro(Schemas.V1));

        using var other = server.NewClient(); // no cache: every answer comes from the server
        var again = await other.RegisterSchemaWithResponseAsync(Subject, Schemas.Avro(Schemas.V1));
        Assert.That((again.Id, again.Version), Is.EqualTo((id, 1)));
        Assert.That(await other.RegisterSchemaAsync("other-subject", Schemas.Avro(Schemas.V1)), Is.EqualTo(id));
        Assert.That(await server.Registry.GetSubjectVersionsAsync(Subject), Is.EqualTo(new[] { 1 }));
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
    public async Task An_unknown_id_is_Confluents_404_40403()
    {
        var id = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetSchemaAsync(99));

        Assert.That((id!.ErrorCode, id.Status), Is.EqualTo((40403, HttpStatusCode.NotFound)));
        Assert.That(id.Message, Is.EqualTo("Schema 99 not found; error code: 40403"));
    }

    [Test]
    public async Task An_invalid_schema_is_refused_with_422_42201()
    {
        var refused = await Assert.ThrowsAsync<SchemaRegistryException>(
            () => client.RegisterSchemaAsync(Subject, Schemas.Avro("""{"type":"record","name":"Broken","fields":[{"name":"x"}]}""")));

        Assert.That((refused!.ErrorCode, refused.Status), Is.EqualTo((42201, HttpStatusCode.UnprocessableEntity)));
    }

    [Test]
    public async Task A_subject_with_slashes_and_percent_signs_reaches_the_registry_unchanged()
    {
        const string odd = "team/orders%20-value";

        var id = await client.RegisterSchemaAsync(odd, Schemas.Avro(Schemas.V1));

        Assert.That(await server.Registry.GetAllSubjectsAsync(), Is.EqualTo(new[] { odd }));
        Assert.That((await server.Registry.GetLatestSchemaAsync(odd)).Id, Is.EqualTo(id));
    }

    [Test]
    public async Task There_are_no_associations()
    {
        Assert.That(await client.GetAssociationsByResourceNameAsync("orders", "-", "topic", ["value"], null, 0, -1), Is.Empty);
    }

    [Test]
    public async Task What_the_serializers_do_not_call_is_not_served_and_answers_Confluents_404()
    {
        foreach (var call in new Func<Task>[]
                 {
                     () => client.GetLatestSchemaAsync(Subject),
                     () => client.GetAllSubjectsAsync(),
                     () => client.GetCompatibilityAsync(),
                     () => client.CreateAssociationAsync(new AssociationCreateOrUpdateRequest
                     {
                         ResourceName = "orders", ResourceNamespace = "lkc-1", ResourceId = "topic-id-1",
                         Associations = [new AssociationCreateOrUpdateInfo { Subject = "orders-custom" }],
                     }),
                 })
        {
            var refused = await Assert.ThrowsAsync<SchemaRegistryException>(() => call());
            Assert.That((refused!.ErrorCode, refused.Status), Is.EqualTo((404, HttpStatusCode.NotFound)));
        }
    }
}
