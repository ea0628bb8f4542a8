using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>The RFC 7807 problems of the API (every error of the API is a problem).</summary>
internal static class ApiProblems
{
    public const string CertificateNotFoundType = "https://gcpstreams.dev/problems/certificate-not-found";
    public const string PoolNotFoundType = "https://gcpstreams.dev/problems/pool-not-found";
    public const string InvalidParameterType = "https://gcpstreams.dev/problems/invalid-parameter";
    public const string InvalidFieldType = "https://gcpstreams.dev/problems/invalid-field";
    public const string PoolEmptyType = "https://gcpstreams.dev/problems/pool-empty";
    public const string IdempotencyConflictType = "https://gcpstreams.dev/problems/idempotency-conflict";
    public const string CommandRejectedType = "https://gcpstreams.dev/problems/command-rejected";
    public const string CommandTimeoutType = "https://gcpstreams.dev/problems/command-timeout";
    public const string NotReadyType = "https://gcpstreams.dev/problems/not-ready";
    public const string NotAllowedType = "https://gcpstreams.dev/problems/not-allowed-for-caller";
    public const string UnsupportedMediaTypeType = "https://gcpstreams.dev/problems/unsupported-media-type";
    public const string CvcGrantInvalidType = "https://gcpstreams.dev/problems/cvc-grant-invalid";

