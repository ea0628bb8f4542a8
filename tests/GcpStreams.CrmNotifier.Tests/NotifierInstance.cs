using GcpStreams.Integration.Tests;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GcpStreams.CrmNotifier.Tests;

/// <summary>One CRM notifier hosted in-process as <c>make notifier</c> builds it (<see cref="NotifierApp.Build"/>), its log captured.</summary>
internal sealed class NotifierInstance : IAsyncDisposable
{
    private readonly IHost host;
    private bool stopped;

    private NotifierInstance(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;

    public static async Task<NotifierInstance> StartAsync(IReadOnlyDictionary<string, string?> settings, CapturedLogs logs)
    {
        var host = NotifierApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        });
        await host.StartAsync();
        await host.Services.GetRequiredService<NotificationWorker>().Started.WaitAsync(TimeSpan.FromSeconds(90));
        return new NotifierInstance(host);
    }

    /// <summary>Stops as on SIGTERM: work in flight is cancelled (a send on its way ends first), finished offsets committed.</summary>
    public async Task StopAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        host.Dispose();
    }
}
