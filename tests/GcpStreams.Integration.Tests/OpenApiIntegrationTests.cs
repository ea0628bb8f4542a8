using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>) and Swagger UI (<c>/swagger</c>) of the whole service on the embedded
/// broker: the document is valid, names every route the app maps for its API (read from the app's own
/// <see cref="EndpointDataSource"/>), asks for the scopes each endpoint's policy needs, declares the problem responses,
/// and its token URL issues tokens that open the API — as Swagger UI's Authorize button uses it.
/// </summary>
[NonParallelizable]
public class OpenApiIntegrationTests
{
    private const string ProblemJson = "application/problem+json";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceInstance service = null!;
    private HttpClient http = null!;
    private string documentText = null!;
    private JsonElement document;
    private IReadOnlyList<RouteEndpoint> endpoints = null!;

    [OneTimeSetUp]
    public async Task StartServiceAndReadTheDocument()
    {
        service = await ServiceInstance.StartEmbeddedAsync("gcp-it-openapi");
        http = new HttpClient { BaseAddress = new Uri(service.Url), Timeout = Timeout };

        using var response = await http.GetAsync(OpenApiSetup.DocumentPath);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the document is anonymous");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        documentText = await response.Content.ReadAsStringAsync();
        document = JsonDocument.Parse(documentText).RootElement.Clone();

        // the app's own routes, as the running service maps them
        endpoints = service.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
    }

    [OneTimeTearDown]
    public async Task StopService()
    {
        http?.Dispose();
        if (service is not null)
        {
            await service.DisposeAsync();
        }
    }

    [Test]
    public void Document_IsValidOpenApi_WithTitleDescriptionAndVersion()
    {
        var read = OpenApiDocument.Parse(documentText, OpenApiConstants.Json);

        Assert.That(read.Diagnostic?.Errors, Is.Empty, "the document parses as OpenAPI without errors");
        Assert.That(read.Document, Is.Not.Null);
        Assert.That(read.Document!.Validate(Microsoft.OpenApi.ValidationRuleSet.GetDefaultRuleSet()), Is.Empty, "the document passes OpenAPI.NET's rules");
        Assert.That(document.GetProperty("openapi").GetString(), Does.StartWith("3."));
        var info = document.GetProperty("info");
        Assert.That(info.GetProperty("title").GetString(), Is.Not.Empty);
        Assert.That(info.GetProperty("description").GetString(), Does.Contain("Authorize"));
        Assert.That(info.GetProperty("version").GetString(), Is.EqualTo(OpenApiSetup.DocumentName));
    }

    [Test]
    public void Document_NamesEveryRouteOfTheApi_AndNoOther()
    {
        var described = endpoints.Where(e => !e.Metadata.OfType<IExcludeFromDescriptionMetadata>().Any(m => m.ExcludeFromDescription)).ToList();
        var api = described.Where(e => OpenApiSecurity.RequiredScopes(e.Metadata) is not null).ToList();
        Assert.That(api, Is.Not.Empty, "the app maps secured API endpoints");
        Assert.That(api.Select(Path), Has.Some.StartWith("/certificates").And.Some.StartWith("/pools"));

        var operations = Operations().Select(o => (o.Method, o.Path)).ToHashSet();
        Assert.Multiple(() =>
        {
            foreach (var endpoint in described)
            {
                foreach (var method in Methods(endpoint))
                {
                    Assert.That(operations, Does.Contain((method, Path(endpoint))), $"{method} {Path(endpoint)} ({endpoint.DisplayName}) is in the document");
                }
            }

            // and nothing that is not a route of the app (the token endpoint is described by hand, but it is mapped)
            var mapped = endpoints.SelectMany(e => Methods(e).Select(m => (m, Path(e)))).ToHashSet();
            foreach (var operation in operations)
            {
                Assert.That(mapped, Does.Contain(operation), $"{operation.Method} {operation.Path} is a route of the app");
            }
        });
        Assert.That(operations.Where(o => o.Path.StartsWith(Api.Hosting.EmbeddedStartup.SchemaRegistryPath, StringComparison.Ordinal)), Is.Empty, "the schema registry stays out");
    }