    /// <summary>Declares (for the OpenAPI document) that the endpoint answers each of these statuses with a problem.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.ProducesProblem(status);
        }

        return builder;
    }

    /// <summary>Seconds a client should wait before retrying after a 503 or 504 of a write.</summary>
    public const int RetryAfterSeconds = 2;

    public static ProblemHttpResult CertificateNotFound(string certificateId, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Certificate not found",
        detail: $"No certificate with id '{certificateId}' is known to the read model (ids are case-sensitive).",
        type: CertificateNotFoundType,
        instance: context.Request.Path,
        extensions: new Dictionary<string, object?> { ["certificateId"] = certificateId });

    public static ProblemHttpResult PoolNotFound(string poolId, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Pool not found",
        detail: $"No pool with id '{poolId}' is known to the read model (ids are case-sensitive).",
        type: PoolNotFoundType,
        instance: context.Request.Path,
        extensions: new Dictionary<string, object?> { ["poolId"] = poolId });

    public static ProblemHttpResult InvalidParameter(string parameter, string detail, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: $"Invalid query parameter '{parameter}'",
        detail: detail,
        type: InvalidParameterType,
        instance: context.Request.Path + context.Request.QueryString,
        extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    /// <summary>400: a field of the JSON body (or a header) is missing or invalid; the extension <c>field</c> names it.</summary>
    public static ProblemHttpResult InvalidField(string field, string detail, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: $"Invalid field '{field}'",
        detail: detail,
        type: InvalidFieldType,
        instance: context.Request.Path,
        extensions: new Dictionary<string, object?> { ["field"] = field });

    /// <summary>
    /// 403: the caller's channel binding or scopes do not allow what it asked (<see cref="CallerAccess"/>); the extension
    /// <c>parameter</c> names the parameter or field at fault.
    /// </summary>
    public static ProblemHttpResult NotAllowed(string parameter, string detail, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Not allowed for this caller",
        detail: detail,
        type: NotAllowedType,
        instance: context.Request.Path + context.Request.QueryString,
        extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    /// <summary>
    /// 403: the CVC support grant failed a check (<see cref="Security.SupportGrantValidator"/>); the extension <c>failedCheck</c>
    /// names it (<c>signature</c>, <c>issuer</c>, <c>audience</c>, <c>type</c>, <c>expired</c>, <c>lifetime</c>, <c>certificate</c>,
    /// <c>client</c>, ...) and the detail says what failed, never echoing the grant.
    /// </summary>
    public static ProblemHttpResult CvcGrantInvalid(string failedCheck, string detail, string certificateId, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Invalid CVC support grant",
        detail: detail,
        type: CvcGrantInvalidType,
        instance: context.Request.Path,
        extensions: new Dictionary<string, object?> { ["failedCheck"] = failedCheck, ["certificateId"] = certificateId });

    /// <summary>415: a write's body came with another content type than JSON (or none).</summary>
    public static ProblemHttpResult UnsupportedMediaType(string? contentType, HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        title: "Unsupported media type",
        detail: $"The body must be JSON sent as 'Content-Type: {System.Net.Mime.MediaTypeNames.Application.Json}' "
            + (string.IsNullOrEmpty(contentType) ? "(the request has no Content-Type)." : $"(got '{contentType}')."),
        type: UnsupportedMediaTypeType,
        instance: context.Request.Path);

    /// <summary>The body could not be read at all (Kestrel's status: 413 beyond its MaxRequestBodySize, 400, 408); <c>field</c> is <c>body</c>.</summary>
    public static ProblemHttpResult UnreadableBody(BadHttpRequestException exception, HttpContext context) => TypedResults.Problem(
        statusCode: exception.StatusCode,
        title: "Unreadable body",
        detail: exception.Message,
        type: InvalidFieldType,
        instance: context.Request.Path,
        extensions: new Dictionary<string, object?> { ["field"] = "body" });

    /// <summary>
    /// Completes the problems ASP.NET Core writes itself (status code pages: 404 for a path no endpoint has, 405 for a method
    /// the path does not take; the exception handler's 500) with the <c>detail</c> and <c>instance</c> every problem carries.
    /// Problems of the API already have both and are left as they are.
    /// </summary>
    public static void Complete(ProblemDetailsContext problem)
    {
        var request = problem.HttpContext.Request;
        var details = problem.ProblemDetails;
        details.Instance ??= request.Path;
        details.Detail ??= details.Status switch
        {
            StatusCodes.Status404NotFound => $"No endpoint answers {request.Method} {request.Path}; the API's endpoints are listed in {OpenApiSetup.DocumentPath}.",
            StatusCodes.Status405MethodNotAllowed =>
                $"{request.Method} is not allowed on {request.Path}; allowed: {problem.HttpContext.Response.Headers.Allow}.",
            StatusCodes.Status500InternalServerError => "The service failed to answer; the traceId names the request in its log.",
            _ => details.Title,
        };
    }

    /// <summary>A command the service refused (409 or 422), with the rejection <c>reason</c> as an extension.</summary>
    public static ProblemHttpResult Rejected(int status, string type, string title, string reason, string? message, HttpContext context,
        Dictionary<string, object?>? extensions = null)
    {
        extensions ??= [];
        extensions["reason"] = reason;
        return TypedResults.Problem(statusCode: status, title: title, detail: message ?? reason, type: type, instance: context.Request.Path, extensions: extensions);
    }

    /// <summary>504: no reply to the command in time; it may still be carried out (retry with the same Idempotency-Key).</summary>
    public static ProblemHttpResult CommandTimeout(TimeSpan timeout, HttpContext context)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status504GatewayTimeout,
            title: "The command got no reply in time",
            detail: $"The service did not answer within {timeout.TotalSeconds:0.#} s. The command may still be carried out: retry after {RetryAfterSeconds} s " +
                    "(a reservation with the same Idempotency-Key returns the same certificate).",
            type: CommandTimeoutType,
            instance: context.Request.Path);
    }

    /// <summary>503: this instance has not read the report topic to its end yet (it is starting).</summary>
    public static ProblemHttpResult ReportsNotReady(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: "The service is starting: it has not yet read the daily reports (GiftCertificates.DailyReport) to their end.",
            type: NotReadyType,
            instance: context.Request.Path);
    }

    /// <summary>503: the command channel is not open yet (the stream is starting).</summary>
    public static ProblemHttpResult NotReady(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: "The service is starting: its command channel is not open yet.",
            type: NotReadyType,
            instance: context.Request.Path);
    }
}
