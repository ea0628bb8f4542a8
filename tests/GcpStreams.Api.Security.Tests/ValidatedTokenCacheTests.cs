using Microsoft.Extensions.DependencyInjection;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Security.Tests;

/// <summary>
/// A token validated once is taken again without a second check until its expiry or <see cref="ValidatedTokenCache.MaxAge"/>;
/// anything not validated before (invalid, altered, expired since) gets the full check.
/// </summary>
public sealed class ValidatedTokenCacheTests
{
    private const string Issuer = "https://issuer.test/";
    private static readonly RsaSecurityKey Key = new(RSA.Create(2048)) { KeyId = "cache-test" };
    private static readonly SigningCredentials Credentials = new(Key, SecurityAlgorithms.RsaSha256);

    private static TokenValidationParameters Parameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = AuthOptions.DefaultAudience,
        IssuerSigningKey = Key,
        ClockSkew = TimeSpan.Zero,
    };

    private static string Token(TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return Tokens.Sign(Credentials, Issuer, GcpScopes.Read, now.AddMinutes(-1), now + lifetime);
    }

    [Test]
    public async Task A_validated_token_is_taken_again_with_its_own_copy_of_the_claims()
    {
        var cache = new ValidatedTokenCache(new ManualClock(DateTimeOffset.UtcNow));
        var token = Token(TimeSpan.FromHours(1));

        var first = await cache.ValidateTokenAsync(token, Parameters());
        var second = await cache.ValidateTokenAsync(token, Parameters());

        Assert.Multiple(() =>
        {
            Assert.That(first.IsValid && second.IsValid, Is.True);
            Assert.That((cache.Misses, cache.Hits), Is.EqualTo((1L, 1L)));
            Assert.That(second.ClaimsIdentity.FindFirst("client_id")?.Value, Is.EqualTo("admin"));
            Assert.That(second.ClaimsIdentity, Is.Not.SameAs(first.ClaimsIdentity));
            Assert.That(second.SecurityToken, Is.InstanceOf<JsonWebToken>());
        });
    }

    [Test]
    public async Task An_invalid_or_altered_token_is_never_taken_from_the_cache()
    {
        var cache = new ValidatedTokenCache(new ManualClock(DateTimeOffset.UtcNow));
        var token = Token(TimeSpan.FromHours(1));
        Assert.That((await cache.ValidateTokenAsync(token, Parameters())).IsValid, Is.True);

        var tampered = Tokens.Tampered(token);
        var stranger = Tokens.SignedByAnotherKey(Issuer, GcpScopes.Read);
        for (var i = 0; i < 2; i++)
        {
            Assert.That((await cache.ValidateTokenAsync(tampered, Parameters())).IsValid, Is.False, "tampered");
            Assert.That((await cache.ValidateTokenAsync(stranger, Parameters())).IsValid, Is.False, "another key");
        }

        Assert.That((cache.Misses, cache.Hits), Is.EqualTo((5L, 0L)));
    }

    [Test]
    public async Task A_validation_is_taken_again_no_longer_than_the_tokens_expiry_nor_the_maximum_age()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = new ValidatedTokenCache(clock);
        var shortLived = Token(TimeSpan.FromSeconds(20)); // expires before MaxAge
        var longLived = Token(TimeSpan.FromHours(1));
        await cache.ValidateTokenAsync(shortLived, Parameters());
        await cache.ValidateTokenAsync(longLived, Parameters());

        clock.Advance(TimeSpan.FromSeconds(25));
        await cache.ValidateTokenAsync(shortLived, Parameters()); // past its expiry: checked in full (and found expired by the real clock only later)
        await cache.ValidateTokenAsync(longLived, Parameters()); // within MaxAge: a hit
        Assert.That((cache.Misses, cache.Hits), Is.EqualTo((3L, 1L)));

        clock.Advance(ValidatedTokenCache.MaxAge);
        await cache.ValidateTokenAsync(longLived, Parameters()); // MaxAge after its validation: checked again
        Assert.That((cache.Misses, cache.Hits), Is.EqualTo((4L, 1L)));
    }

    [Test]
    public async Task A_full_cache_makes_room_and_keeps_answering()
    {
        var cache = new ValidatedTokenCache(new ManualClock(DateTimeOffset.UtcNow), capacity: 2);
        var tokens = Enumerable.Range(1, 3).Select(hours => Token(TimeSpan.FromHours(hours))).ToList(); // three distinct tokens
        foreach (var token in tokens)
        {
            Assert.That((await cache.ValidateTokenAsync(token, Parameters())).IsValid, Is.True);
        }

        Assert.That((await cache.ValidateTokenAsync(tokens[^1], Parameters())).IsValid, Is.True);
        Assert.That(cache.Hits, Is.EqualTo(1), "the newest token is kept");
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset now = now;

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}

/// <summary>The service's JwtBearer validates through the cache: the second call with a token is a hit, with the same claims.</summary>
public sealed class ValidatedTokenCacheWiringTests
{
    [Test]
    public async Task The_second_call_with_a_token_is_answered_from_the_cache_with_the_same_caller()
    {
        await using var app = await SecuredApp.StartAsync();
        var cache = app.App.Services.GetRequiredService<ValidatedTokenCache>();
        var token = await app.TokenAsync(DevClients.Admin);
        var hitsBefore = cache.Hits;

        using var first = await app.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
        using var second = await app.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);

        var hits = cache.Hits - hitsBefore;
        var (a, b) = (await SecuredApp.ReadProbeAsync(first), await SecuredApp.ReadProbeAsync(second));
        Assert.Multiple(() =>
        {
            Assert.That(hits, Is.EqualTo(1));
            Assert.That((b.ClientId, b.Name), Is.EqualTo((a.ClientId, a.Name)));
            Assert.That(b.Scopes, Is.EqualTo(a.Scopes));
            Assert.That(a.ClientId, Is.EqualTo(DevClients.Admin));
        });
    }
}
