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
    public async Task Lists_subjects_as_a_JSON_array_in_Confluents_media_type()
    {
        var empty = await GetAsync("subjects");
        Assert.That((empty.Status, empty.MediaType, empty.Body), Is.EqualTo((HttpStatusCode.OK, V1Json, "[]")));

        await RegisterAsync(Schemas.V1, "b-value");
        await RegisterAsync(Schemas.Other, "a-value");

        Assert.That((await GetAsync("subjects")).Body, Is.EqualTo("""["a-value","b-value"]"""));
        Assert.That((await GetAsync("subjects?subjectPrefix=b")).Body, Is.EqualTo("""["b-value"]"""));
        Assert.That((await GetAsync("subjects?subjectPrefix=:*:")).Body, Is.EqualTo("""["a-value","b-value"]"""));
    }

    [Test]
    public async Task Register_answers_id_version_and_guid_and_accepts_every_Confluent_request_type()
    {
        var registered = await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions?normalize=true", SchemaBody(Schemas.V1), "application/json");

        Assert.That((registered.Status, registered.MediaType), Is.EqualTo((HttpStatusCode.OK, V1Json)));
        var json = registered.Json.AsObject();
        Assert.That((int)json["id"]!, Is.EqualTo(1));
        Assert.That((int)json["version"]!, Is.EqualTo(1));
        Assert.That((string?)json["guid"], Is.EqualTo((await server.Registry.GetLatestSchemaAsync(Subject)).Guid));
        Assert.That(json.ContainsKey("schemaType"), Is.False, "AVRO is left out, as Confluent does");

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
        var canonical = (await server.Registry.GetSchemaAsync(1)).SchemaString;

        foreach (var path in new[] { "schemas/ids/1", $"schemas/ids/1?subject={Subject}", $"schemas/ids/1?subject={Subject}&format=resolved" })
        {
            var reply = await GetAsync(path);
            Assert.That((reply.Status, reply.MediaType), Is.EqualTo((HttpStatusCode.OK, V1Json)), path);
            var json = reply.Json.AsObject();
            Assert.That(json.Select(p => p.Key), Is.EqualTo(new[] { "schema" }), path);
            Assert.That((string?)json["schema"], Is.EqualTo(canonical), path);
        }

        Assert.That((await GetAsync("schemas/ids/1/schema")).Body, Is.EqualTo(canonical));
        AssertError(await GetAsync("schemas/ids/42"), HttpStatusCode.NotFound, 40403, "Schema 42 not found");
        AssertError(await GetAsync("schemas/ids/42/versions"), HttpStatusCode.NotFound, 40403);
    }

    [Test]
    public async Task Lists_the_subjects_and_versions_of_a_schema_id()
    {
        await RegisterAsync(Schemas.V1);
        await RegisterAsync(Schemas.V2);
        await RegisterAsync(Schemas.V1, "copy-value");

        Assert.That((await GetAsync("schemas/ids/1/versions")).Body,
            Is.EqualTo("""[{"subject":"copy-value","version":1},{"subject":"raw-value","version":1}]"""));
        Assert.That((await GetAsync("schemas/ids/1/subjects")).Body, Is.EqualTo("""["copy-value","raw-value"]"""));
        Assert.That((await GetAsync("schemas/ids/2/subjects")).Body, Is.EqualTo("""["raw-value"]"""));
        Assert.That((await GetAsync("schemas/types")).Body, Is.EqualTo("""["AVRO"]"""));
    }

    [Test]
    public async Task Reads_a_subject_version_by_number_latest_or_minus_one()
    {
        await RegisterAsync(Schemas.V1);
        await RegisterAsync(Schemas.V2);
        var latest = await server.Registry.GetLatestSchemaAsync(Subject);

        foreach (var version in new[] { "2", "latest", "LATEST", "-1" })
        {
            var json = (await GetAsync($"subjects/{Subject}/versions/{version}")).Json.AsObject();
            Assert.That(json.Select(p => p.Key), Is.EqualTo(new[] { "subject", "version", "id", "guid", "schema" }), version);
            Assert.That(((string?)json["subject"], (int)json["version"]!, (int)json["id"]!, (string?)json["guid"], (string?)json["schema"]),
                Is.EqualTo((Subject, 2, 2, latest.Guid, latest.SchemaString)), version);
        }

        Assert.That((await GetAsync($"subjects/{Subject}/versions/1/schema")).Body, Is.EqualTo((await server.Registry.GetSchemaAsync(1)).SchemaString));
        Assert.That((await GetAsync($"subjects/{Subject}/versions")).Body, Is.EqualTo("[1,2]"));
    }

    [Test]
    public async Task Version_and_subject_errors_have_Confluents_codes_and_bodies()
    {
        await RegisterAsync(Schemas.V1);
        const string invalid = "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"";

        AssertError(await GetAsync("subjects/nope/versions"), HttpStatusCode.NotFound, 40401, "Subject 'nope' not found.");
        AssertError(await GetAsync("subjects/nope/versions/latest"), HttpStatusCode.NotFound, 40401, "Subject 'nope' not found.");
        AssertError(await GetAsync($"subjects/{Subject}/versions/9"), HttpStatusCode.NotFound, 40402, "Version 9 not found.");
        AssertError(await GetAsync($"subjects/{Subject}/versions/abc"), HttpStatusCode.UnprocessableEntity, 42202, string.Format(null, invalid, "abc"));
        AssertError(await GetAsync($"subjects/{Subject}/versions/0"), HttpStatusCode.UnprocessableEntity, 42202, string.Format(null, invalid, "0"));
    }

    [Test]
    public async Task Looks_up_a_schema_under_a_subject()
    {
        await RegisterAsync(Schemas.V1);

        var found = await SendAsync(HttpMethod.Post, $"subjects/{Subject}?normalize=false&deleted=false", SchemaBody(Schemas.V1));
        var json = found.Json.AsObject();
        Assert.That(((string?)json["subject"], (int)json["version"]!, (int)json["id"]!), Is.EqualTo((Subject, 1, 1)));

        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}", SchemaBody(Schemas.V2)), HttpStatusCode.NotFound, 40403, "Schema not found");
        AssertError(await SendAsync(HttpMethod.Post, "subjects/nope", SchemaBody(Schemas.V1)), HttpStatusCode.NotFound, 40401);
    }

    [Test]
    public async Task Reads_the_latest_version_with_given_metadata()
    {
        var body = new JsonObject { ["schema"] = Schemas.V1, ["metadata"] = new JsonObject { ["properties"] = new JsonObject { ["owner"] = "crm" } } };
        await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", body.ToJsonString());
        await RegisterAsync(Schemas.V2);

        var json = (await GetAsync($"subjects/{Subject}/metadata?key=owner&value=crm&deleted=false")).Json;
        Assert.That(((int)json["version"]!, (string?)json["metadata"]!["properties"]!["owner"]), Is.EqualTo((1, "crm")));
        AssertError(await GetAsync($"subjects/{Subject}/metadata?key=owner&value=bi"), HttpStatusCode.NotFound, 40403);
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
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", "{\"schema\": "), HttpStatusCode.BadRequest, 400);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", "[]"), HttpStatusCode.UnprocessableEntity, 422);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", " "), HttpStatusCode.UnprocessableEntity, 422);
        AssertError(await SendAsync(HttpMethod.Post, $"subjects/{Subject}/versions", SchemaBody(Schemas.V1), "text/plain"),
            HttpStatusCode.UnsupportedMediaType, 415, "HTTP 415 Unsupported Media Type");
        Assert.That(await server.Registry.GetAllSubjectsAsync(), Is.Empty);
    }

    [Test]
    public async Task Checks_compatibility_against_latest_or_a_given_version_verbosely_or_not()
    {
        await RegisterAsync(Schemas.V1);
        await RegisterAsync(Schemas.V2);
        var noDefault = SchemaBody(Schemas.NoDefault);

        Assert.That((await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/latest", noDefault)).Body, Is.EqualTo("""{"is_compatible":true}"""));
        Assert.That((await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/2?verbose=true", noDefault)).Body,
            Is.EqualTo("""{"is_compatible":true,"messages":[]}"""));
        Assert.That((await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1", noDefault)).Body, Is.EqualTo("""{"is_compatible":false}"""));

        var verbose = (await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1?verbose=true", noDefault)).Json;
        Assert.That((bool)verbose["is_compatible"]!, Is.False);
        var message = (string?)verbose["messages"]!.AsArray().Single();
        Assert.That(message, Does.Contain("currency").And.EndWith("[BACKWARD: the new schema cannot read data written with version 1]"));

        Assert.That((await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1", SchemaBody(Schemas.V2))).Body,
            Is.EqualTo("""{"is_compatible":true}"""));
        Assert.That((await SendAsync(HttpMethod.Post, "compatibility/subjects/nope/versions/latest", noDefault)).Body, Is.EqualTo("""{"is_compatible":true}"""));
        AssertError(await SendAsync(HttpMethod.Post, "compatibility/subjects/nope/versions/1", noDefault), HttpStatusCode.NotFound, 40401);
        AssertError(await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/3", noDefault), HttpStatusCode.NotFound, 40402);
        AssertError(await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/x", noDefault), HttpStatusCode.UnprocessableEntity, 42202);
    }

    [Test]
    public async Task An_earlier_version_is_checked_in_the_direction_of_the_subjects_level()
    {
        await RegisterAsync(Schemas.V1);
        await RegisterAsync(Schemas.V2);
        var changedType = SchemaBody(Schemas.V1.Replace("\"long\"", "\"string\"", StringComparison.Ordinal));

        await SendAsync(HttpMethod.Put, $"config/{Subject}", """{"compatibility":"FORWARD"}""");
        var forward = (await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1?verbose=true", changedType)).Json;
        Assert.That((string?)forward["messages"]!.AsArray().Single(), Does.EndWith("[FORWARD: version 1 cannot read data written with the new schema]"));

        await SendAsync(HttpMethod.Put, $"config/{Subject}", """{"compatibility":"FULL_TRANSITIVE"}""");
        var full = (await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1?verbose=true", changedType)).Json;
        Assert.That(full["messages"]!.AsArray(), Has.Count.EqualTo(2));

        await SendAsync(HttpMethod.Put, $"config/{Subject}", """{"compatibility":"NONE"}""");
        Assert.That((await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1", changedType)).Body, Is.EqualTo("""{"is_compatible":true}"""));
    }

    [Test]
    public async Task An_invalid_schema_under_test_is_a_422_or_a_verbose_message()
    {
        await RegisterAsync(Schemas.V1);
        await RegisterAsync(Schemas.V2);
        var broken = SchemaBody("""{"type":"record","name":"X","fields":[{"name":"a"}]}""");

        AssertError(await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/1", broken), HttpStatusCode.UnprocessableEntity, 42201);
        var verbose = (await SendAsync(HttpMethod.Post, $"compatibility/subjects/{Subject}/versions/latest?verbose=true", broken)).Json;
        Assert.That((bool)verbose["is_compatible"]!, Is.False);
        Assert.That((string?)verbose["messages"]!.AsArray().Single(), Does.StartWith("Invalid schema"));
    }

    [Test]
    public async Task Config_reads_compatibilityLevel_and_updates_echo_compatibility()
    {
        await RegisterAsync(Schemas.V1);

        Assert.That((await GetAsync("config")).Body, Is.EqualTo("""{"compatibilityLevel":"BACKWARD"}"""));
        Assert.That((await GetAsync("config?defaultToGlobal=true")).Body, Is.EqualTo("""{"compatibilityLevel":"BACKWARD"}"""));
        Assert.That((await SendAsync(HttpMethod.Put, "config", """{"compatibility":"full_transitive"}""")).Body, Is.EqualTo("""{"compatibility":"FULL_TRANSITIVE"}"""));
        Assert.That((await SendAsync(HttpMethod.Put, "config", """{"normalize":true}""")).Body, Is.EqualTo("""{"compatibility":"FULL_TRANSITIVE"}"""));
        AssertError(await SendAsync(HttpMethod.Put, "config", """{"compatibility":"SIDEWAYS"}"""), HttpStatusCode.UnprocessableEntity, 42203);
        AssertError(await SendAsync(HttpMethod.Put, "config", """{"compatibility":3}"""), HttpStatusCode.UnprocessableEntity, 42203);

        AssertError(await GetAsync($"config/{Subject}"), HttpStatusCode.NotFound, 40408,
            $"Subject '{Subject}' does not have subject-level compatibility configured");
        Assert.That((await GetAsync($"config/{Subject}?defaultToGlobal=true")).Body, Is.EqualTo("""{"compatibilityLevel":"FULL_TRANSITIVE"}"""));
        Assert.That((await SendAsync(HttpMethod.Put, $"config/{Subject}", "{}")).Body, Is.EqualTo("""{"compatibility":"FULL_TRANSITIVE"}"""));
        Assert.That((await SendAsync(HttpMethod.Put, $"config/{Subject}", """{"compatibility":"NONE"}""")).Body, Is.EqualTo("""{"compatibility":"NONE"}"""));
        Assert.That((await GetAsync($"config/{Subject}")).Body, Is.EqualTo("""{"compatibilityLevel":"NONE"}"""));
        Assert.That((await GetAsync("config")).Body, Is.EqualTo("""{"compatibilityLevel":"FULL_TRANSITIVE"}"""));
    }

    [Test]
    public async Task Unknown_routes_under_the_prefix_are_Confluent_404s_and_others_are_left_alone()
    {
        await RegisterAsync(Schemas.V1);

        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, "nope"), (HttpMethod.Get, "subjects/raw-value/versions/1/referencedby"), (HttpMethod.Delete, $"subjects/{Subject}"),
                     (HttpMethod.Get, "schemas/ids/abc"), (HttpMethod.Get, "mode"), (HttpMethod.Get, string.Empty),
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
        Assert.That((await GetAsync("subjects", accept: "application/json")).MediaType, Is.EqualTo("application/json"));
        Assert.That((await GetAsync("subjects", accept: "application/vnd.schemaregistry+json")).MediaType, Is.EqualTo("application/vnd.schemaregistry+json"));
        Assert.That((await GetAsync("subjects", accept: "application/json;q=0.5, application/vnd.schemaregistry+json")).MediaType,
            Is.EqualTo("application/vnd.schemaregistry+json"));
        Assert.That((await GetAsync("subjects", accept: "*/*")).MediaType, Is.EqualTo(V1Json));
        Assert.That((await GetAsync("subjects", accept: "text/html")).MediaType, Is.EqualTo(V1Json));
        Assert.That((await GetAsync("subjects/nope/versions", accept: "application/json")).MediaType, Is.EqualTo("application/json"));
    }

    [Test]
    public async Task Associations_are_an_empty_list_when_there_is_none()
    {
        var reply = await GetAsync("associations/resources/-/gift-cards?resourceType=topic&associationType=value&limit=-1");

        Assert.That((reply.Status, reply.MediaType, reply.Body), Is.EqualTo((HttpStatusCode.OK, V1Json, "[]")));
        AssertError(await SendAsync(HttpMethod.Post, "associations", """{"resourceName":"t","resourceNamespace":"ns","resourceId":"id"}"""),
            HttpStatusCode.UnprocessableEntity, 42212);
        AssertError(await SendAsync(HttpMethod.Post, "associations", """{"resourceName":["t"]}"""), HttpStatusCode.UnprocessableEntity, 42212);
    }
}
