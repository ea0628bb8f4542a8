using GcpStreams.Api.Security;
using Microsoft.Extensions.Configuration;

namespace GcpStreams.Api.Security.Tests;

/// <summary>The public development secrets are recognised wherever they are configured, and shown only while all are unchanged.</summary>
public sealed class DevelopmentSecretsTests
{
    [Test]
    public void The_defaults_may_be_shown()
    {
        Assert.That(new AuthOptions().ShowsDevelopmentSecrets, Is.True);
    }

    [Test]
    public void One_changed_secret_or_Authority_mode_hides_them_all()
    {
        var changed = new AuthOptions();
        changed.Clients[DevClients.Support].Secret = "a-secret-of-its-own";
        Assert.Multiple(() =>
        {
            Assert.That(changed.ShowsDevelopmentSecrets, Is.False);
            Assert.That(new AuthOptions { Mode = AuthMode.Authority, Authority = "https://login.example" }.ShowsDevelopmentSecrets, Is.False);
        });
    }

    [Test]
    public void A_secret_changed_through_configuration_hides_them()
    {
        var options = new AuthOptions();
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Clients:admin:Secret"] = "s3cret" }).Build().Bind(options);
        Assert.That(options.ShowsDevelopmentSecrets, Is.False);
    }

    [TestCase("admin-secret", true)]
    [TestCase("pos-terminal-secret", true)]
    [TestCase("Admin-Secret", false)]
    [TestCase("a-secret-of-its-own", false)]
    [TestCase(null, false)]
    public void Every_documented_secret_is_public(string? secret, bool isPublic) =>
        Assert.That(DevClients.IsPublicSecret(secret), Is.EqualTo(isPublic));
}
