using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security;

/// <summary>
/// JwtBearer's token handler with a cache of tokens it has found valid: a client sends the same access token on every call
/// for the token's lifetime, and checking its RSA signature and parsing its claims again each time was ~11 % of the API's CPU
/// on lookups (docs/benchmarks.md). A token the handler has validated is taken again, without a second check, until the
/// earlier of its expiry and <see cref="MaxAge"/> after its validation; anything else (a new, altered or refused token) is
/// validated in full. Only valid results are kept: an invalid token costs a full check every time. A hit gets its own copy of
/// the claims. The checks JwtBearer runs after the handler (<see cref="AccessTokenRules.OnTokenValidated"/>) still run on
/// every call. <see cref="MaxAge"/> bounds how long a token signed by a key the authority has since withdrawn stays accepted.
/// </summary>
/// <param name="time">The clock of the cache's expiries.</param>
/// <param name="capacity">Tokens kept at most; when full, expired ones go, and if none has, the cache starts over.</param>
public sealed class ValidatedTokenCache(TimeProvider time, int capacity = ValidatedTokenCache.DefaultCapacity) : JsonWebTokenHandler
{
    /// <summary>Tokens kept at most by default (distinct clients' current tokens: a few per client).</summary>
    public const int DefaultCapacity = 10_000;

    /// <summary>How long a validation is taken again at most, whatever the token's own expiry.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Validated> validated = new(StringComparer.Ordinal);
    private long hits;
    private long misses;

    /// <summary>Validations answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref hits);

    /// <summary>Validations done in full.</summary>
    public long Misses => Interlocked.Read(ref misses);

    /// <summary>The cached result of <paramref name="token"/>'s earlier validation while it lasts, else the full validation.</summary>
    /// <param name="token">The compact JWS.</param>
    /// <param name="validationParameters">What a valid token is (used on a full validation).</param>
    /// <returns>The result; a valid one is kept.</returns>
    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow();
        if (token is not null && validated.TryGetValue(token, out var known))
        {
            if (now < known.Until)
            {
                Interlocked.Increment(ref hits);
                return new TokenValidationResult
                {
                    IsValid = true,
                    SecurityToken = known.Token,
                    ClaimsIdentity = known.Identity.Clone(),
                    Issuer = known.Issuer,
                    TokenType = known.TokenType,
                };
            }

            validated.TryRemove(token, out _);
        }

        Interlocked.Increment(ref misses);
        var result = await base.ValidateTokenAsync(token!, validationParameters).ConfigureAwait(false);
        if (result.IsValid && result.SecurityToken is { } securityToken && result.ClaimsIdentity is { } identity)
        {
            var expires = securityToken.ValidTo == DateTime.MinValue ? now + MaxAge : new DateTimeOffset(DateTime.SpecifyKind(securityToken.ValidTo, DateTimeKind.Utc));
            var until = expires < now + MaxAge ? expires : now + MaxAge;
            if (until > now)
            {
                MakeRoom(now);
                validated[token!] = new Validated(securityToken, identity.Clone(), result.Issuer, result.TokenType, until);
            }
        }

        return result;
    }

    private void MakeRoom(DateTimeOffset now)
    {
        if (validated.Count < capacity)
        {
            return;
        }

        foreach (var entry in validated)
        {
            if (entry.Value.Until <= now)
            {
                validated.TryRemove(entry.Key, out _);
            }
        }

        if (validated.Count >= capacity)
        {
            validated.Clear();
        }
    }

    private sealed record Validated(SecurityToken Token, ClaimsIdentity Identity, string? Issuer, string? TokenType, DateTimeOffset Until);
}
