using System.Net;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Security;
using Microsoft.IdentityModel.JsonWebTokens;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// A service in cluster mode on the development token endpoint (<see cref="ClusterHost"/>, a test cluster): the endpoint is
/// announced at start, takes only the configured secrets and the pinned issuer; the OpenAPI document and Swagger UI are off
/// unless asked for, and then advertise no development secret.
/// </summary>
[NonParallelizable]
public class ClusterModeAuthTests
{
    // the default settings; a test with settings of its own starts its own host (each stop takes a while: the cluster wait
    // is in a metadata request of up to 10 s)
    private ClusterHost host = null!;

    [OneTimeSetUp]
    public async Task StartHost() => host = await ClusterHost.StartAsync();

    [OneTimeTearDown]
    public async Task StopHost()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }

    [Test]
    public async Task On_a_cluster_the_token_endpoint_is_announced_and_takes_only_the_configured_secrets()
    {
        Assert.That(host.Logs.Lines, Has.One.StartsWith("Warning GcpStreams.Api.Security: Kafka:Mode is Cluster and this service issues its own tokens"));

        using var publicSecret = await host.RequestTokenAsync(DevClients.Admin, "admin-secret");
        Assert.That(publicSecret.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the public secret is not the client's");

        var token = new JsonWebToken(await host.TokenAsync(DevClients.Admin));
        Assert.That(token.Issuer, Is.EqualTo(ClusterAuth.Issuer), "the configured issuer, not the request's host");
    }

    [Test]
    public async Task On_a_cluster_the_OpenAPI_document_and_Swagger_UI_are_off_by_default()
    {
        using var document = await host.Http.GetAsync(OpenApiSetup.DocumentPath);
        using var ui = await host.Http.GetAsync(OpenApiSetup.SwaggerUiPath + "/index.html");

        Assert.That(document.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(ui.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task When_turned_on_for_a_cluster_the_API_description_advertises_no_development_secret()
    {
        await using var own = await ClusterHost.StartAsync(new Dictionary<string, string?> { ["Gcp:OpenApiEnabled"] = "true" });

        var document = await own.Http.GetStringAsync(OpenApiSetup.DocumentPath);
        var ui = await own.Http.GetStringAsync(OpenApiSetup.SwaggerUiPath + "/index.js");

        Assert.That(document, Does.Contain("/connect/token"), "the token endpoint is described");
        Assert.That(document, Does.Not.Contain("-secret").And.Not.Contain("admin /"), "no dev client secret is shown");
        Assert.That(ui, Does.Not.Contain("\"clientId\""), "Authorize is not prefilled with a dev client");
    }
}
