using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace GcpStreams.Traffic;

/// <summary>
/// A real SMTP server for the tests and the notification benchmark: smtp4dev, the repository's dotnet tool (<c>.config/dotnet-tools.json</c>, restored by
/// <c>make setup</c>; restored here too when missing), on ports the OS chose, with an in-memory database. Recipients containing
/// <c>bounce</c> are refused with 550 (its RecipientValidationExpression), as a mailbox that does not exist. Its REST API lists
/// what it received.
/// </summary>
public sealed class Smtp4Dev : IAsyncDisposable
{
    private readonly Process process;
    private readonly HttpClient http;

    private Smtp4Dev(Process process, int smtpPort, int webPort)
    {
        this.process = process;
        SmtpPort = smtpPort;
        WebUrl = $"http://127.0.0.1:{webPort}";
        http = new HttpClient { BaseAddress = new Uri(WebUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int SmtpPort { get; }

    public string WebUrl { get; }

    public static async Task<Smtp4Dev> StartAsync()
    {
        var root = RepositoryRoot();
        await RunAsync(root, "tool restore"); // quick when restored already
        var (smtp, web) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "tool", "run", "smtp4dev", "--", $"--urls=http://127.0.0.1:{web}", $"--smtpport={smtp}", "--db=", "--hostname=127.0.0.1", "--tlsmode=None", "--imapport=", "--pop3port=", "--nousersettings", "--messagestokeep=1000000" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ServerOptions__RecipientValidationExpression"] = "!recipient.includes(\"bounce\")";
        var process = Process.Start(start) ?? throw new InvalidOperationException("smtp4dev did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new Smtp4Dev(process, smtp, web);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                using var response = await server.http.GetAsync(new Uri("/api/messages", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"smtp4dev was not ready in time (exited: {process.HasExited})");
            }

            await Task.Delay(200); // polling a condition with a deadline, not a sleep as synchronization
        }
    }

    /// <summary>Every message received (newest first), with its recipients, subject, id and time of receipt.</summary>
    public async Task<List<ReceivedMail>> MessagesAsync()
    {
        var json = await http.GetFromJsonElementAsync("/api/messages?pageSize=100000");
        return [.. json.GetProperty("results").EnumerateArray().Select(m => new ReceivedMail(
            m.GetProperty("id").GetString()!,
            [.. m.GetProperty("to").EnumerateArray().Select(t => t.GetString()!)],
            m.GetProperty("subject").GetString() ?? string.Empty,
            m.GetProperty("receivedDate").GetDateTimeOffset()))];
    }

    /// <summary>When each address got its first message, once <paramref name="count"/> addresses have one or the time is up.</summary>
    public async Task<Dictionary<string, DateTimeOffset>> FirstMessagesAsync(int count, TimeSpan within, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var byAddress = new Dictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
            foreach (var message in await MessagesAsync())
            {
                foreach (var to in message.To)
                {
                    byAddress[to] = byAddress.TryGetValue(to, out var earlier) && earlier < message.ReceivedAt ? earlier : message.ReceivedAt;
                }
            }

            if (byAddress.Count >= count || DateTime.UtcNow > deadline)
            {
                return byAddress;
            }

            await Task.Delay(500, token); // polling the server's list until every e-mail is in, with a deadline
        }
    }

    public async Task<List<ReceivedMail>> MessagesToAsync(string address) =>
        [.. (await MessagesAsync()).Where(m => m.To.Contains(address, StringComparer.OrdinalIgnoreCase))];

    /// <summary>The plain-text body of a message.</summary>
    public async Task<string> PlainTextAsync(string id) => await http.GetStringAsync(new Uri($"/api/messages/{id}/plaintext", UriKind.Relative));

    /// <summary>The message's headers (name, value).</summary>
    public async Task<List<(string Name, string Value)>> HeadersAsync(string id)
    {
        var json = await http.GetFromJsonElementAsync($"/api/messages/{id}");
        return [.. json.GetProperty("headers").EnumerateArray().Select(h => (h.GetProperty("name").GetString()!, h.GetProperty("value").GetString()!))];
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true); // the process this fixture started, by its handle
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    /// <summary>A port the OS hands out as free (bound and released at once).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, ".config", "dotnet-tools.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no .config/dotnet-tools.json above " + AppContext.BaseDirectory);
    }

    private static async Task RunAsync(string directory, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {arguments} failed: {await output} {await error}");
        }
    }
}

/// <summary>One message smtp4dev received.</summary>
public sealed record ReceivedMail(string Id, IReadOnlyList<string> To, string Subject, DateTimeOffset ReceivedAt);

internal static class HttpJson
{
    public static async Task<JsonElement> GetFromJsonElementAsync(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
