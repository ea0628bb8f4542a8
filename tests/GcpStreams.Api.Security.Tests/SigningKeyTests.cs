using System.Net;
using System.Security.Cryptography;
using GcpStreams.Api.Security;

namespace GcpStreams.Api.Security.Tests;

/// <summary>Hosts of one process that share a configured signing key do not share its crypto: one stopping leaves the others working.</summary>
public sealed class SigningKeyTests
{
    [Test]
    public async Task A_host_keeps_signing_and_validating_after_another_with_the_same_key_stopped()
    {
        using var rsa = RSA.Create(2048);
        var settings = new Dictionary<string, string?> { ["Auth:SigningKeyPem"] = rsa.ExportPkcs8PrivateKeyPem(), ["Auth:Issuer"] = "https://gcp-streams.example/" };
        await using var survivor = await SecuredApp.StartAsync(settings);
        await using (var first = await SecuredApp.StartAsync(settings))
        {
            await first.TokenAsync(DevClients.Admin); // signs with, and caches a provider over, its own RSA instance
        }

        var token = await survivor.TokenAsync(DevClients.Admin);
        using var response = await survivor.GetAsync(SecuredApp.ProbePath(GcpScopes.Read), token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
