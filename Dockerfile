# GcpStreams service image (charts/gcp-streams runs it): multi-stage, runs as a non-root user, works on a read-only root
# filesystem (the state dir and /tmp are volumes the chart mounts).
#   docker build -t registry.example.com/retail/gcp-streams:0.1.0 .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# restore first, from the project files only, so the layer is reused while only sources change
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY topology/GcpStreams.Domain/GcpStreams.Domain.csproj topology/GcpStreams.Domain/
COPY topology/GcpStreams.Contracts/GcpStreams.Contracts.csproj topology/GcpStreams.Contracts/
COPY topology/GcpStreams.Serialization/GcpStreams.Serialization.csproj topology/GcpStreams.Serialization/
COPY topology/GcpStreams.Client/GcpStreams.Client.csproj topology/GcpStreams.Client/
COPY topology/GcpStreams.Topology/GcpStreams.Topology.csproj topology/GcpStreams.Topology/
COPY dev-infrastructure/GcpStreams.Embedded/GcpStreams.Embedded.csproj dev-infrastructure/GcpStreams.Embedded/
COPY dev-infrastructure/GcpStreams.SchemaRegistry/GcpStreams.SchemaRegistry.csproj dev-infrastructure/GcpStreams.SchemaRegistry/
COPY interactive-query-api/GcpStreams.Api.Security/GcpStreams.Api.Security.csproj interactive-query-api/GcpStreams.Api.Security/
COPY interactive-query-api/GcpStreams.Api.ReadModel/GcpStreams.Api.ReadModel.csproj interactive-query-api/GcpStreams.Api.ReadModel/
COPY interactive-query-api/GcpStreams.Api/GcpStreams.Api.csproj interactive-query-api/GcpStreams.Api/
RUN dotnet restore interactive-query-api/GcpStreams.Api/GcpStreams.Api.csproj -r linux-x64
COPY avro/ avro/
COPY topology/ topology/
COPY dev-infrastructure/ dev-infrastructure/
COPY interactive-query-api/ interactive-query-api/
RUN dotnet publish interactive-query-api/GcpStreams.Api/GcpStreams.Api.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# librdkafka's default build needs libsasl2 (SASL/SCRAM to the cluster); its fallback build is used without it
RUN apt-get update && apt-get install -y --no-install-recommends libsasl2-2 libsasl2-modules && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# the image's non-root user (uid 1654); the chart mounts the state dir and /tmp, everything else stays read-only
RUN mkdir -p /var/lib/gcp-streams && chown 1654:1654 /var/lib/gcp-streams
USER 1654:1654
ENV ASPNETCORE_URLS=http://+:8080 \
    Kafka__StateDir=/var/lib/gcp-streams/state
EXPOSE 8080
VOLUME ["/var/lib/gcp-streams", "/tmp"]
ENTRYPOINT ["dotnet", "GcpStreams.dll"]
