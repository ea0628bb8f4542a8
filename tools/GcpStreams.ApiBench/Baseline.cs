using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GcpStreams.ApiBench;

/// <summary>
/// The ceiling to read the service's lookups against: a trivial Minimal API on the same machine, in this process, that answers
/// GET /certificates/{id} with the very bytes the service answered for that certificate (taken from the service before), from a
/// dictionary — no authentication, no audit, no read model. Measured by the same load functions, in the same run.
/// </summary>
internal sealed class Baseline : IAsyncDisposable
{
    private readonly WebApplication app;

    private Baseline(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<Baseline> StartAsync(IReadOnlyDictionary<string, byte[]> bodies, CancellationToken token)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/certificates/{id}", (string id) => bodies.TryGetValue(id, out var body) ? Results.Bytes(body, "application/json") : Results.NotFound());
        await app.StartAsync(token);
        return new Baseline(app, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
