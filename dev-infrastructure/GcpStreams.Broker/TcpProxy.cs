using System.Net;
using System.Net.Sockets;

namespace GcpStreams.Broker;

/// <summary>
/// Forwards every TCP connection to a fixed port on 127.0.0.1 to the mock broker's own port: librdkafka's mock cluster
/// listens on a port the OS picks, so a fixed <c>--port</c> is a proxy in front of it, and the broker advertises the proxy's
/// address (<c>EmbeddedKafkaCluster.SetBrokerAdvertisedAddress</c>) so clients send everything through it.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;
    private readonly List<Task> connections = [];

    /// <exception cref="SocketException">The port is taken.</exception>
    public TcpProxy(int port, IPEndPoint target)
    {
        this.target = target;
        listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (connections)
            {
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ForwardAsync(client));
            }
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using (client)
        using (var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            client.NoDelay = true;
            upstream.NoDelay = true;
            try
            {
                await upstream.ConnectAsync(target, stop.Token);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                var up = PumpAsync(client, upstream, linked.Token);
                var down = PumpAsync(upstream, client, linked.Token);
                await Task.WhenAny(up, down);
                await linked.CancelAsync(); // one side closed: close the other
                await Task.WhenAll(up, down);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // the broker or the client went away: the connection ends, as a direct one would
            }
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken token)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, token);
                if (read == 0)
                {
                    return;
                }

                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // closed on either side
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        Task[] open;
        lock (connections)
        {
            open = [.. connections];
        }

        await Task.WhenAll(open);
        stop.Dispose();
    }
}
