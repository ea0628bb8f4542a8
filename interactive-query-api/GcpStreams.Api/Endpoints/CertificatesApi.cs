using System.Globalization;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using GcpStreams.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The read endpoints of certificates, answered from this instance's global read model (any instance answers any read).
/// Every one requires the <c>gc.read</c> scope. The CVC never appears: the read model does not hold it.
/// </summary>
public static class CertificatesApi
{
    /// <summary>Default page size of <c>GET /certificates</c>.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>Largest page size of <c>GET /certificates</c>.</summary>
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapCertificatesApi(this IEndpointRouteBuilder endpoints)
    {
        var certificates = endpoints.MapGroup("/certificates").WithTags("Certificates").RequireAuthorization(Policies.Read).RequireRateLimiting(RateLimits.Lookups).Audited();
        certificates.MapGet("", SearchCertificates)
            .WithName(nameof(SearchCertificates))
            .WithSummary("Search certificates by status, channel, pool, order id and client id, a page at a time.")
            .WithDescription("All criteria are optional and must all hold; status and channel are case-insensitive names. Ordered by certificate id; pageSize 1..500 (default 50). "
                + "Only a null nextCursor means the end: a page may be short or empty and still carry a cursor (pass it back as cursor). "
                + "Certificates still AVAILABLE in a pool are counted by the pool, not listed. 400 invalid-parameter names the bad parameter.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        certificates.MapGet("/{id}", GetCertificate)
            .WithName(nameof(GetCertificate))
            .WithSummary("A certificate's status, balance, held amount, channel, pool and dates.")
            .WithDescription("Answered from this instance's read model; the CVC never appears. balanceMinor = nominal - captured + refunded; heldMinor is what "
                + "authorizations hold of it. 404 certificate-not-found for an unknown id; 429 when the caller exceeds its rate limit.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        certificates.MapGet("/{id}/history", GetCertificateHistory)
            .WithName(nameof(GetCertificateHistory))
            .WithSummary("A certificate's events, in stream order.")
            .WithDescription("Every event of the certificate (reserved, issued, authorized, captured, locked, cvc.disclosed, ...) with its amount and "
                + "balance after, in stream order. 404 certificate-not-found for an unknown id.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public static Results<Ok<CertificateResponse>, ProblemHttpResult> GetCertificate(string id, CertificateReadModel model, HttpContext context) =>
        model.Get(id) is { } state
            ? TypedResults.Ok(CertificateResponse.From(state))
            : ApiProblems.CertificateNotFound(id, context);

    public static Results<Ok<CertificateHistoryResponse>, ProblemHttpResult> GetCertificateHistory(string id, CertificateReadModel model, HttpContext context)
    {
        var history = model.GetHistory(id);
        if (history.Count == 0 && model.Get(id) is null)
        {
            return ApiProblems.CertificateNotFound(id, context);
        }

        return TypedResults.Ok(new CertificateHistoryResponse(id, history.Select(HistoryEventResponse.From).ToArray()));
    }

    public static Results<Ok<CertificatePageResponse>, ProblemHttpResult> SearchCertificates(
        CertificateReadModel model,
        HttpContext context,
        string? status = null,
        string? channel = null,
        string? poolId = null,
        string? orderId = null,
        string? clientId = null,
        string? pageSize = null,
        string? cursor = null)
    {
        if (!TryParseEnum<CertificateStatus>(status, out var statusValue))
        {
            return InvalidEnum<CertificateStatus>("status", status!, context);
        }

        if (!TryParseEnum<Channel>(channel, out var channelValue))
        {
            return InvalidEnum<Channel>("channel", channel!, context);
        }

        var size = DefaultPageSize;
        if (pageSize is not null
            && (!int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxPageSize))
        {
            return ApiProblems.InvalidParameter("pageSize", $"pageSize must be a whole number from 1 to {MaxPageSize} (got '{pageSize}').", context);
        }

        var filter = new CertificateFilter(statusValue, channelValue, Blank(poolId), Blank(orderId), Blank(clientId));
        try
        {
            var page = model.Search(filter, size, Blank(cursor));
            return TypedResults.Ok(new CertificatePageResponse(page.Items.Select(CertificateResponse.From).ToArray(), page.NextCursor));
        }
        catch (FormatException)
        {
            return ApiProblems.InvalidParameter("cursor", "cursor is not a cursor this API returned: pass the nextCursor of the previous page unchanged.", context);
        }
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A known symbol by name (any case); not a number, not UNKNOWN. A missing value parses as null.</summary>
    private static bool TryParseEnum<T>(string? value, out T? parsed)
        where T : struct, Enum
    {
        parsed = null;
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        if (char.IsAsciiLetter(value[0]) && Enum.TryParse<T>(value, ignoreCase: true, out var symbol) && !string.Equals(symbol.ToString(), "UNKNOWN", StringComparison.Ordinal))
        {
            parsed = symbol;
            return true;
        }

        return false;
    }

    private static ProblemHttpResult InvalidEnum<T>(string parameter, string value, HttpContext context)
        where T : struct, Enum
    {
        var known = string.Join(", ", Enum.GetNames<T>().Where(n => n != "UNKNOWN"));
        return ApiProblems.InvalidParameter(parameter, $"{parameter} must be one of {known} (got '{value}').", context);
    }
}
