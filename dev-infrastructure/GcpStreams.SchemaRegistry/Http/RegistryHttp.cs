using System.Globalization;
using System.Net;
using System.Text;
using Confluent.SchemaRegistry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace GcpStreams.SchemaRegistry.Http;

/// <summary>HTTP plumbing of the registry API: media types, bodies, Confluent error bodies, raw path segments.</summary>
internal static partial class RegistryHttp
{
    /// <summary>Confluent's own media type, preferred.</summary>
    public const string V1Json = "application/vnd.schemaregistry.v1+json";

    /// <summary>Confluent's unversioned media type.</summary>
    public const string DefaultJson = "application/vnd.schemaregistry+json";

    /// <summary>Plain JSON.</summary>
    public const string Json = "application/json";

    /// <summary>What the API answers in, by preference (Confluent's order).</summary>
    private static readonly string[] ResponseTypes = [V1Json, DefaultJson, Json];

    /// <summary>Request bodies Confluent accepts (octet-stream: clients that send no proper type).</summary>
    private static readonly string[] RequestTypes = [V1Json, DefaultJson, Json, "application/octet-stream"];

    private static readonly JsonSerializerSettings ReadSettings = new()
    {
        DateParseHandling = DateParseHandling.None,
        MaxDepth = 128,
    };

    /// <summary>A 200 with a JSON body.</summary>
    public static IResult Ok(JToken body) => new RegistryResult(StatusCodes.Status200OK, body.ToString(Formatting.None));

    /// <summary>Confluent's error body: <c>{"error_code": …, "message": …}</c>.</summary>
    public static IResult Error(int status, int errorCode, string message) =>
        new RegistryResult(status, new JObject { ["error_code"] = errorCode, ["message"] = message }.ToString(Formatting.None));

    /// <summary>The Confluent-style 404 of a path the API does not serve.</summary>
    public static IResult RouteNotFound(HttpRequest request) => Error(StatusCodes.Status404NotFound, 404, "HTTP 404 Not Found");

    /// <summary>Turns the registry's (and this API's) errors into Confluent's error responses.</summary>
    public static async ValueTask<object?> HandleErrorsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (SchemaRegistryException e)
        {
            return Error(StatusOf(e), e.ErrorCode > 0 ? e.ErrorCode : StatusOf(e), MessageOf(e));
        }
        catch (BadHttpRequestException e)
        {
            return Error(e.StatusCode, e.StatusCode, e.Message); // e.g. 413: the body is over Kestrel's limit
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var logger = context.HttpContext.RequestServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(SchemaRegistryApiEndpoints));
            if (logger is not null)
            {
                LogUnexpected(logger, context.HttpContext.Request.Method, context.HttpContext.Request.Path, e);
            }

