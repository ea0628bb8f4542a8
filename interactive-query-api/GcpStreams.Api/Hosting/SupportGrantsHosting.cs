using GcpStreams.Api.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// The CVC support grants: the <see cref="SupportGrantValidator"/> over the ticketing system's keys
/// (<c>Gcp:SupportTickets:SigningKeysPem</c>), and in embedded and attached modes (<c>Kafka:Mode=Embedded</c>, <c>Attached</c>) the
/// <see cref="DevSupportGrantSigner"/>, whose key the validator trusts too. Cluster mode never creates the signer (its
/// endpoint is not mapped) and requires the keys (<see cref="GcpOptionsValidation"/>).
/// </summary>
public static class SupportGrantsHosting
{
    public static IServiceCollection AddGcpSupportGrants(this IServiceCollection services)
    {
        services.AddSingleton(sp => new DevSupportGrantSigner(sp.GetRequiredService<IOptions<GcpOptions>>().Value.SupportTickets));
        services.AddSingleton(sp =>
        {
            var tickets = sp.GetRequiredService<IOptions<GcpOptions>>().Value.SupportTickets;
            var keys = new List<SecurityKey>();
            if (!string.IsNullOrWhiteSpace(tickets.SigningKeysPem))
            {
                keys.AddRange(SupportGrantKeys.ParsePublic(tickets.SigningKeysPem));
            }

            if (HasDevSigner(sp))
            {
                keys.Add(sp.GetRequiredService<DevSupportGrantSigner>().PublicKey);
            }

            return new SupportGrantValidator(keys, tickets.EffectiveIssuer, tickets.Audience, TimeSpan.FromMinutes(tickets.MaxLifetimeMinutes));
        });
        return services;
    }

    /// <summary>Whether this service has the development signer: in embedded and attached modes (never with a real cluster).</summary>
    public static bool HasDevSigner(IServiceProvider services) =>
        services.GetRequiredService<IOptions<KafkaOptions>>().Value.Mode.IsDevelopment();
}
