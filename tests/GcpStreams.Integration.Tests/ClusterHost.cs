using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using GcpStreams.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// The whole service in cluster mode against a cluster that is not there (nothing listens on its bootstrap port): the HTTP
/// host, the token endpoint (<see cref="ClusterAuth"/>) and the audit log work at once, no broker starts. For what needs no
/// Kafka: start-up rules, headers, the token endpoint, the audit log. Its log is captured.
/// </summary>
internal sealed class ClusterHost : IAsyncDisposable
{
    private readonly string root;
    private bool stopped;

    private ClusterHost(WebApplication app, string root, CapturedLogs logs)
    {
        App = app;
        this.root = root;
        Logs = logs;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    public CapturedLogs Logs { get; }

    public HttpClient Http { get; }

    public static async Task<ClusterHost> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var root = Directory.CreateTempSubdirectory("gcp-cluster-host-").FullName;
        var logs = new CapturedLogs();
        var app = GcpStreamsApp.Build(["--urls", "http://127.0.0.1:0", "--contentRoot", root], builder =>
        {
            builder.Configuration.AddInMemoryCollection(ClusterAuth.Settings).AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kafka:Mode"] = "Cluster",
                ["Kafka:BootstrapServers"] = $"127.0.0.1:{UnusedPort()}",
                ["SchemaRegistry:Url"] = $"http://127.0.0.1:{UnusedPort()}",
                ["Kafka:StateDir"] = Path.Combine(root, "state"),
                ["Gcp:NumberingKey"] = ServiceInstance.NumberingKey,
                ["Gcp:CvcKeys:1"] = ServiceInstance.CvcKey,
                ["Gcp:AuditLog"] = "EveryCall", // no broker: the log is where these tests read the audit
            }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
            builder.Logging.SetMinimumLevel(LogLevel.Information).AddProvider(logs);
        });
        await app.StartAsync();
        return new ClusterHost(app, root, logs);
    }

    /// <summary>A client-credentials token of a dev client with its test-cluster secret.</summary>
    public async Task<string> TokenAsync(string clientId)
    {
        using var response = await RequestTokenAsync(clientId, ClusterAuth.Secret(clientId));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public Task<HttpResponseMessage> RequestTokenAsync(string clientId, string secret) =>
        Http.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret,
        }));

    /// <summary>The captured lines of the audit log category.</summary>
    public IReadOnlyList<string> AuditLines() => [.. Logs.Lines.Where(l => l.Contains(" GcpStreams.Audit: ", StringComparison.Ordinal))];

    /// <summary>Stops the host (what it logs at stop is in <see cref="Logs"/> afterwards).</summary>
    public async Task StopAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await App.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopAsync();
        await App.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private static int UnusedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port; // closed again: nothing listens there
    }
}
