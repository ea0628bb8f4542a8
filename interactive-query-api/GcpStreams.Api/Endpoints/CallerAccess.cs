using GcpStreams.Api.Security;
using GcpStreams.Contracts;

namespace GcpStreams.Api.Endpoints;

/// <summary>
/// What a caller may see of certificates and pools, from its token (issue 10, H2). Three kinds of caller:
/// <list type="bullet">
/// <item>bound to a channel (the <c>gcp_channel</c> claim, e.g. the POS terminals, the internet store): only certificates and pools
///   of that channel exist for it (another channel's certificate is 404, as an unknown one), its searches are limited to the
///   channel and never by client id, numbers are masked to the last four digits (except in its own reservation's answer), and a
///   POS caller does not see the buyer's client id nor the order id;</item>
/// <item>back office (the <c>gc.backoffice</c> scope, no channel claim): every channel, searches by client id, full numbers;</item>
/// <item>neither (e.g. the CRM notifier): looks up certificates by number in any channel, masked, and may not search.</item>
/// </list>
/// </summary>
/// <param name="Channel">The channel the caller is bound to, or <see langword="null"/>.</param>
/// <param name="BackOffice">Whether the caller is back office (the scope, and no channel).</param>
public sealed record CallerAccess(Channel? Channel, bool BackOffice)
{
    /// <summary>How many trailing digits of a masked number are shown.</summary>
    public const int VisibleDigits = 4;

    /// <summary>The access of the authenticated caller of <paramref name="context"/>.</summary>
    public static CallerAccess Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = context.User;
        // the claim was validated with the token (AccessTokenRules): one of GcpClaims.Channels
        if (GcpClaims.ChannelOf(user) is { } claim && Enum.TryParse<Channel>(claim, ignoreCase: false, out var channel))
        {
            return new CallerAccess(channel, BackOffice: false);
        }

        return new CallerAccess(null, ScopeAuthorizationHandler.GrantedScopes(user).Contains(GcpScopes.BackOffice, StringComparer.Ordinal));
    }

    /// <summary>Whether the caller sees full certificate numbers.</summary>
    public bool SeesFullNumbers => BackOffice;

    /// <summary>Whether the caller sees the buyer's client id and the order id (every caller but the POS terminals).</summary>
    public bool SeesCustomer => Channel != Contracts.Channel.POS;

    /// <summary>Whether the caller may search (<c>GET /certificates</c>): back office, or bound to a channel.</summary>
    public bool MaySearch => BackOffice || Channel is not null;

    /// <summary>Whether a certificate or pool of <paramref name="channel"/> exists for the caller.</summary>
    public bool Sees(Channel channel) => Channel is null || Channel == channel;

    /// <summary>
    /// <paramref name="number"/> as the caller may see it: whole for the back office, else all but the last
    /// <see cref="VisibleDigits"/> characters replaced by <c>*</c>.
    /// </summary>
    public string Number(string number)
    {
        ArgumentNullException.ThrowIfNull(number);
        return SeesFullNumbers ? number : Mask(number);
    }

    /// <summary><paramref name="number"/> with all but its last <see cref="VisibleDigits"/> characters replaced by <c>*</c>.</summary>
    public static string Mask(string number)
    {
        ArgumentNullException.ThrowIfNull(number);
        return number.Length <= VisibleDigits ? new string('*', number.Length) : string.Concat(new string('*', number.Length - VisibleDigits), number.AsSpan(number.Length - VisibleDigits));
    }
}
