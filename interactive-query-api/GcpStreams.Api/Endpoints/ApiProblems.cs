using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>The RFC 7807 problems of the read endpoints (every error of the API is a problem).</summary>
internal static class ApiProblems
{
    public const string CertificateNotFoundType = "https://gcpstreams.dev/problems/certificate-not-found";
    public const string PoolNotFoundType = "https://gcpstreams.dev/problems/pool-not-found";
    public const string InvalidParameterType = "https://gcpstreams.dev/problems/invalid-parameter";

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
}
