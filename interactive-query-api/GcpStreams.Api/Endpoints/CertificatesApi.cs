using System.Globalization;
using GcpStreams.Api.Auditing;
using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using GcpStreams.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// The read endpoints of certificates, answered from this instance's global read model (any instance answers any read).
/// Every one requires the <c>gc.read</c> scope, and shows only what the caller's <see cref="CallerAccess"/> allows (its channel,
/// masked numbers, no buyer for POS). The CVC never appears: the read model does not hold it.
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
                + "Certificates still AVAILABLE in a pool are counted by the pool, not listed. 400 invalid-parameter names the bad parameter. "
                + "A client bound to a channel (token claim gcp_channel) searches only its channel, never by clientId (POS: nor by orderId), and sees numbers "
                + "masked to their last four digits; the gc.backoffice scope searches every channel with full numbers; any other caller gets 403 not-allowed-for-caller.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        certificates.MapGet("/{id}", GetCertificate)
            .WithName(nameof(GetCertificate))
            .WithSummary("A certificate's status, balance, held amount, channel, pool and dates.")
            .WithDescription("Answered from this instance's read model; the CVC never appears. balanceMinor = nominal - captured + refunded; heldMinor is what "
                + "authorizations hold of it. The number is masked to its last four digits unless the caller has gc.backoffice; a POS client sees no orderId nor clientId. "
                + "404 certificate-not-found for an unknown id, or a certificate of another channel than the caller's; 429 when the caller exceeds its rate limit.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        certificates.MapGet("/{id}/history", GetCertificateHistory)
            .WithName(nameof(GetCertificateHistory))
            .WithSummary("A certificate's events, in stream order.")
            .WithDescription("Every event of the certificate (reserved, issued, authorized, captured, locked, cvc.disclosed, ...) with its amount and "
                + "balance after, in stream order. 404 certificate-not-found for an unknown id or another channel's certificate.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public static Results<Ok<CertificateResponse>, ProblemHttpResult> GetCertificate(string id, CertificateReadModel model, HttpContext context)
    {
        var access = CallerAccess.Of(context);
        return Visible(model, id, access) is { } state
            ? TypedResults.Ok(CertificateResponse.From(state, access))
            : ApiProblems.CertificateNotFound(id, context);
    }

    public static Results<Ok<CertificateHistoryResponse>, ProblemHttpResult> GetCertificateHistory(string id, CertificateReadModel model, HttpContext context)
    {
        var access = CallerAccess.Of(context);
        var state = model.Get(id);
        var history = model.GetHistory(id);
        var visible = state is null ? history.Count > 0 && access.Sees(history[0].Channel) : access.Sees(state.channel);
        if (!visible)
        {
            return ApiProblems.CertificateNotFound(id, context);
        }

        return TypedResults.Ok(new CertificateHistoryResponse(access.Number(id), history.Select(e => HistoryEventResponse.From(e, access)).ToArray()));
    }

    /// <summary>
    /// The certificate <paramref name="id"/> when it exists for <paramref name="access"/>: a certificate of another channel than
    /// the caller's is answered as unknown (404), so a channel client cannot even learn that a number exists elsewhere.
    /// </summary>
    public static CertificateState? Visible(CertificateReadModel model, string id, CallerAccess access)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(access);
        return model.Get(id) is { } state && access.Sees(state.channel) ? state : null;
    }

    public static Results<Ok<CertificatePageResponse>, ProblemHttpResult> SearchCertificates(
        CertificateReadModel model,
        CursorProtector cursors,
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

        var access = CallerAccess.Of(context);
        if (!access.MaySearch)
        {
            return ApiProblems.NotAllowed("channel", $"Searching certificates needs the {GcpScopes.BackOffice} scope or a channel binding (token claim {GcpClaims.Channel}); "
                + "look certificates up by number with GET /certificates/{id}.", context);
        }

        if (access.Channel is { } bound)
        {
            if (channelValue is { } asked && asked != bound)
            {
                return ApiProblems.NotAllowed("channel", $"This client is bound to the {bound} channel and may search only it (got channel '{channel}').", context);
            }

            if (!string.IsNullOrEmpty(clientId))
            {
                return ApiProblems.NotAllowed("clientId", $"Searching by clientId needs the {GcpScopes.BackOffice} scope; this client is bound to the {bound} channel.", context);
            }

            if (!access.SeesCustomer && !string.IsNullOrEmpty(orderId))
            {
                return ApiProblems.NotAllowed("orderId", $"A {bound} client sees no order ids, so it may not search by one.", context);
            }

            channelValue = bound;
        }

        var filter = new CertificateFilter(statusValue, channelValue, Blank(poolId), Blank(orderId), Blank(clientId));
        try
        {
            var page = model.Search(filter, size, Blank(cursor) is { } sealedCursor ? cursors.Open(sealedCursor) : null);
            return TypedResults.Ok(new CertificatePageResponse(page.Items.Select(s => CertificateResponse.From(s, access)).ToArray(), cursors.Seal(page.NextCursor)));
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
