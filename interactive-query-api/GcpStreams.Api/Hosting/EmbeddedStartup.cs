using GcpStreams.Api.ReadModel;
using GcpStreams.Api.Security;
using GcpStreams.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// Once the stream runs: in embedded and attached modes, loads the demo pools (as <c>LoadPool</c> commands through the command
/// channel, like an admin would) and waits until the read model shows every one with its levels (<see cref="WhenDemoPoolsVisible"/>,
/// part of readiness); then prints where to go next, so everything the banner promises already works. A pool the read model
/// already shows is not loaded again, and each load carries an idempotency key of its pool, so instances attached to one
/// standalone broker load every demo pool once between them, even when they start together.
/// </summary>
public sealed partial class EmbeddedStartup : BackgroundService
{
    /// <summary>Where the in-process schema registry is served in embedded mode.</summary>
    public const string SchemaRegistryPath = "/schema-registry";

    /// <summary>The caller of the demo pools' load commands.</summary>
    public const string DemoCaller = "gcp-streams-demo";

    private readonly TaskCompletionSource demoPoolsVisible = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamService stream;
    private readonly KafkaEnvironment environment;
    private readonly CommandClient commands;
    private readonly CertificateReadModel readModel;
    private readonly GcpOptions gcp;
    private readonly KafkaOptions kafka;
    private readonly AuthOptions auth;
    private readonly OperatorConsole.ConsoleOptions console;
    private readonly GcpStreams.Serialization.SchemaRegistryOptions registry;
    private readonly IServer server;
    private readonly IHostApplicationLifetime lifetime;
    private readonly ILogger<EmbeddedStartup> logger;

    public EmbeddedStartup(StreamService stream, KafkaEnvironment environment, CommandClient commands, CertificateReadModel readModel, IOptions<GcpOptions> gcp,
        IOptions<KafkaOptions> kafka, IOptions<AuthOptions> auth, IOptions<OperatorConsole.ConsoleOptions> console, IOptions<GcpStreams.Serialization.SchemaRegistryOptions> registry,
        IServer server, IHostApplicationLifetime lifetime, ILogger<EmbeddedStartup> logger)
    {
        this.stream = stream;
        this.environment = environment;
        this.commands = commands;
        this.readModel = readModel;
        this.gcp = gcp.Value;
        this.kafka = kafka.Value;
        this.auth = auth.Value;
        this.console = console.Value;
        this.registry = registry.Value;
        this.server = server;
        this.lifetime = lifetime;
        this.logger = logger;
        if (!environment.Mode.IsDevelopment() || this.gcp.DemoPools.Count == 0)
        {
            demoPoolsVisible.SetResult(); // nothing to load
        }
    }

    /// <summary>
    /// Completes once the read model shows every demo pool (<c>Gcp:DemoPools</c>, embedded and attached modes) with its loaded
    /// levels; at once when there are none (cluster mode, or no demo pools). Faults when a load was refused or got no reply.
    /// </summary>
    public Task WhenDemoPoolsVisible => demoPoolsVisible.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WhenStarted(lifetime, stoppingToken);
        await stream.WhenRunning.WaitAsync(stoppingToken);
        if (!demoPoolsVisible.Task.IsCompleted && !await LoadDemoPoolsAsync(stoppingToken))
        {
            return; // readiness says why
        }

