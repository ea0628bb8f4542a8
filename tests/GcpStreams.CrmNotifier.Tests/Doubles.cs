using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GcpStreams.CrmNotifier.Tests;

/// <summary>
/// A TCP proxy in front of the real SMTP server, as a flaky network or mail relay: forwarding, or answering every new session
/// <c>421 4.3.2</c> (service not available, a transient SMTP failure) and closing it. The mail that gets through lands in smtp4dev.
/// </summary>
internal sealed class SmtpFaultProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int upstream;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;
    private int sessionsRefused;

    public SmtpFaultProxy(int upstreamPort)
    {
        upstream = upstreamPort;
        listener.Start();
        accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Whether new sessions are refused with 421.</summary>
    public bool Refusing { get; set; }

    public int SessionsRefused => Volatile.Read(ref sessionsRefused);

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            if (Refusing)
            {
                Interlocked.Increment(ref sessionsRefused);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("421 4.3.2 Service not available, closing transmission channel\r\n"));
                return;
            }

            using var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, upstream);
            var upstreamStream = server.GetStream();
            var toServer = stream.CopyToAsync(upstreamStream);
            var toClient = upstreamStream.CopyToAsync(stream);
            await Task.WhenAny(toServer, toClient);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}

/// <summary>
/// An HTTP server of the test itself (Kestrel on a port the OS chose): the SMS gateway's double, and a gateway in front of the
/// GCP API that can lose the answers of CVC reads (504 after the API answered, as a load balancer that timed out).
/// </summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private LocalHttpServer(WebApplication app) => this.app = app;

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public static async Task<LocalHttpServer> StartAsync(Func<HttpContext, Task> handle)
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(context => handle(context));
        await app.StartAsync();
        return new LocalHttpServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>The SMS gateway's double: takes <c>POST /sms</c> JSON, keeps what it was sent; can fail the next calls with 503.</summary>
internal sealed class SmsGatewayDouble : IAsyncDisposable
{
    public const string AuthValue = "Bearer sms-gateway-test-key";

    private LocalHttpServer server = null!;
    private int failures;

    public ConcurrentQueue<(string To, string Text, string Reference)> Sent { get; } = new();

    public string Url => server.Url + "/sms";

    /// <summary>Answers the next <paramref name="count"/> messages 503.</summary>
    public void FailNext(int count) => Volatile.Write(ref failures, count);

    public static async Task<SmsGatewayDouble> StartAsync()
    {
        var gateway = new SmsGatewayDouble();
        gateway.server = await LocalHttpServer.StartAsync(gateway.HandleAsync);
        return gateway;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Headers.Authorization != AuthValue)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        if (Interlocked.Decrement(ref failures) >= 0)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var body = await JsonDocument.ParseAsync(context.Request.Body);
        var to = body.RootElement.GetProperty("to").GetString()!;
        if (to.StartsWith("+999", StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest; // a number the gateway cannot deliver to: permanent
            return;
        }

        Sent.Enqueue((to, body.RootElement.GetProperty("text").GetString()!, body.RootElement.GetProperty("reference").GetString()!));
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsJsonAsync(new { id = Guid.NewGuid() });
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();
}

/// <summary>
/// A gateway in front of the GCP API: forwards every request; told to, it loses the answer of the next CVC reads — the API
/// recorded the disclosure, the notifier gets a 504 — as a load balancer timing out on the way back.
/// </summary>
internal sealed class ApiGateway : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase) { "Transfer-Encoding", "Connection", "Keep-Alive", "Host" };
    private readonly HttpClient upstream;
    private LocalHttpServer server = null!;
    private int losses;
    private int cvcReads;

    private ApiGateway(string upstreamUrl) => upstream = new HttpClient { BaseAddress = new Uri(upstreamUrl), Timeout = TimeSpan.FromSeconds(90) };

    public string Url => server.Url;

    /// <summary>CVC reads that reached the API through this gateway.</summary>
    public int CvcReads => Volatile.Read(ref cvcReads);

    /// <summary>Loses the answers of the next <paramref name="count"/> CVC reads (504 to the caller after the API answered).</summary>
    public void LoseNextCvcAnswers(int count) => Volatile.Write(ref losses, count);

    public static async Task<ApiGateway> StartAsync(string upstreamUrl)
    {
        var gateway = new ApiGateway(upstreamUrl);
        gateway.server = await LocalHttpServer.StartAsync(gateway.ForwardAsync);
        return gateway;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            body.Position = 0;
            request.Content = new StreamContent(body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
            }
        }

        using var response = await upstream.SendAsync(request);
        var isCvc = context.Request.Path.Value!.EndsWith("/cvc", StringComparison.Ordinal);
        if (isCvc)
        {
            Interlocked.Increment(ref cvcReads);
            if (Interlocked.Decrement(ref losses) >= 0)
            {
                context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
                return;
            }
        }

        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        upstream.Dispose();
    }
}
