using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace GcpStreams.SchemaRegistry.Tests.Http;

/// <summary>The JSON bodies, media types and error bodies, with a plain <see cref="HttpClient"/>.</summary>
public class RestApiTests
{
    private const string V1Json = "application/vnd.schemaregistry.v1+json";
    private const string Subject = "raw-value";

    private RegistryServer server = null!;
    private HttpClient http = null!;

    [SetUp]
    public async Task SetUp()
    {
        server = await RegistryServer.StartAsync();
        http = server.NewHttpClient();
    }

    [TearDown]
    public async Task TearDown()
    {
        http.Dispose();
        await server.DisposeAsync();
    }

    private sealed record Reply(HttpStatusCode Status, string? MediaType, string Body)
    {
        public JsonNode Json => JsonNode.Parse(Body)!;
    }

    private async Task<Reply> SendAsync(HttpMethod method, string path, string? body = null, string? contentType = V1Json, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using var response = await http.SendAsync(request);
        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    private Task<Reply> GetAsync(string path, string? accept = null) => SendAsync(HttpMethod.Get, path, accept: accept);

    private static string SchemaBody(string schema, string? schemaType = null)
    {
        var json = new JsonObject { ["schema"] = schema };
        if (schemaType is not null)
        {
            json["schemaType"] = schemaType;
        }

        return json.ToJsonString();
    }

    private static void AssertError(Reply reply, HttpStatusCode status, int errorCode, string? message = null)
    {
        Assert.That(reply.Status, Is.EqualTo(status), reply.Body);
        Assert.That(reply.MediaType, Is.EqualTo(V1Json));
        var json = reply.Json.AsObject();
        Assert.That(json.Select(p => p.Key), Is.EquivalentTo(new[] { "error_code", "message" }));
        Assert.That((int)json["error_code"]!, Is.EqualTo(errorCode));
        if (message is not null)
        {
            Assert.That((string?)json["message"], Is.EqualTo(message));
        }
    }

    private async Task<int> RegisterAsync(string schema, string subject = Subject) =>
        (int)(await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", SchemaBody(schema))).Json["id"]!;

    [Test]
    public async Task Register_answers_id_version_and_schema_and_accepts_every_Confluent_request_type()
    {
        var registered = await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions?normalize=true", SchemaBody(Schemas.V1), "application/json");

        Assert.That((registered.Status, registered.MediaType), Is.EqualTo((HttpStatusCode.OK, V1Json)));
        var json = registered.Json.AsObject();
        Assert.That(json.Select(p => p.Key), Is.EqualTo(new[] { "id", "version", "schema" }), "no schemaType: AVRO is left out, as Confluent does");
        Assert.That(((int)json["id"]!, (int)json["version"]!), Is.EqualTo((1, 1)));
        Assert.That((string?)json["schema"], Is.EqualTo((await server.Registry.GetLatestSchemaAsync(Subject)).SchemaString));

        foreach (var type in new[] { "application/vnd.schemaregistry+json", V1Json, "application/octet-stream" })
        {
            var again = await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody(Schemas.V1, "AVRO"), type);
            Assert.That((int)again.Json["id"]!, Is.EqualTo(1), type);
        }

        var untyped = await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody(Schemas.V1), contentType: null);
        Assert.That(untyped.Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Reads_schemas_by_id_with_the_subject_and_format_parameters_the_client_sends()
    {
        await RegisterAsync(Schemas.V1);
        var canonical = (await server.Registry.GetSchemaBySubjectAndIdAsync(Subject, 1)).SchemaString;

        foreach (var path in new[] { "schemas/ids/1", $"schemas/ids/1?subject={Subject}", $"schemas/ids/1?subject={Subject}&format=resolved" })
        {
            var reply = await GetAsync(path);
            Assert.That((reply.Status, reply.MediaType), Is.EqualTo((HttpStatusCode.OK, V1Json)), path);
            var json = reply.Json.AsObject();
            Assert.That(json.Select(p => p.Key), Is.EqualTo(new[] { "schema" }), path);
            Assert.That((string?)json["schema"], Is.EqualTo(canonical), path);
        }

        AssertError(await GetAsync("schemas/ids/42"), HttpStatusCode.NotFound, 40403, "Schema 42 not found");
    }

    [Test]
    public async Task Refuses_what_is_not_a_valid_Avro_schema_request()
    {
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody("""{"type":"nope"}""")), HttpStatusCode.UnprocessableEntity, 42201);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", "{}"), HttpStatusCode.UnprocessableEntity, 42201);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", """{"schema":{"type":"string"}}"""), HttpStatusCode.UnprocessableEntity, 42201);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", """{"schema":"\"string\"","references":{"x":1}}"""), HttpStatusCode.UnprocessableEntity, 42201);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody("syntax = \"proto3\";", "PROTOBUF")), HttpStatusCode.UnprocessableEntity, 42201);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody(Schemas.V1, "XML")), HttpStatusCode.UnprocessableEntity, 42201, "Invalid schema type XML");
        var withMetadata = new JsonObject { ["schema"] = Schemas.V1, ["metadata"] = new JsonObject { ["properties"] = new JsonObject { ["owner"] = "crm" } } };
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", withMetadata.ToJsonString()), HttpStatusCode.UnprocessableEntity, 42201);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", "{\"schema\": "), HttpStatusCode.BadRequest, 400);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", "[]"), HttpStatusCode.UnprocessableEntity, 422);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", " "), HttpStatusCode.UnprocessableEntity, 422);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody(Schemas.V1), "text/plain"),
            HttpStatusCode.UnsupportedMediaType, 415, "HTTP 415 Unsupported Media Type");
        Assert.That(await server.Registry.GetAllSubjectsAsync(), Is.Empty);
    }

    [Test]
    public async Task Unknown_routes_under_the_prefix_are_Confluent_404s_and_others_are_left_alone()
    {
        await RegisterAsync(Schemas.V1);

        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, "nope"), (HttpMethod.Get, "subjects"), (HttpMethod.Get, $"subjects/{Subject}/versions/latest"),
                     (HttpMethod.Post, $"subjects/{Subject}"), (HttpMethod.Delete, $"subjects/{Subject}"), (HttpMethod.Get, "schemas/ids/1/schema"),
                     (HttpMethod.Get, "schemas/ids/abc"), (HttpMethod.Get, "schemas/guids/x"), (HttpMethod.Get, "config"),
                     (HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/latest"), (HttpMethod.Post, "associations"),
                     (HttpMethod.Get, "mode"), (HttpMethod.Get, string.Empty),
                 })
        {
            AssertError(await SendAsync(method, path), HttpStatusCode.NotFound, 404, "HTTP 404 Not Found");
        }

        using var outside = new HttpClient { BaseAddress = server.Root };
        using var response = await outside.GetAsync("elsewhere");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.Empty, "outside the prefix, the host's own 404");
    }

    [Test]
    public async Task Answers_in_the_media_type_the_request_accepts()
    {
        const string path = "associations/resources/-/gift-cards";

        Assert.That((await GetAsync(path, accept: "application/json")).MediaType, Is.EqualTo("application/json"));
        Assert.That((await GetAsync(path, accept: "application/vnd.schemaregistry+json")).MediaType, Is.EqualTo("application/vnd.schemaregistry+json"));
        Assert.That((await GetAsync(path, accept: "application/json;q=0.5, application/vnd.schemaregistry+json")).MediaType,
            Is.EqualTo("application/vnd.schemaregistry+json"));
        Assert.That((await GetAsync(path, accept: "*/*")).MediaType, Is.EqualTo(V1Json));
        Assert.That((await GetAsync(path, accept: "text/html")).MediaType, Is.EqualTo(V1Json));
        Assert.That((await GetAsync("schemas/ids/9", accept: "application/json")).MediaType, Is.EqualTo("application/json"));
    }

    [Test]
    public async Task Associations_are_always_an_empty_list()
    {
        await RegisterAsync(Schemas.V1, "gift-cards-value");

        var reply = await GetAsync("associations/resources/-/gift-cards?resourceType=topic&associationType=value&limit=-1");

        Assert.That((reply.Status, reply.MediaType, reply.Body), Is.EqualTo((HttpStatusCode.OK, V1Json, "[]")));
    }
}
