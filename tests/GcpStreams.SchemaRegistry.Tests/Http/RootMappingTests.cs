using System.Net;
using Confluent.SchemaRegistry;
using GcpStreams.SchemaRegistry.Http;
using Microsoft.AspNetCore.Hosting;

namespace GcpStreams.SchemaRegistry.Tests.Http;

/// <summary>The API mapped at the root (no prefix), as a stand-alone registry would be.</summary>
public class RootMappingTests
{
    [Test]
    public async Task Confluents_client_works_at_the_root_and_only_registry_paths_get_Confluent_404s()
    {
        await using var server = await RegistryServer.StartAsync(prefix: string.Empty);
        using var client = server.NewClient();

        var id = await client.RegisterSchemaAsync("root-value", Schemas.Avro(Schemas.V1));

        using var reader = server.NewClient();
        Assert.That((await reader.GetSchemaBySubjectAndIdAsync("root-value", id)).SchemaString, Is.EqualTo((await server.Registry.GetLatestSchemaAsync("root-value")).SchemaString));
        var missing = await Assert.ThrowsAsync<SchemaRegistryException>(() => reader.GetSchemaAsync(99));
        Assert.That(missing!.ErrorCode, Is.EqualTo(40403));

        using var http = server.NewHttpClient();
        using var unknown = await http.GetAsync("subjects/root-value/nothing-here");
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await unknown.Content.ReadAsStringAsync(), Is.EqualTo("""{"error_code":404,"message":"HTTP 404 Not Found"}"""));

        using var other = await http.GetAsync("health");
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await other.Content.ReadAsStringAsync(), Is.Empty);
    }

    [Test]
    public async Task A_body_over_Kestrels_limit_is_a_Confluent_style_413()
    {
        await using var server = await RegistryServer.StartAsync(configure: b => b.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 256));
        using var http = server.NewHttpClient();
        using var content = new StringContent("{\"schema\":\"" + new string(' ', 1024) + "\"}", System.Text.Encoding.UTF8, "application/json");

        using var response = await http.PostAsync("subjects/big-value/versions", content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.StartWith("{\"error_code\":413,\"message\":"));
    }

    [Test]
    public void Mapping_needs_a_route_builder_a_registry_and_a_prefix()
    {
        using var registry = new InProcessSchemaRegistry();

        Assert.Throws<ArgumentNullException>(() => SchemaRegistryApiEndpoints.MapSchemaRegistryApi(null!, registry));
    }
}
