using GcpStreams.Api;
using GcpStreams.Api.Hosting;

var arenas = NativeHeap.LimitArenas(); // first: glibc fixes the limit once the service's threads have their arenas
var app = GcpStreamsApp.Build(args);
app.Logger.LogInformation("{MallocArenas}", arenas);
app.Run();
