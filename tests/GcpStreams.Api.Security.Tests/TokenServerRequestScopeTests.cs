using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Server.AspNetCore;

namespace GcpStreams.Api.Security.Tests;

/// <summary>The embedded token server handles its own endpoints' requests only; the bearer scheme is offered everywhere.</summary>
public sealed class TokenServerRequestScopeTests
{
    private SecuredApp app = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => app = await SecuredApp.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    [TestCase("/connect/token", true)]
    [TestCase("/.well-known/openid-configuration", true)]
    [TestCase("/.well-known/jwks", true)]
    [TestCase("/CONNECT/TOKEN", true)]
    [TestCase("/probe/gc.read", false)]
    [TestCase("/connect/token/extra", false)]
    [TestCase("/certificates/77", false)]
    public async Task The_token_server_handles_only_its_endpoints(string path, bool handled)
    {
        await using var scope = app.App.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Path = path;
        var handlers = scope.ServiceProvider.GetRequiredService<IAuthenticationHandlerProvider>();

        var server = await handlers.GetHandlerAsync(context, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var bearer = await handlers.GetHandlerAsync(context, JwtBearerDefaults.AuthenticationScheme);

        Assert.Multiple(() =>
        {
            Assert.That(handlers, Is.InstanceOf<TokenServerRequestScope>());
            Assert.That(server, handled ? Is.Not.Null : Is.Null);
            Assert.That(bearer, Is.Not.Null);
        });
    }
}
