using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using GcpStreams.Client;
using GcpStreams.Topology.Mapping;
using Microsoft.Extensions.Options;
using Streamiz.Kafka.Net;

namespace GcpStreams.Api.Hosting;

/// <summary>A record the stream could not write: its topic and partition, the error, and when (this instance's clock).</summary>
public sealed record ProductionFailure(string Topic, int Partition, string Error, string Reason, DateTimeOffset At);

/// <summary>
/// The stream's production exception handler (issue 10, M2): a record the stream cannot write to an output or changelog topic
/// (larger than the producer or the broker accepts, a topic gone, ...) must not be committed past, so the task fails (Streamiz
/// then ends its stream thread; with every thread gone the stream is ERROR). Nothing would otherwise tell anyone why every
/// command of one certificate or pool times out, so this also
/// <list type="bullet">
/// <item>logs an error naming the topic, the partition and the error;</item>
/// <item>makes the instance not ready (<see cref="First"/>, read by <c>/health/ready</c>, which answers 503 naming the topic and
///   the error) until it is restarted, even while other stream threads keep the stream RUNNING;</item>
/// <item>writes an <c>alert</c> <c>PRODUCE_FAILED</c> (critical) on <c>GiftCertificates.Stream</c> through the command channel's own
///   producer, once per topic and error, if that can be written, and its fact for the BI marts (counted among the day's alerts by
///   kind, <see cref="Topology.Reporting.ReportingTopology.ProductionFailureFact"/>).</item>
/// </list>
/// </summary>
public sealed partial class ProductionFailures(CommandClient commands, ISchemaRegistryClient registry, IOptions<KafkaOptions> kafka, ILogger<ProductionFailures> logger)
{
    private readonly ConcurrentDictionary<(string Topic, ErrorCode Error), byte> alerted = new();
    private readonly Codec codec = new(registry);
    private ProductionFailure? first;
    private long count;

    /// <summary>The first record this instance could not write, or null: the instance is not ready while it is set.</summary>
    public ProductionFailure? First => Volatile.Read(ref first);

    /// <summary>How many records this instance could not write.</summary>
    public long Count => Interlocked.Read(ref count);

    /// <summary>The alerts written so far (tests, diagnostics).</summary>
    internal Task LastAlert { get; private set; } = Task.CompletedTask;

    /// <summary>For <see cref="StreamConfig.ProductionExceptionHandler"/>: runs on a stream thread, never blocks it.</summary>
    public ProductionExceptionHandlerResponse Handle(DeliveryReport<byte[], byte[]> report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var failure = new ProductionFailure(report.Topic, report.Partition.Value, report.Error.Code.ToString(), report.Error.Reason, DateTimeOffset.UtcNow);
        Interlocked.CompareExchange(ref first, failure, null);
        Interlocked.Increment(ref count);
        LogFailure(logger, failure.Topic, failure.Partition, failure.Error, failure.Reason, report.Message?.Key?.Length ?? 0, report.Message?.Value?.Length ?? 0);
        if (alerted.TryAdd((report.Topic, report.Error.Code), 0))
        {
            var key = report.Message?.Key;
            var size = report.Message?.Value?.Length ?? 0;
            LastAlert = Task.Run(() => AlertAsync(failure, key, size)); // off the stream thread
        }

        return ProductionExceptionHandlerResponse.FAIL; // a lost output must not be committed past: the task fails
    }

    private async Task AlertAsync(ProductionFailure failure, byte[]? recordKey, int valueBytes)
    {
        try
        {
            var at = failure.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            var details = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["topic"] = failure.Topic,
                ["partition"] = failure.Partition.ToString(CultureInfo.InvariantCulture),
                ["error"] = failure.Error,
                ["reason"] = failure.Reason,
                ["instance"] = commands.InstanceId,
                ["valueBytes"] = valueBytes.ToString(CultureInfo.InvariantCulture),
            };
            if (recordKey is { Length: > 0 })
            {
                details["recordKey"] = KeyText(recordKey);
            }

            var alert = StreamEvents.Alert(Domain.AlertKind.ProduceFailed, Domain.AlertSeverity.Critical,
                $"instance {commands.InstanceId} could not write a record to {failure.Topic}: {failure.Reason} ({failure.Error}); it is not ready until restarted", details);
            var subject = new EventSubject(failure.Topic, null, null, Domain.Channel.Unknown, null, 0);
            var envelope = StreamEvents.Envelope(subject, Domain.EventTypes.Alert, $"produce-failed:{commands.InstanceId}:{failure.Topic}:{failure.Error}:{at}", failure.At, null, 0, alert);
            using var timeout = new CancellationTokenSource(commands.ReplyTimeout);
            await commands.ProduceAsync(codec.Event(envelope, failure.Topic), timeout.Token).ConfigureAwait(false);
            await commands.ProduceAsync(Topology.Reporting.ReportingTopology.ProductionFailureFact(kafka.Value.ApplicationId, failure.At), timeout.Token).ConfigureAwait(false);
            LogAlerted(logger, failure.Topic);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogAlertFailed(logger, failure.Topic, e.Message);
        }
    }

    /// <summary>A record key as text when it is printable UTF-8 (certificate, pool and store keys are), else base64.</summary>
    private static string KeyText(byte[] key)
    {
        var text = Encoding.UTF8.GetString(key);
        return text.All(c => c is >= ' ' and <= '~') ? text : Convert.ToBase64String(key);
    }

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Could not produce to {Topic} (partition {Partition}): {Error} {Reason} (key {KeyBytes} bytes, value {ValueBytes} bytes); the task fails, nothing after this record is committed, and the instance is not ready until it is restarted")]
    private static partial void LogFailure(ILogger logger, string topic, int partition, string error, string reason, int keyBytes, int valueBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert PRODUCE_FAILED for {Topic} written to GiftCertificates.Stream")]
    private static partial void LogAlerted(ILogger logger, string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "The alert PRODUCE_FAILED for {Topic} could not be written to GiftCertificates.Stream either: {Error}")]
    private static partial void LogAlertFailed(ILogger logger, string topic, string error);
}