    [Test]
    public void EverySecuredOperation_RequiresOAuth2_WithTheScopesOfItsPolicies()
    {
        var byRoute = Operations().ToDictionary(o => (o.Method, o.Path), o => o.Operation);
        Assert.Multiple(() =>
        {
            foreach (var endpoint in endpoints.Where(e => byRoute.Keys.Any(k => k.Path == Path(e))))
            {
                foreach (var method in Methods(endpoint).Where(m => byRoute.ContainsKey((m, Path(endpoint)))))
                {
                    var operation = byRoute[(method, Path(endpoint))];
                    var policies = endpoint.Metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
                    var anonymous = policies.Count == 0 || endpoint.Metadata.OfType<IAllowAnonymous>().Any();
                    var name = $"{method} {Path(endpoint)}";
                    if (anonymous)
                    {
                        Assert.That(operation.TryGetProperty("security", out _), Is.False, $"{name} is anonymous: no security requirement");
                        continue;
                    }

                    var expected = GcpScopes.All.Where(s => policies.Contains(Policies.ForScope(s))).ToArray();
                    Assert.That(expected, Is.Not.Empty, $"{name}: a scope policy");
                    Assert.That(operation.TryGetProperty("security", out var security), Is.True, $"{name} has a security requirement");
                    Assert.That(security.GetArrayLength(), Is.EqualTo(1), name);
                    var requirement = security[0];
                    Assert.That(requirement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { OpenApiSecurity.SchemeName }), name);
                    Assert.That(requirement.GetProperty(OpenApiSecurity.SchemeName).EnumerateArray().Select(s => s.GetString()), Is.EquivalentTo(expected), name);
                }
            }
        });