        PrintBanner();
    }

    /// <summary>Loads every demo pool and waits until the read model shows each; false when one failed (logged, and readiness says why).</summary>
    private async Task<bool> LoadDemoPoolsAsync(CancellationToken stoppingToken)
    {
        await commands.WhenOpen.WaitAsync(stoppingToken);
        await readModel.WhenCaughtUp.WaitAsync(stoppingToken); // what the broker already has: a pool loaded before is not loaded again
        try
        {
            await Task.WhenAll(gcp.DemoPools.Select(pool => LoadAsync(pool, stoppingToken)));
            demoPoolsVisible.TrySetResult();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogDemoPoolsFailed(logger, e.Message);
            demoPoolsVisible.TrySetException(e);
            return false;
        }
    }

    private async Task LoadAsync(DemoPool pool, CancellationToken stoppingToken)
    {
        if (readModel.GetPool(pool.PoolId) is not null)
        {
            LogDemoPoolPresent(logger, pool.PoolId);
            return;
        }

        var load = new C.LoadPool
        {
            poolId = pool.PoolId,
            channel = Enum.Parse<C.Channel>(pool.Channel, ignoreCase: true),
            nominalMinor = pool.NominalMinor,
            currency = pool.Currency,
            count = pool.Count,
            lowWatermark = pool.LowWatermark,
            series = pool.Series,
            importedNumbers = [],
        };
        // one key per pool and terms: another instance attached to the same broker that loads it at the same time gets this load's
        // outcome; a second, different load of one pool id is refused by the pool itself
        var reply = await SendWithRetriesAsync(pool, load, stoppingToken);
        if (reply.outcome != C.ReplyOutcome.ACCEPTED)
        {
            throw new InvalidOperationException($"demo pool {pool.PoolId} was refused: {reply.reason} {reply.message}");
        }

        // the event, applied by the read model: GET /pools shows the pool with its levels from now on
        if (!await readModel.WaitForEventAsync(reply.eventId, Timeout.InfiniteTimeSpan, cancellationToken: stoppingToken))
        {
            throw new OperationCanceledException("the read model stopped");
        }

        LogDemoPool(logger, pool.PoolId, pool.Count, pool.NominalMinor, pool.Currency, pool.Channel);
    }

    /// <summary>
    /// Sends a demo load, again when no reply came in time (a stream still rebalancing when the instance started, seen with
    /// several instances attached at once): the load carries one Idempotency-Key per pool and terms, so a resend gets the first
    /// one's outcome and never loads twice.
    /// </summary>
    private async Task<C.CommandReply> SendWithRetriesAsync(DemoPool pool, C.LoadPool load, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await commands.SendAsync(pool.PoolId, load, DemoCaller, $"demo-load-{pool.PoolId}", DemoLoadKey(pool), commands.ReplyTimeout, stoppingToken);
            }
            catch (TimeoutException) when (attempt < DemoLoadAttempts)
            {
                LogDemoPoolRetry(logger, pool.PoolId, attempt, commands.ReplyTimeout.TotalSeconds);
            }
        }
    }

    private const int DemoLoadAttempts = 6;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo pool {Pool}: no reply to its load within {Seconds} s (attempt {Attempt}); sending it again under the same Idempotency-Key")]
    private static partial void LogDemoPoolRetry(ILogger logger, string pool, int attempt, double seconds);

    private void PrintBanner()
    {
        var urls = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        var api = urls.FirstOrDefault() ?? "(no HTTP address)";
        var rows = new List<(string Label, string Value)>
        {
            ("API", api),
            ("Health", $"{api}/health/ready"),
            ("Metrics (Prometheus)", $"{api}{Observability.Telemetry.MetricsPath}"),
        };
        if (console.Enabled)
        {
            rows.Add(("Console (support, POS)", $"{api}{OperatorConsole.ConsoleHosting.Path}/"));
        }

        if (gcp.ServesOpenApi(kafka.Mode))
        {
            rows.Add(("Swagger UI", $"{api}{Endpoints.OpenApiSetup.SwaggerUiPath}"));
        }

        rows.Add(("Kafka bootstrap servers", environment.BootstrapServers));
        var notes = new List<string>();
        if (environment.Mode.IsDevelopment())
        {
            var schemaRegistry = environment.IsEmbedded ? $"{api}{SchemaRegistryPath}" : registry.Url ?? string.Empty;
            rows.Add(("Schema registry", schemaRegistry));
            rows.Add(("Tail the event stream", $"kcat -b {environment.BootstrapServers} -C -t {Topics.Stream} -f '%k %h\\n'"));
            rows.Add(("Drive traffic", $"make demo KAFKA={environment.BootstrapServers} SCHEMA_REGISTRY={schemaRegistry} API={api}"));
            rows.Add(("CRM notifier (e-mails)", $"make notifier KAFKA={environment.BootstrapServers} SCHEMA_REGISTRY={schemaRegistry} API={api}"));
            rows.Add(("Check the ledger", $"make ledger-check KAFKA={environment.BootstrapServers} SCHEMA_REGISTRY={schemaRegistry}"));
            notes.Add(environment.IsEmbedded
                ? "The embedded broker keeps nothing after exit. Ctrl+C stops."
                : "Attached to the standalone broker (make broker): it keeps the topics while it runs. Ctrl+C stops this instance only.");
        }

        // only while the documented dev clients are unchanged: a configured secret is never printed
        if (auth.ShowsDevelopmentSecrets)
        {
            rows.Add(("Dev token (docs/api.md)",
                $"curl -s {api}{GcpAuthenticationExtensions.TokenPath} -d grant_type=client_credentials -d client_id=pos-terminal -d client_secret=pos-terminal-secret"));
            if (environment.Mode.IsDevelopment())
            {
                // a support CVC disclosure needs a ticketing system's grant: the development signer mints one
                rows.Add(("Dev CVC support grant", $"POST {api}{Endpoints.DevSupportTicketsApi.Path} with a support token (docs/api.md, CVC disclosures)"));
            }
        }

        Console.Out.WriteLine(Banner($"GcpStreams is running ({kafka.Mode} mode, application id {kafka.ApplicationId}).", rows, notes));
        Console.Out.Flush();
    }

    /// <summary>
    /// The banner: the title, then one line per row with every value starting in one column (after the longest label),
    /// then the notes; a blank line before and after.
    /// </summary>
    internal static string Banner(string title, IReadOnlyList<(string Label, string Value)> rows, IEnumerable<string> notes)
    {
        var width = rows.Max(r => r.Label.Length) + 1; // the label and its colon
        IEnumerable<string> lines =
        [
            string.Empty,
            title,
            .. rows.Select(r => $"  {(r.Label + ":").PadRight(width)} {r.Value}"),
            .. notes.Select(n => "  " + n),
            string.Empty,
        ];
        return string.Join(Environment.NewLine, lines);
    }

    private static Task WhenStarted(IHostApplicationLifetime lifetime, CancellationToken token)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        token.Register(() => started.TrySetCanceled(token));
        return started.Task;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo pool {Pool}: {Count} x {Nominal} {Currency} for {Channel}")]
    private static partial void LogDemoPool(ILogger logger, string pool, int count, long nominal, string currency, string channel);

    /// <summary>The idempotency key of a demo pool's load: the same on every instance with the same settings, so the pool is loaded once.</summary>
    internal static string DemoLoadKey(DemoPool pool) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"demo-load:{pool.PoolId}:{pool.Channel.ToUpperInvariant()}:{pool.NominalMinor}:{pool.Currency}:{pool.Count}:{pool.LowWatermark}:{pool.Series}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo pool {Pool} is already loaded (the broker has it)")]
    private static partial void LogDemoPoolPresent(ILogger logger, string pool);

    [LoggerMessage(Level = LogLevel.Error, Message = "The demo pools could not be loaded ({Error}); the service stays not ready")]
    private static partial void LogDemoPoolsFailed(ILogger logger, string error);
}