            return Error(StatusCodes.Status500InternalServerError, 50001, "Internal error of the in-process schema registry: " + e.Message);
        }
    }

    /// <summary>
    /// The HTTP status of a registry error, as Confluent derives it: the first three digits of a five-digit error
    /// code (40401 → 404), a three-digit code itself (409), else the exception's status.
    /// </summary>
    public static int StatusOf(SchemaRegistryException exception)
    {
        var code = exception.ErrorCode;
        if (code is >= 40000 and <= 59999)
        {
            return code / 100;
        }

        if (code is >= 400 and <= 599)
        {
            return code;
        }

        var status = (int)exception.Status;
        return status is >= 400 and <= 599 ? status : StatusCodes.Status500InternalServerError;
    }

    /// <summary>The message without the "; error code: N" that <see cref="SchemaRegistryException"/> appends.</summary>
    public static string MessageOf(SchemaRegistryException exception)
    {
        var suffix = "; error code: " + exception.ErrorCode.ToString(CultureInfo.InvariantCulture);
        var message = exception.Message;
        return message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    /// <summary>An error with Confluent's code; the HTTP status follows from the code.</summary>
    public static SchemaRegistryException Fail(int errorCode, string message)
    {
        var status = errorCode >= 10000 ? errorCode / 100 : errorCode;
        return new SchemaRegistryException(message, (HttpStatusCode)status, errorCode);
    }

    /// <summary>
    /// The response media type: Confluent's v1 type unless the request's Accept header only admits the
    /// unversioned one or plain JSON. Anything else (no header, wildcards, nothing we serve) gets the v1 type.
    /// </summary>
    public static string ResponseMediaType(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted) || accepted.Count == 0)
        {
            return V1Json;
        }

        string? best = null;
        var bestQuality = 0.0;
        foreach (var candidate in ResponseTypes)
        {
            // Exact types and wildcards only: ASP.NET's IsSubsetOf would also let "application/json" admit
            // "application/vnd.schemaregistry.v1+json" (structured syntax suffix).
            var quality = accepted
                .Where(a => Admits(a.MediaType.Value, candidate))
                .Select(a => a.Quality ?? 1.0)
                .DefaultIfEmpty(0.0)
                .Max();
            if (quality > bestQuality)
            {
                best = candidate;
                bestQuality = quality;
            }
        }

        return best ?? V1Json;
    }

    private static bool Admits(string? range, string mediaType) =>
        range is not null
        && (range == "*/*"
            || string.Equals(range, mediaType, StringComparison.OrdinalIgnoreCase)
            || (range.EndsWith("/*", StringComparison.Ordinal)
                && mediaType.StartsWith(range[..^1], StringComparison.OrdinalIgnoreCase)));

    /// <summary>Reads a JSON object body (any of Confluent's request media types; none given is accepted too).</summary>
    public static async Task<JObject> ReadObjectAsync(HttpRequest request)
    {
        if (!string.IsNullOrEmpty(request.ContentType)
            && (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
                || !RequestTypes.Contains(type.MediaType.Value, StringComparer.OrdinalIgnoreCase)))
        {
            throw Fail(415, "HTTP 415 Unsupported Media Type");
        }

        string text;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true))
        {
            text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw Fail(422, "The request body is required.");
        }

        JToken token;
        try
        {
            using var json = new JsonTextReader(new StringReader(text));
            json.DateParseHandling = ReadSettings.DateParseHandling;
            json.MaxDepth = ReadSettings.MaxDepth;
            token = JToken.ReadFrom(json);
            if (json.Read())
            {
                throw new JsonReaderException("Unexpected content after the JSON value.");
            }
        }
        catch (JsonReaderException e)
        {
            throw Fail(400, "Malformed JSON: " + e.Message);
        }

        return token as JObject ?? throw Fail(422, "The request body must be a JSON object.");
    }

    /// <summary>A query parameter, or null.</summary>
    public static string? Query(HttpRequest request, string name)
    {
        var values = request.Query[name];
        return values.Count == 0 ? null : values[0];
    }

    /// <summary>A boolean query parameter: true only for "true" (any case), as JAX-RS reads it.</summary>
    public static bool QueryFlag(HttpRequest request, string name) =>
        string.Equals(Query(request, name), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A path segment as the client wrote it, percent-decoded: route values keep "%2F" encoded (Kestrel does not
    /// decode it in paths), so a subject such as "team/orders" (sent as "team%2Forders") is read from the raw
    /// request target. <paramref name="index"/> counts segments after the API's prefix.
    /// </summary>
    public static string Segment(HttpRequest request, int prefixSegments, int index, string routeValueName)
    {
        var routeValue = request.RouteValues[routeValueName] as string ?? string.Empty;
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return routeValue;
        }

        var path = raw;
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (!path.StartsWith('/') && scheme >= 0)
        {
            var slash = path.IndexOf('/', scheme + 3);
            path = slash < 0 ? "/" : path[slash..];
        }

        var end = path.IndexOfAny(['?', '#']);
        if (end >= 0)
        {
            path = path[..end];
        }

        var baseSegments = (request.PathBase.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var position = baseSegments + prefixSegments + index;
        return position < segments.Length ? Uri.UnescapeDataString(segments[position]) : routeValue;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Schema registry API: {Method} {Path} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string method, PathString path, Exception exception);

    /// <summary>A response with Confluent's media type (negotiated) and a fixed body.</summary>
    private sealed class RegistryResult(int status, string body) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = ResponseMediaType(httpContext.Request);
            await httpContext.Response.WriteAsync(body, Encoding.UTF8, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
