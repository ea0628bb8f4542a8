using System.Collections.Concurrent;
using Confluent.SchemaRegistry;
using GcpStreams.SchemaRegistry.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.SchemaRegistry.Tests.Http;

/// <summary>
/// A real Kestrel server on 127.0.0.1 and a port the OS picks, serving a fresh <see cref="InProcessSchemaRegistry"/>
/// under <see cref="Prefix"/>; every request's method and raw target is recorded.
/// </summary>
internal sealed class RegistryServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<string> requests;

    private RegistryServer(WebApplication app, InProcessSchemaRegistry registry, string prefix, Uri root, ConcurrentQueue<string> requests)
    {
        this.app = app;
        this.requests = requests;
        Registry = registry;
        Prefix = prefix;
        Root = root;
    }

    public InProcessSchemaRegistry Registry { get; }

    /// <summary>Where the API is mapped, e.g. "/schema-registry" (empty: at the root).</summary>
    public string Prefix { get; }

    /// <summary>The server's own address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Root { get; }

    /// <summary>The registry URL clients are given: the root plus the prefix.</summary>
    public string Url => Root.ToString().TrimEnd('/') + Prefix;

    /// <summary>Every request served so far, as "METHOD raw-target".</summary>
    public IReadOnlyList<string> Requests => [.. requests];

    public static async Task<RegistryServer> StartAsync(string prefix = "/schema-registry", Action<WebApplicationBuilder>? configure = null)
    {
        var registry = new InProcessSchemaRegistry();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = builder.Build();
        var requests = new ConcurrentQueue<string>();
        app.Use(async (context, next) =>
        {
            requests.Enqueue(context.Request.Method + " " + context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget);
            await next(context);
        });
        app.MapSchemaRegistryApi(registry, prefix);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new RegistryServer(app, registry, prefix, new Uri(address.TrimEnd('/') + "/"), requests);
    }

    /// <summary>Confluent's client, pointed at <see cref="Url"/> (each call: a new client with empty caches).</summary>
    public CachedSchemaRegistryClient NewClient() => new(new SchemaRegistryConfig { Url = Url });

    /// <summary>A plain HTTP client whose base address is the API's (relative paths like "subjects").</summary>
    public HttpClient NewHttpClient() => new() { BaseAddress = new Uri(Url.TrimEnd('/') + "/") };

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Registry.Dispose();
    }
}