        // the README's table, spelled out
        Assert.That(Scopes("get", "/certificates/{id}"), Is.EqualTo(new[] { GcpScopes.Read }));
        Assert.That(Scopes("get", "/certificates"), Is.EqualTo(new[] { GcpScopes.Read }));
        Assert.That(Scopes("get", "/pools/{id}"), Is.EqualTo(new[] { GcpScopes.Read }));
        Assert.That(Scopes("post", "/certificates/next"), Is.EqualTo(new[] { GcpScopes.Reserve }));
        Assert.That(Scopes("post", "/certificates/{id}/lock"), Is.EqualTo(new[] { GcpScopes.Lock }));
        Assert.That(Scopes("post", "/certificates/{id}/unlock"), Is.EqualTo(new[] { GcpScopes.Lock }));
        Assert.That(Scopes("get", "/certificates/{id}/cvc"), Is.EqualTo(new[] { GcpScopes.CvcNotify }));
        Assert.That(Scopes("post", "/certificates/{id}/cvc/support-disclosures"), Is.EqualTo(new[] { GcpScopes.CvcSupport }));
        Assert.That(Scopes("post", "/pools/{id}/certificates"), Is.EqualTo(new[] { GcpScopes.Admin }));
        Assert.That(Scopes("post", "/certificates/{id}/notifications"), Is.EqualTo(new[] { GcpScopes.CvcSupport }));
        Assert.That(Operation("get", "/health/ready").TryGetProperty("security", out _), Is.False);
        Assert.That(Operation("post", GcpAuthenticationExtensions.TokenPath).TryGetProperty("security", out _), Is.False);
    }

    [TestCase("get", "/certificates", new[] { 400, 401, 403, 429 })]
    [TestCase("get", "/certificates/{id}", new[] { 401, 403, 404, 429 })]
    [TestCase("get", "/certificates/{id}/history", new[] { 401, 403, 404, 429 })]
    [TestCase("get", "/pools", new[] { 401, 403 })]
    [TestCase("get", "/pools/{id}", new[] { 401, 403, 404 })]
    [TestCase("post", "/certificates/next", new[] { 400, 401, 403, 409, 413, 415, 422, 503, 504 })]
    [TestCase("post", "/certificates/{id}/lock", new[] { 400, 401, 403, 404, 409, 413, 415, 503, 504 })]
    [TestCase("post", "/certificates/{id}/unlock", new[] { 400, 401, 403, 404, 409, 413, 415, 503, 504 })]
    [TestCase("get", "/certificates/{id}/cvc", new[] { 400, 401, 403, 404, 409, 429, 503, 504 })]
    [TestCase("post", "/certificates/{id}/notifications", new[] { 400, 401, 403, 404, 409, 413, 415, 503, 504 })]
    [TestCase("post", "/certificates/{id}/cvc/support-disclosures", new[] { 400, 401, 403, 404, 409, 413, 415, 429, 503, 504 })]
    [TestCase("post", "/pools/{id}/certificates", new[] { 400, 401, 403, 409, 413, 415, 422, 503, 504 })]
    [TestCase("get", "/reports/daily", new[] { 400, 401, 403, 503 })]
    [TestCase("get", "/health/ready", new[] { 503 })]
    [TestCase("get", "/health/live", new[] { 503 })]
    public void Operation_DeclaresItsProblemResponses(string method, string path, int[] statuses)
    {
        var responses = Operation(method, path).GetProperty("responses");

        Assert.Multiple(() =>
        {
            foreach (var status in statuses)
            {
                Assert.That(responses.TryGetProperty(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response), Is.True, $"{method} {path} declares {status}");
                if (response.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                Assert.That(response.GetProperty("description").GetString(), Is.Not.Empty.And.Not.EqualTo(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)), $"{status} says when");
                var media = response.GetProperty("content").GetProperty(ProblemJson);
                Assert.That(media.GetProperty("schema").GetProperty("$ref").GetString(), Does.EndWith("/ProblemDetails"), $"{status} is a ProblemDetails");
            }
        });
    }

    [Test]
    public void EveryErrorResponseOfTheApi_IsAProblem_AndEveryOperationHasSummaryAndDescription()
    {
        Assert.Multiple(() =>
        {
            foreach (var (method, path, operation) in Operations().Where(o => o.Path != GcpAuthenticationExtensions.TokenPath))
            {
                Assert.That(operation.GetProperty("summary").GetString(), Is.Not.Empty, $"{method} {path} summary");
                Assert.That(operation.GetProperty("description").GetString(), Is.Not.Empty, $"{method} {path} description");
                foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
                {
                    Assert.That(response.Value.GetProperty("content").EnumerateObject().Select(c => c.Name), Is.EqualTo(new[] { ProblemJson }), $"{method} {path} {response.Name}");
                }
            }
        });
    }

    [Test]
    public void RequestBodiesAndKeyResponses_HaveExamples()
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "ReserveRequest", "LockRequest", "LoadRequest", "ReservationResponse", "CertificateResponse", "CertificatePageResponse", "PoolResponse", "CvcResponse" })
            {
                Assert.That(schemas.GetProperty(name).GetProperty("examples").GetArrayLength(), Is.GreaterThan(0), $"{name} has an example");
            }
        });
        var reserve = schemas.GetProperty("ReserveRequest");
        Assert.That(reserve.GetProperty("required").EnumerateArray().Select(r => r.GetString()), Is.EquivalentTo(new[] { "poolId", "channel", "nominalMinor", "currency" }));
        Assert.That(reserve.GetProperty("examples")[0].GetProperty("poolId").GetString(), Is.Not.Empty);
        var conflict = Operation("get", "/certificates/{id}/cvc").GetProperty("responses").GetProperty("409").GetProperty("content").GetProperty(ProblemJson);
        Assert.That(conflict.GetProperty("example").GetProperty("type").GetString(), Is.EqualTo(CvcApi.CvcNotAllowedType));
    }

    [TestCase("/certificates/next", "ReserveRequest")]
    [TestCase("/certificates/{id}/lock", "LockRequest")]
    [TestCase("/certificates/{id}/unlock", "LockRequest")]
    [TestCase("/certificates/{id}/notifications", "LockRequest")]
    [TestCase("/pools/{id}/certificates", "LoadRequest")]
    [TestCase("/certificates/{id}/cvc/support-disclosures", "SupportDisclosureRequest")]
    public void WriteOperation_TakesItsRecordAsARequiredJsonBody_WithNumbersAsJsonNumbersOnly_And415UnsupportedMediaType(string path, string schema)
    {
        var operation = Operation("post", path);

        var body = operation.GetProperty("requestBody");
        Assert.That(body.GetProperty("required").GetBoolean(), Is.True);
        Assert.That(body.GetProperty("content").EnumerateObject().Select(c => c.Name), Is.EqualTo(new[] { "application/json" }));
        Assert.That(body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString(), Is.EqualTo("#/components/schemas/" + schema));
        Assert.That(operation.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()), Has.None.EqualTo("request"), "the body is no parameter");
        var properties = document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").EnumerateObject().ToList();
        Assert.That(properties, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (var property in properties.Where(p => p.Value.GetProperty("type").EnumerateArray().Any(t => t.GetString() == "integer")))
            {
                Assert.That(property.Value.GetProperty("type").EnumerateArray().Select(t => t.GetString()), Has.None.EqualTo("string"), $"{schema}.{property.Name} is a JSON number only");
            }
        });
        var unsupported = operation.GetProperty("responses").GetProperty("415").GetProperty("content").GetProperty(ProblemJson).GetProperty("example");
        Assert.That(unsupported.GetProperty("type").GetString(), Is.EqualTo(ApiProblems.UnsupportedMediaTypeType));
    }

    [Test]
    public async Task OAuth2Scheme_IsClientCredentials_AndItsTokenUrlIssuesTokensThatOpenTheApi()
    {
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty(OpenApiSecurity.SchemeName);
        Assert.That(scheme.GetProperty("type").GetString(), Is.EqualTo("oauth2"));
        var flow = scheme.GetProperty("flows").GetProperty("clientCredentials");
        Assert.That(flow.GetProperty("scopes").EnumerateObject().Select(s => s.Name), Is.EquivalentTo(GcpScopes.All));
        var tokenUrlText = flow.GetProperty("tokenUrl").GetString()!;
        Assert.That(tokenUrlText, Is.EqualTo(GcpAuthenticationExtensions.TokenPath));

        // OpenAPI 3.1: a relative URL resolves against the server, as Swagger UI resolves it
        var server = new Uri(document.GetProperty("servers")[0].GetProperty("url").GetString()!);
        var tokenUrl = new Uri(server, tokenUrlText);

        // as the docs show it: client id and secret in the form
        using var form = await http.PostAsync(tokenUrl, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = DevClients.Admin, ["client_secret"] = "admin-secret",
        }));
        Assert.That(form.StatusCode, Is.EqualTo(HttpStatusCode.OK), await form.Content.ReadAsStringAsync());
        Assert.That(JsonDocument.Parse(await form.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString(), Is.Not.Empty);

        // as Swagger UI's Authorize sends it: HTTP Basic client credentials, the ticked scopes (here none: every scope of the client)
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = string.Empty }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("support:support-secret")));
        using var basic = await http.SendAsync(request);
        Assert.That(basic.StatusCode, Is.EqualTo(HttpStatusCode.OK), await basic.Content.ReadAsStringAsync());
        var token = JsonDocument.Parse(await basic.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();

        using var pools = new HttpRequestMessage(HttpMethod.Get, "/pools");
        pools.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var answer = await http.SendAsync(pools);
        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the token opens the gc.read endpoints");
    }

    [Test]
    public async Task SwaggerUi_IsAnonymousHtml_ReadingTheDocument_WithOAuth2()
    {
        using var root = await http.GetAsync(OpenApiSetup.SwaggerUiPath); // HttpClient follows the redirect to index.html
        Assert.That(root.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(root.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(root.RequestMessage?.RequestUri?.AbsolutePath, Is.EqualTo(OpenApiSetup.SwaggerUiPath + "/index.html"));
        Assert.That(await root.Content.ReadAsStringAsync(), Does.Contain("swagger-ui").And.Contain("<title>GcpStreams API</title>"));

        var config = await http.GetStringAsync(OpenApiSetup.SwaggerUiPath + "/index.js");
        Assert.That(config, Does.Contain("\"url\":\"../openapi/v1.json\""), "the UI reads the document, relative to /swagger/");
        Assert.That(config, Does.Contain("\"clientId\":\"admin\""), "Authorize is prefilled with a dev client id");
        Assert.That(config, Does.Not.Contain("-secret"), "the page holds no secret");
        Assert.That(new Uri(new Uri(service.Url + OpenApiSetup.SwaggerUiPath + "/index.html"), "../openapi/v1.json").AbsolutePath, Is.EqualTo(OpenApiSetup.DocumentPath));
    }

    private static string Path(RouteEndpoint endpoint)
    {
        // "/pools/" -> "/pools", "{id:int}" -> "{id}": the document's spelling
        var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternSeparatorPart separator => separator.Content,
            _ => string.Empty,
        }))));
        return path;
    }

    private static IEnumerable<string> Methods(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Select(m => m.ToLowerInvariant()) ?? [];

    private IEnumerable<(string Method, string Path, JsonElement Operation)> Operations() =>
        document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(op => op.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(op => (op.Name, path.Name, op.Value)));

    private JsonElement Operation(string method, string path) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private string?[] Scopes(string method, string path) =>
        Operation(method, path).GetProperty("security")[0].GetProperty(OpenApiSecurity.SchemeName).EnumerateArray().Select(s => s.GetString()).ToArray();
}

