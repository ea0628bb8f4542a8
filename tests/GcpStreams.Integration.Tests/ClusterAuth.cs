using System.Security.Cryptography;
using GcpStreams.Api.Security;

namespace GcpStreams.Integration.Tests;

/// <summary>
/// What the development token endpoint needs to serve a test cluster (<c>Kafka:Mode=Cluster</c> with
/// <c>Auth:AllowEmbeddedInCluster=true</c>): a secret of its own for every dev client, a signing key and a pinned issuer; and
/// what cluster mode needs for CVC support grants: the ticketing system's public key and issuer.
/// </summary>
internal static class ClusterAuth
{
    /// <summary>The pinned issuer of test clusters.</summary>
    public const string Issuer = "https://gcp-streams.test/";

    /// <summary>The issuer of the test clusters' ticketing system (CVC support grants).</summary>
    public const string TicketingIssuer = "https://tickets.gcp-streams.test/";

    /// <summary>The test clusters' ticketing system's key (P-256): its public half is <c>Gcp:SupportTickets:SigningKeysPem</c>.</summary>
    public static ECDsa TicketingKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The settings: <c>Auth:AllowEmbeddedInCluster</c>, every client's secret, the signing key and the issuer; the ticketing key and issuer.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = Build();

    /// <summary>A dev client's secret on test clusters (never its public one).</summary>
    public static string Secret(string clientId) => $"{clientId}-cluster-test-secret-{Environment.ProcessId}";

    private static Dictionary<string, string?> Build()
    {
        using var key = RSA.Create(2048);
        var settings = new Dictionary<string, string?>
        {
            ["Auth:AllowEmbeddedInCluster"] = "true",
            ["Auth:SigningKeyPem"] = key.ExportPkcs8PrivateKeyPem(),
            ["Auth:Issuer"] = Issuer,
            ["Gcp:SupportTickets:SigningKeysPem"] = TicketingKey.ExportSubjectPublicKeyInfoPem(),
            ["Gcp:SupportTickets:Issuer"] = TicketingIssuer,
            ["Gcp:CommandSigningKey"] = ServiceInstance.CommandSigningKey, // required in cluster mode, the same on every instance
        };
        foreach (var client in DevClients.Defaults().Keys)
        {
            settings[$"Auth:Clients:{client}:Secret"] = Secret(client);
        }

        return settings;
    }
}
