using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Api.Security.Tests;

/// <summary>A real Kestrel host on a free 127.0.0.1 port with the security wired and one probe endpoint per policy.</summary>
internal sealed class SecuredApp : IAsyncDisposable
{
    private SecuredApp(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public static string ProbePath(string scope) => "/probe/" + scope;

    public static async Task<SecuredApp> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Logging.ClearProviders();
        builder.Services.AddGcpAuthentication(builder.Configuration);

        var app = builder.Build();
        app.MapDevTokenEndpoint();
        foreach (var scope in GcpScopes.All)
        {
            app.MapGet(ProbePath(scope), (ClaimsPrincipal user) => TypedResults.Ok(new Probe(
                    user.FindFirst("client_id")?.Value,
                    user.Identity?.Name,
                    ScopeAuthorizationHandler.GrantedScopes(user).ToArray())))
                .RequireAuthorization(Policies.ForScope(scope));
        }

        app.MapGet("/probe/forbid", () => Results.Forbid()).RequireAuthorization(Policies.Read);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new SecuredApp(app, new Uri(address));
    }

    public async Task<HttpResponseMessage> RequestTokenAsync(string clientId, string secret, string? scope = null, string grantType = "client_credentials", bool basic = false)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = grantType };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, GcpAuthenticationExtensions.TokenPath);
        if (basic)
        {
            var raw = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(raw)));
        }
        else
        {
            form["client_id"] = clientId;
            form["client_secret"] = secret;
        }

        request.Content = new FormUrlEncodedContent(form);
        return await Http.SendAsync(request);
    }

    public async Task<string> TokenAsync(string clientId, string? scope = null)
    {
        using var response = await RequestTokenAsync(clientId, DevClients.Defaults()[clientId].Secret, scope);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    public async Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Http.SendAsync(request);
    }

    public static async Task<Probe> ReadProbeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<Probe>())!;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

internal sealed record Probe(string? ClientId, string? Name, string[] Scopes);
