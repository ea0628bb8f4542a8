using GcpStreams.CrmNotifier;
using Microsoft.Extensions.Hosting;

// gcp-crm-notifier: settings under "Notifier" (crm-notifier.json, Notifier__… environment variables, --Notifier:…=… arguments).
// `make notifier` starts it against `make run` with smtp4dev as the SMTP server; README has the settings.
try
{
    using var host = NotifierApp.Build(args);
    await host.RunAsync();
    return 0;
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
