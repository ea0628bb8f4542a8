using Confluent.SchemaRegistry;
using GcpStreams.Client;
using Microsoft.Extensions.Options;
using C = GcpStreams.Contracts;

namespace GcpStreams.Api.Hosting;

/// <summary>
/// The API's request/reply client over the topics, one per service instance: a <see cref="CommandChannel"/> with the
/// reply address <c>api-{machine}-{guid8}</c>, opened by <see cref="CommandClientStartup"/> once the stream is RUNNING
/// (the topics exist then, in both modes) and disposed at stop.
/// </summary>
public sealed partial class CommandClient : IAsyncDisposable
{
    private readonly TaskCompletionSource<CommandChannel> opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly KafkaEnvironment environment;
    private readonly KafkaOptions kafka;
    private readonly CommandSigning signing;
    private readonly ILogger<CommandClient> logger;

    /// <summary>How long a write waits for its reply before answering 504 (<c>Gcp:CommandTimeoutSeconds</c>).</summary>
    public TimeSpan ReplyTimeout { get; }

    public CommandClient(KafkaEnvironment environment, IOptions<KafkaOptions> kafka, IOptions<GcpOptions> gcp, ISchemaRegistryClient registry, CommandSigning signing,
        ILogger<CommandClient> logger)
    {
        ArgumentNullException.ThrowIfNull(gcp);
        ReplyTimeout = TimeSpan.FromSeconds(gcp.Value.CommandTimeoutSeconds);
        this.environment = environment;
        this.kafka = kafka.Value;
        Codec = new Codec(registry);
        this.signing = signing;
        this.logger = logger;
        InstanceId = $"api-{MachineName()}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>The channel's codec (Avro through the service's schema registry), for records produced through it.</summary>
    public Codec Codec { get; }

    /// <summary>This instance's reply address (the <c>replyTo</c> of its commands).</summary>
    public string InstanceId { get; }

    /// <summary>True once the channel is open and commands can be sent.</summary>
    public bool IsOpen => opened.Task.IsCompletedSuccessfully;

    /// <summary>Completes when the channel is open (cancelled if the service stops first).</summary>
    public Task WhenOpen => opened.Task;

    /// <summary>Replies addressed to this instance and dropped: not signed by the topology, or about another certificate or pool (each logged as a warning).</summary>
    public long DroppedReplies => opened.Task.IsCompletedSuccessfully ? opened.Task.Result.DroppedReplies : 0;

    /// <summary>Signed replies that came after their command stopped waiting (each logged as a warning).</summary>
    public long LateReplies => opened.Task.IsCompletedSuccessfully ? opened.Task.Result.LateReplies : 0;

    /// <summary>Opens the channel (its reply consumer starts at the current end of every partition of the replies).</summary>
    public void Open()
    {
        if (opened.Task.IsCompleted)
        {
            return;
        }

        var channel = new CommandChannel(environment.BootstrapServers, Codec, InstanceId, signing.Signer, ReadModelHosting.ConsumerSettings(kafka).ToList(),
            kafka.FetchWaitMaxMs, error => LogConsumeError(logger, error), warning => LogReplyDropped(logger, warning));
        opened.SetResult(channel);
        LogOpened(logger, InstanceId);
    }

    /// <summary>
    /// Sends a command as <paramref name="caller"/> and waits for its reply.
    /// </summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/>.</exception>
    /// <exception cref="CommandClientNotOpenException">The channel is not open yet (the stream is not RUNNING yet).</exception>
    public Task<C.CommandReply> SendAsync(string key, object payload, string caller, string? correlationId, string? idempotencyKey, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        opened.Task.IsCompletedSuccessfully
            ? opened.Task.Result.SendAsync(key, payload, caller, correlationId, idempotencyKey, timeout, cancellationToken)
            : throw new CommandClientNotOpenException();

    /// <summary>Produces a record already encoded (e.g. an alert with its headers) through the channel's producer; waits until the channel is open.</summary>
    public async Task ProduceAsync(Outgoing record, CancellationToken cancellationToken)
    {
        var channel = await opened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await channel.ProduceAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Queues a record already encoded through the channel's producer without waiting (see <see cref="CommandChannel.Produce"/>).
    /// </summary>
    /// <exception cref="CommandClientNotOpenException">The channel is not open yet.</exception>
    public void Produce(Outgoing record, Action<Confluent.Kafka.Error?> onDelivered)
    {
        if (!opened.Task.IsCompletedSuccessfully)
        {
            throw new CommandClientNotOpenException();
        }

        opened.Task.Result.Produce(record, onDelivered);
    }

    public async ValueTask DisposeAsync()
    {
        if (opened.Task.IsCompletedSuccessfully)
        {
            await opened.Task.Result.DisposeAsync();
        }
        else
        {
            opened.TrySetCanceled();
        }
    }

    private static string MachineName()
    {
        var name = new string([.. Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-')]);
        return name.Length == 0 ? "host" : name;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Command channel open, replies to {InstanceId}")]
    private static partial void LogOpened(ILogger logger, string instanceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command replies: {Error}")]
    private static partial void LogConsumeError(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command replies: {Warning}")]
    private static partial void LogReplyDropped(ILogger logger, string warning);
}

/// <summary>The command channel is not open yet: the stream is not RUNNING yet.</summary>
public sealed class CommandClientNotOpenException() : InvalidOperationException("The command channel is not open yet (the stream is not running yet).");

/// <summary>Opens the <see cref="CommandClient"/> once the stream is RUNNING, and closes it at stop.</summary>
public sealed partial class CommandClientStartup(StreamService stream, CommandClient client, ILogger<CommandClientStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stream.WhenRunning.WaitAsync(stoppingToken);
        try
        {
            await Task.Run(client.Open, stoppingToken); // metadata and watermark queries block
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogOpenFailed(logger, e);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await client.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The command channel could not be opened; write endpoints answer 503")]
    private static partial void LogOpenFailed(ILogger logger, Exception exception);
}

public static class CommandClientHosting
{
    public static IServiceCollection AddGcpCommandClient(this IServiceCollection services)
    {
        services.AddSingleton<CommandClient>();
        services.AddHostedService<CommandClientStartup>();
        return services;
    }
}
