using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The JSON body of a write endpoint, bound by <see cref="BindAsync"/> for every write the same way (see
/// <see cref="JsonBodies"/>): a body must come as JSON (<c>Content-Type: application/json</c>, else 415
/// unsupported-media-type), must parse, and every known member must have its JSON type (else 400 invalid-field whose
/// <c>field</c> is the member's JSON path, or <c>body</c>). A request without a body, or with the body <c>null</c>, binds a
/// null <see cref="Value"/>: the endpoint says which body it needs. An endpoint mapped with
/// <see cref="JsonBodies.AcceptsJsonBody{T}"/> never sees a body with a problem: its filter answers the problem instead.
/// </summary>
/// <typeparam name="T">The record the body is read as.</typeparam>
public sealed class JsonBody<T>
    where T : class
{
    private JsonBody(T? value, ProblemHttpResult? problem)
    {
        Value = value;
        Problem = problem;
    }

    /// <summary>The body, or null when the request has none (or the JSON <c>null</c>).</summary>
    public T? Value { get; }

    /// <summary>Why the body cannot be read (400, 413 or 415), or null.</summary>
    internal ProblemHttpResult? Problem { get; }

    /// <summary>Binds the body of <paramref name="context"/> (minimal APIs call it for a parameter of this type).</summary>
    /// <param name="context">The request.</param>
    /// <returns>The body, or the problem saying why it cannot be read.</returns>
    public static async ValueTask<JsonBody<T>> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (value, problem) = await JsonBodies.ReadAsync<T>(context);
        return new JsonBody<T>(value, problem);
    }
}

/// <summary>The OpenAPI description of an endpoint's JSON body: its record (the body is bound by <see cref="JsonBody{T}"/>).</summary>
/// <param name="Type">The record.</param>
internal sealed record JsonBodyMetadata(Type Type);

/// <summary>
/// Reads the JSON bodies of the write endpoints, in one place: the content type, the syntax, and the JSON type of every
/// member the body's record knows (checked against the record's <see cref="JsonTypeInfo"/> before it is deserialized, so
/// a problem names the first bad member in document order and says what it must be and what it was). Numbers must be
/// JSON numbers (not strings) without a fraction and within the member's range; array elements must not be null;
/// unknown members are ignored.
/// </summary>
public static class JsonBodies
{
    /// <summary>The name of the whole body in a problem's <c>field</c>.</summary>
    private const string Body = "body";

    private const int MaxEchoedNumberLength = 40;

