using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using GcpStreams.Api.Endpoints;
using GcpStreams.Api.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// CVC support grants for the tests: minted by the service's development signer (<c>POST /dev/support-tickets</c>, as
/// <c>make run</c> users get them), or signed here with a key the test holds, with any claims and times.
/// </summary>
internal static class SupportGrants
{
    /// <summary>The body of a support disclosure.</summary>
    public static string Disclosure(string grant, string reason = "caller verified by phone") => JsonSerializer.Serialize(new { grant, reason });

    /// <summary>A grant from the service's development signer for the client of <paramref name="token"/>.</summary>
    public static async Task<string> MintAsync(this ApiClient api, string token, string certificateId, string ticketId, string agentId = "agent.ivanova")
    {
        var (status, body, response) = await api.CallAsync(HttpMethod.Post, DevSupportTicketsApi.Path, token, JsonSerializer.Serialize(new { certificateId, ticketId, agentId }));
        response.Dispose();
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body?.ToString());
        return body!.Value.GetProperty("grant").GetString()!;
    }

    /// <summary>A grant signed with <paramref name="key"/> as a ticketing system signs one: every claim, 5 minutes, unless told otherwise.</summary>
    public static string Sign(AsymmetricAlgorithm key, string certificateId, string ticketId, string clientId, string agentId = "agent.ivanova", string issuer = SupportGrantOptions.DevIssuer,
        DateTime? issuedAt = null, TimeSpan? lifetime = null, string typ = SupportGrantOptions.TokenType)
    {
        var iat = issuedAt ?? DateTime.UtcNow;
        var credentials = key switch
        {
            ECDsa ec => new SigningCredentials(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256),
            RSA rsa => new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256),
            _ => throw new ArgumentException("an RSA or EC key", nameof(key)),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = typ,
            Issuer = issuer,
            Audience = SupportGrantOptions.DefaultAudience,
            IssuedAt = iat,
            Expires = iat + (lifetime ?? TimeSpan.FromMinutes(5)),
            SigningCredentials = credentials,
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
                new Claim(SupportGrantClaims.TicketId, ticketId),
                new Claim(SupportGrantClaims.CertificateId, certificateId),
                new Claim(SupportGrantClaims.AgentId, agentId),
                new Claim(SupportGrantClaims.ClientId, clientId),
            ]),
        });
    }
}
