using Confluent.SchemaRegistry;
using GcpStreams.SchemaRegistry;
using GcpStreams.Serialization;
using GcpStreams.Topology;
using Microsoft.Extensions.Options;

namespace GcpStreams.Api.Hosting;

public static class ServiceRegistration
{
    /// <summary>Options (validated at start, naming the bad setting), Kafka, the schema registry, the topology and the startup tasks.</summary>
    public static IServiceCollection AddGcpStreams(this IServiceCollection services)
    {
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateOnStart()
            .PostConfigure(kafka =>
            {
                // attached instances come and go on one development broker: a member that went away is noticed in seconds (as in
                // embedded mode), not after the default 45 s during which its partitions decide nothing
                if (kafka.Mode == KafkaMode.Attached)
                {
                    kafka.Settings.TryAdd("session.timeout.ms", "6000");
                    kafka.Settings.TryAdd("heartbeat.interval.ms", "500");
                }
            });
        services.AddOptions<GcpOptions>().BindConfiguration(GcpOptions.Section).ValidateOnStart()
            .PostConfigure<IOptions<KafkaOptions>>((gcp, kafka) =>
            {
                // attached instances share one broker: they must sign alike to accept each other's commands, records and replies
                if (kafka.Value.Mode == KafkaMode.Attached && string.IsNullOrEmpty(gcp.CommandSigningKey))
                {
                    gcp.CommandSigningKey = GcpOptions.DevelopmentCommandSigningKey;
                }
            });
        services.AddOptions<SchemaRegistryOptions>().BindConfiguration(SchemaRegistryOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SchemaRegistryOptions>, SchemaRegistryModeValidation>();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidation>();
        services.AddSingleton<IValidateOptions<GcpOptions>, GcpOptionsValidation>();
        services.AddSingleton<IValidateOptions<GcpStreams.Api.Security.AuthOptions>, AuthModeValidation>();

        services.AddSingleton<KafkaEnvironment>();
        services.AddSingleton<InProcessSchemaRegistry>();
        services.AddSingleton<ISchemaRegistryClient>(sp =>
        {
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var registry = sp.GetRequiredService<IOptions<SchemaRegistryOptions>>().Value;
            // the in-process registry only in embedded mode; cluster and attached modes name their registry (SchemaRegistryModeValidation)
            return kafka.Mode == KafkaMode.Embedded
                ? sp.GetRequiredService<InProcessSchemaRegistry>()
                : SchemaRegistryClients.Create(registry);
        });
        services.AddSingleton<CommandSigning>(); // one key for the command channel and the topology of this process
        services.AddSingleton(sp =>
        {
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            var gcp = sp.GetRequiredService<IOptions<GcpOptions>>().Value;
            var signing = sp.GetRequiredService<CommandSigning>();
            return new TopologySettings
            {
                ApplicationId = kafka.ApplicationId,
                NumberingKey = Convert.FromBase64String(gcp.NumberingKey),
                CommandSigningKey = signing.Key,
                AcceptedCommandSigningKeys = signing.AcceptedKeys,
                CommandMaxAge = signing.MaxAge,
                CvcKeyVersion = gcp.CvcKeyVersion,
                DefaultReservationHold = TimeSpan.FromSeconds(gcp.ReservationHoldSeconds),
                ReservationSweepInterval = TimeSpan.FromSeconds(gcp.ReservationSweepSeconds),
                IdempotencyKeyRetention = TimeSpan.FromHours(gcp.IdempotencyKeyHours),
                HoldExpiry = TimeSpan.FromHours(gcp.HoldExpiryHours),
                SupportDisclosuresPerDay = gcp.SupportCvcDisclosuresPerDay,
                MaxReservationHold = TimeSpan.FromSeconds(gcp.MaxReservationHoldSeconds),
                MaxOpenReservationsPerClient = gcp.MaxOpenReservationsPerClient,
                SupportDisclosuresPerClientPerDay = gcp.SupportCvcDisclosuresPerClientPerDay,
                NotificationOverdueAfter = TimeSpan.FromSeconds(gcp.NotificationOverdueSeconds),
                NotificationSweepInterval = TimeSpan.FromSeconds(gcp.NotificationSweepSeconds),
                ReportTimeZone = gcp.ReportTimeZone,
                ReportGrace = TimeSpan.FromMinutes(gcp.ReportGraceMinutes),
                ReconciliationTolerance = TimeSpan.FromMinutes(gcp.ReconciliationToleranceMinutes),
                ReportPublishInterval = TimeSpan.FromMilliseconds(gcp.ReportPublishIntervalMs),
            };
        });
        services.AddSingleton<ProductionFailures>(); // the stream's production exception handler; readiness reads it
        services.AddSingleton<StreamSupervisor>(); // the stream's progress: restarts a stuck stream; /health/live fails when it gives up
        services.AddSingleton<StreamService>();
        services.AddSingleton<GcpStreams.Api.Endpoints.CursorProtector>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamService>());
        services.AddSingleton<EmbeddedStartup>(); // readiness asks it whether the demo pools are visible
        services.AddReadinessChecks();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedStartup>());
        return services;
    }
}