/// <summary>The pure parts of the OpenAPI setup: scopes from endpoint metadata, the scheme, Authority mode's fallback token URL.</summary>
public class OpenApiSecurityTests
{
    [Test]
    public void RequiredScopes_AreTheScopesOfTheScopePolicies()
    {
        Assert.That(OpenApiSecurity.RequiredScopes([new AuthorizeAttribute(Policies.Read)]), Is.EqualTo(new[] { GcpScopes.Read }));
        Assert.That(OpenApiSecurity.RequiredScopes([new AuthorizeAttribute(Policies.Lock), new AuthorizeAttribute(Policies.CvcSupport), new AuthorizeAttribute(Policies.Lock)]),
            Is.EqualTo(new[] { GcpScopes.Lock, GcpScopes.CvcSupport }), "every policy must pass: all their scopes, once each");
        Assert.That(OpenApiSecurity.RequiredScopes([new AuthorizeAttribute()]), Is.Empty, "authenticated, no scope");
    }

    [Test]
    public void RequiredScopes_IsNull_ForAnonymousEndpoints()
    {
        Assert.That(OpenApiSecurity.RequiredScopes([]), Is.Null);
        Assert.That(OpenApiSecurity.RequiredScopes([new AuthorizeAttribute(Policies.Read), new AllowAnonymousAttribute()]), Is.Null);
    }

    [Test]
    public void OAuth2Scheme_HasTheClientCredentialsFlow_WithEveryScopeDescribed()
    {
        var scheme = OpenApiSecurity.OAuth2Scheme(new Uri("https://login.example/token"), "tokens");

        Assert.That(scheme.Type, Is.EqualTo(SecuritySchemeType.OAuth2));
        Assert.That(scheme.Flows?.ClientCredentials?.TokenUrl, Is.EqualTo(new Uri("https://login.example/token")));
        Assert.That(scheme.Flows!.ClientCredentials!.Scopes!.Keys, Is.EquivalentTo(GcpScopes.All));
        Assert.That(scheme.Flows.ClientCredentials.Scopes.Values, Has.All.Not.Empty);
    }

    [TestCase("https://login.example/realms/retail", "https://login.example/realms/retail/connect/token")]
    [TestCase("https://login.example/realms/retail/", "https://login.example/realms/retail/connect/token")]
    public void FallbackAuthorityTokenUrl_IsTheAuthoritysConnectToken(string authority, string expected) =>
        Assert.That(OpenApiSecurity.FallbackAuthorityTokenUrl(authority), Is.EqualTo(new Uri(expected)));
}
