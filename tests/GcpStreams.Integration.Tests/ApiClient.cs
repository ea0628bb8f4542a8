using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace GcpStreams.Integration.Tests;

/// <summary>An HTTP client of the service: real tokens from its token endpoint, requests with headers, problem checks.</summary>
internal sealed class ApiClient(string baseUrl) : IDisposable
{
    private readonly HttpClient http = new() { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(90) };

    /// <summary>A client-credentials token of a dev client (its secret is <c>{id}-secret</c>), optionally narrowed to a scope.</summary>
    public async Task<string> TokenAsync(string clientId, string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = clientId + "-secret" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        using var content = new FormUrlEncodedContent(form);
        using var response = await http.PostAsync(new Uri("/connect/token", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? json = null, IReadOnlyDictionary<string, string>? headers = null) =>
        SendContentAsync(method, path, token, json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, "application/json"), headers);

    /// <summary>Sends <paramref name="content"/> as it is (its own Content-Type, or none), and disposes it.</summary>
    public async Task<HttpResponseMessage> SendContentAsync(HttpMethod method, string path, string? token, HttpContent? content, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        return await http.SendAsync(request);
    }

    /// <summary>Sends and returns the status and the body parsed as JSON (null when empty).</summary>
    public async Task<(HttpStatusCode Status, JsonElement? Body, HttpResponseMessage Response)> CallAsync(HttpMethod method, string path, string? token, string? json = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var response = await SendAsync(method, path, token, json, headers);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), body);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.That(problem.GetProperty("type").GetString(), Is.EqualTo("https://gcpstreams.dev/problems/" + type), body);
        Assert.That(problem.GetProperty("status").GetInt32(), Is.EqualTo((int)status));
        return problem;
    }

    public void Dispose() => http.Dispose();
}

/// <summary>Keeps every log line the service writes (category, level, message, exception), for tests that read the log.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> values ? string.Join(' ', values.Select(kv => $"{kv.Key}={kv.Value}")) : string.Empty;
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {structured} {exception}");
        }
    }
}
