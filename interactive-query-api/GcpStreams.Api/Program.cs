using GcpStreams.Api;

GcpStreamsApp.Build(args).Run();
