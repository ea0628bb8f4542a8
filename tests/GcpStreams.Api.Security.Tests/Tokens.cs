using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security.Tests;

/// <summary>Hand-made tokens: expired ones signed with the server's own key, ones signed by a stranger, tampered ones.</summary>
internal static class Tokens
{
    public static string Sign(SigningCredentials credentials, string issuer, string scope, DateTime notBefore, DateTime expires, string audience = AuthOptions.DefaultAudience)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", "admin"), new Claim("client_id", "admin"), new Claim("scope", scope)]),
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = credentials,
            TokenType = "at+jwt",
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public static string Expired(SigningCredentials credentials, string issuer, string scope)
    {
        // an hour past its expiry, whatever the clock: no waiting
        var now = DateTime.UtcNow;
        return Sign(credentials, issuer, scope, now.AddHours(-2), now.AddHours(-1));
    }

    public static string SignedByAnotherKey(string issuer, string scope)
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa.ExportParameters(true)) { KeyId = "stranger" };
        var now = DateTime.UtcNow;
        return Sign(new SigningCredentials(key, SecurityAlgorithms.RsaSha256), issuer, scope, now.AddMinutes(-1), now.AddHours(1));
    }

    /// <summary>Rewrites the payload's scope claim to every scope and keeps the original signature.</summary>
    public static string Tampered(string token)
    {
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]);
        var original = new JsonWebToken(token).GetClaim("scope").Value;
        var forged = payload.Replace($"\"scope\":\"{original}\"", $"\"scope\":\"{string.Join(' ', GcpScopes.All)}\"", StringComparison.Ordinal);
        Assert.That(forged, Is.Not.EqualTo(payload), "the payload should have been altered");
        return $"{parts[0]}.{Base64UrlEncoder.Encode(forged)}.{parts[2]}";
    }
}