    /// <summary>
    /// The endpoint's body is a <see cref="JsonBody{T}"/>: a bad body is answered by its problem before the handler runs,
    /// and the OpenAPI document describes <typeparamref name="T"/> as the request body with the 413 and 415 problems.
    /// (No <c>Accepts</c> metadata: routing would answer a wrong content type itself, unaudited and before authentication.)
    /// </summary>
    /// <typeparam name="T">The body's record.</typeparam>
    /// <param name="builder">The endpoint.</param>
    /// <returns>The endpoint.</returns>
    public static RouteHandlerBuilder AcceptsJsonBody<T>(this RouteHandlerBuilder builder)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .WithMetadata(new JsonBodyMetadata(typeof(T)))
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .AddEndpointFilter((invocation, next) =>
                invocation.Arguments.OfType<JsonBody<T>>().FirstOrDefault()?.Problem is { } problem ? ValueTask.FromResult<object?>(problem) : next(invocation));
    }

    /// <summary>Request bodies take numbers as JSON numbers only (not strings), as the OpenAPI document then says.</summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddGcpJsonBodies(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);

    internal static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpContext context)
        where T : class
    {
        var request = context.Request;
        if (request.ContentLength == 0 || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return (null, null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, ApiProblems.UnsupportedMediaType(request.ContentType, context));
        }

        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, DocumentOptions(options), context.RequestAborted);
        }
        catch (JsonException e)
        {
            return (null, ApiProblems.InvalidField(Body, NotJson(e), context));
        }
        catch (BadHttpRequestException e)
        {
            return (null, ApiProblems.UnreadableBody(e, context)); // e.g. 413: larger than Kestrel's MaxRequestBodySize
        }

        using (document)
        {
            if (Mismatch(document.RootElement, typeof(T), string.Empty, options, nullAllowed: true) is { } bad)
            {
                return (null, ApiProblems.InvalidField(bad.Path.Length == 0 ? Body : bad.Path, bad.Detail, context));
            }

            return (document.RootElement.Deserialize<T>(options), null); // every value fits: this cannot fail
        }
    }

    private static JsonDocumentOptions DocumentOptions(JsonSerializerOptions options) => new()
    {
        AllowTrailingCommas = options.AllowTrailingCommas,
        CommentHandling = options.ReadCommentHandling,
        MaxDepth = options.MaxDepth,
    };

    private static string NotJson(JsonException e)
    {
        // the reader's message ends with " LineNumber: 0 | BytePositionInLine: 12.": said below, 1-based
        var reason = e.Message;
        var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        reason = cut > 0 ? reason[..cut] : reason;
        return string.Create(CultureInfo.InvariantCulture, $"The body is not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}): {reason}");
    }

    /// <summary>
    /// The first value under <paramref name="element"/>, in document order, whose JSON type does not fit the CLR type it
    /// is read as: its path (<c>nominalMinor</c>, <c>importedNumbers[2]</c>; empty for the body itself) and the detail.
    /// </summary>
    private static (string Path, string Detail)? Mismatch(JsonElement element, Type type, string path, JsonSerializerOptions options, bool nullAllowed)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (element.ValueKind == JsonValueKind.Null)
        {
            return nullAllowed ? null : (path, Describe(path, target, options, element));
        }

        var info = options.GetTypeInfo(target);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.None or JsonTypeInfoKind.Dictionary: // a string, number or boolean, or what the type's converter reads
                return Fits(element, target, options) ? null : (path, Describe(path, target, options, element));
            case JsonTypeInfoKind.Enumerable when element.ValueKind == JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Mismatch(item, info.ElementType!, string.Create(CultureInfo.InvariantCulture, $"{path}[{index++}]"), options, nullAllowed: false) is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            case JsonTypeInfoKind.Object when element.ValueKind == JsonValueKind.Object:
                var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                foreach (var member in element.EnumerateObject())
                {
                    if (info.Properties.FirstOrDefault(p => string.Equals(p.Name, member.Name, comparison)) is { } property
                        && Mismatch(member.Value, property.PropertyType, path.Length == 0 ? property.Name : $"{path}.{property.Name}", options, nullAllowed: true) is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            default: // an array or an object expected, something else given
                return (path, Describe(path, target, options, element));
        }
    }

    /// <summary>Whether <paramref name="element"/> reads as <paramref name="target"/>, as the deserializer (strict numbers) reads it.</summary>
    private static bool Fits(JsonElement element, Type target, JsonSerializerOptions options)
    {
        if (target == typeof(string))
        {
            return element.ValueKind == JsonValueKind.String;
        }

        if (target == typeof(long) || target == typeof(int))
        {
            return element.ValueKind == JsonValueKind.Number && (target == typeof(long) ? element.TryGetInt64(out _) : element.TryGetInt32(out _));
        }

        if (target == typeof(bool))
        {
            return element.ValueKind is JsonValueKind.True or JsonValueKind.False;
        }

        try
        {
            element.Deserialize(target, options);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Describe(string path, Type target, JsonSerializerOptions options, JsonElement got)
    {
        var subject = path.Length == 0 ? "The body" : path;
        var expected = target == typeof(long) ? "a whole number (JSON number without fraction, within 64-bit range)"
            : target == typeof(int) ? "a whole number (JSON number without fraction, within 32-bit range)"
            : target == typeof(string) ? "a string"
            : target == typeof(bool) ? "true or false"
            : options.GetTypeInfo(target) is { Kind: JsonTypeInfoKind.Object } info
                ? $"a JSON object (members {string.Join(", ", info.Properties.Select(p => p.Name))})"
                : options.GetTypeInfo(target).Kind == JsonTypeInfoKind.Enumerable ? "a JSON array" : $"a JSON value that reads as {target.Name}";
        return $"{subject} must be {expected}, got {Got(got)}.";
    }

    private static string Got(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"a number ({Echo(element.GetRawText())})",
        JsonValueKind.True or JsonValueKind.False => $"a boolean ({element.GetRawText()})",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "null",
    };

    private static string Echo(string number) => number.Length <= MaxEchoedNumberLength ? number : number[..MaxEchoedNumberLength] + "…";
}
