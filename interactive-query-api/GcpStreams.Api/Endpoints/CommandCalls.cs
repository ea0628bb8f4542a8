using System.Globalization;
using System.Security.Claims;
using System.Text.RegularExpressions;
using GcpStreams.Api.Hosting;
using GcpStreams.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// What every write endpoint shares: sending its command through <see cref="CommandClient"/> as the calling OAuth2 client
/// (a timeout is 504, a channel not open yet is 503), the request headers, and the formats of ids and currencies.
/// </summary>
internal static partial class CommandCalls
{
    /// <summary>Longest Idempotency-Key, order id, reason or correlation id accepted.</summary>
    public const int MaxTextLength = 200;

    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string CorrelationIdHeader = "X-Correlation-Id";

    /// <summary>Sends the command and waits for its reply; on no reply, the problem to answer instead.</summary>
    public static async Task<(C.CommandReply? Reply, ProblemHttpResult? Problem)> SendAsync(
        CommandClient commands, string key, object payload, HttpContext context, string? idempotencyKey = null)
    {
        var correlationId = CorrelationId(context);
        using var span = Observability.Telemetry.StartCommand(payload, key, correlationId); // HTTP -> command -> reply, with the correlation id
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var reply = await commands.SendAsync(key, payload, Caller(context.User), correlationId, idempotencyKey, commands.ReplyTimeout, context.RequestAborted);
            Observability.Telemetry.EndCommand(span, payload, started, reply.outcome == C.ReplyOutcome.ACCEPTED ? "accepted" : "rejected", reply.reason);
            return (reply, null);
        }
        catch (TimeoutException)
        {
            Observability.Telemetry.EndCommand(span, payload, started, "timeout");
            return (null, ApiProblems.CommandTimeout(commands.ReplyTimeout, context));
        }
        catch (CommandClientNotOpenException)
        {
            Observability.Telemetry.EndCommand(span, payload, started, "not_ready");
            return (null, ApiProblems.NotReady(context));
        }
    }

    /// <summary>The client of a call without a valid token.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>
    /// The OAuth2 client the token was issued to (<c>client_id</c>, else <c>azp</c>, else <c>sub</c>): idempotency keys are
    /// scoped to it. A valid token always names one (<see cref="AccessTokenRules"/> refuses the others).
    /// </summary>
    public static string Caller(ClaimsPrincipal user) => AccessTokenRules.ClientOf(user) ?? Anonymous;

    /// <summary>The OAuth2 client of the call, or <c>anonymous</c> when it carries no valid token (audit records, rate-limit partitions).</summary>
    public static string ClientOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true ? Caller(context.User) : Anonymous;

    /// <summary>
    /// The caller's X-Correlation-Id when it is one value of 1 to <see cref="MaxTextLength"/> characters of
    /// <c>A-Za-z0-9._:-</c>, else (absent, repeated, too long, or any other character) the request's trace id: a correlation
    /// id goes into commands, events, history, audit records and log lines as it is.
    /// </summary>
    public static string CorrelationId(HttpContext context) =>
        context.Request.Headers[CorrelationIdHeader] is [{ } given] && CorrelationIdFormat().IsMatch(given) ? given : context.TraceIdentifier;

    /// <summary>400 unless the Idempotency-Key header, when given, is 1 to <see cref="MaxTextLength"/> printable ASCII characters.</summary>
    public static ProblemHttpResult? ValidateIdempotencyKey(string? idempotencyKey, HttpContext context) =>
        idempotencyKey is not null && (idempotencyKey.Length == 0 || idempotencyKey.Length > MaxTextLength || idempotencyKey.Any(c => c < ' ' || c > '~'))
            ? ApiProblems.InvalidField(IdempotencyKeyHeader, $"The {IdempotencyKeyHeader} header, when given, must be 1 to {MaxTextLength} printable ASCII characters.", context)
            : null;

    /// <summary>What every pool command names: the channel (parsed), a positive nominal and an ISO currency; else the 400 naming the field.</summary>
    public static ProblemHttpResult? ValidatePoolTerms(string? channelName, long? nominalMinor, string? currency, HttpContext context, out C.Channel channel, out long nominal)
    {
        nominal = nominalMinor ?? 0;
        if (ParseChannel(channelName, context, out channel) is { } badChannel)
        {
            return badChannel;
        }

        if (nominalMinor is not > 0)
        {
            return ApiProblems.InvalidField("nominalMinor", $"nominalMinor must be a positive amount in minor units (got {nominalMinor?.ToString(CultureInfo.InvariantCulture) ?? "none"}).", context);
        }

        return currency is null || !CurrencyFormat().IsMatch(currency)
            ? ApiProblems.InvalidField("currency", $"currency must be an ISO 4217 code such as RUB (got '{currency}').", context)
            : null;
    }

    /// <summary>A sales channel by name (any case), not a number and not UNKNOWN; else the 400 naming the known ones.</summary>
    private static ProblemHttpResult? ParseChannel(string? name, HttpContext context, out C.Channel channel)
    {
        channel = C.Channel.UNKNOWN;
        if (name is { Length: > 0 } && char.IsAsciiLetter(name[0]) && Enum.TryParse(name, ignoreCase: true, out channel) && channel != C.Channel.UNKNOWN)
        {
            return null;
        }

        var channels = string.Join(", ", Enum.GetNames<C.Channel>().Where(n => n != nameof(C.Channel.UNKNOWN)));
        return ApiProblems.InvalidField("channel", $"channel must be one of {channels} (got '{name}').", context);
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z")]
    public static partial Regex PoolIdFormat();

    [GeneratedRegex(@"^[A-Z]{3}\z")]
    public static partial Regex CurrencyFormat();

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,200}\z")] // \z: "$" would let a trailing newline through
    public static partial Regex CorrelationIdFormat();
}
