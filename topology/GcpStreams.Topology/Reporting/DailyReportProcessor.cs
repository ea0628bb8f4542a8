using System.Globalization;
using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Domain.Reporting;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Mapping;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Reporting;

/// <summary>
/// The owner of the daily marts of the channels of its partition (the facts topic is keyed by channel): it applies each fact to
/// the mart of (business day, channel) with the pure <see cref="DailyMarts"/>, keeps each channel's liability chain across days,
/// publishes every changed mart on <c>GiftCertificates.DailyReport</c>, and raises <c>RECONCILIATION_MISMATCH</c> on the stream when a
/// (day, channel) disagreement has lasted the tolerance window in stream time (the highest record time this task has seen), so a
/// replay of the same facts in the same order decides the same alerts with the same content.
/// Store layout: <c>m/{channel}/{day}</c> marts, <c>seen/{dedupKey}</c> records seen (duplicates), <c>due/{ms}/{channel}/{day}</c>
/// the alert deadlines, <c>time</c> the stream time.
/// </summary>
public sealed class DailyReportProcessor : ITransformer<string, ReportFact, byte[], Outgoing>
{
    public const string MartPrefix = "m/";
    private const string SeenPrefix = "seen/";
    private const string DuePrefix = "due/";
    private const string TimeKey = "time";
    private static readonly byte[] Marker = [1];

    private readonly Codec codec;
    private readonly ReportSettings settings;
    private readonly string timeZone;
    private ProcessorContext<byte[], Outgoing> context = null!;
    private IKeyValueStore<string, byte[]> store = null!;
    private long streamTimeMs = long.MinValue;

    /// <summary>Streamiz's prototype instance (never processes).</summary>
    public DailyReportProcessor()
        : this(null!, null!)
    {
    }

    public DailyReportProcessor(Codec codec, TopologySettings settings)
    {
        this.codec = codec;
        this.settings = settings?.Reporting()!;
        timeZone = settings?.ReportTimeZone!;
    }

    public void Init(ProcessorContext<byte[], Outgoing> context)
    {
        this.context = context;
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.DailyReports);
        if (store.Get(TimeKey) is { } time)
        {
            streamTimeMs = long.Parse(System.Text.Encoding.ASCII.GetString(time), CultureInfo.InvariantCulture);
        }
    }

    public Record<byte[], Outgoing>? Process(Record<string, ReportFact> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var fact = record.Value;
        if (fact is null)
        {
            return null;
        }

        try
        {
            Apply(fact);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Streamiz.Kafka.Net.Crosscutting.Logger.GetLogger(typeof(DailyReportProcessor)).LogError(e, "Could not apply a report fact of channel {Channel}", fact.Channel);
        }

        return null;
    }

    public void Close()
    {
    }

    private void Apply(ReportFact fact)
    {
        var day = DailyMarts.DayOf(fact, settings);
        var key = MartKey(fact.Channel, day);
        var duplicate = false;
        if (fact.DedupKey is { } dedup)
        {
            duplicate = store.Get(SeenPrefix + dedup) is not null;
            if (!duplicate)
            {
                store.Put(SeenPrefix + dedup, Marker);
            }
        }

        var before = Load(key);
        var after = DailyMarts.Apply(before, fact, duplicate, settings);
        if (after.MismatchSince is { } since && before?.MismatchSince != since)
        {
            store.Put(TimeIndex.Key(DuePrefix, since + settings.Tolerance, $"{fact.Channel}/{BusinessDay.Format(day)}"), Marker);
        }

        SaveAndPublish(after);
        Advance(fact.RecordedAt.ToUnixTimeMilliseconds());
    }

    /// <summary>Stores the mart, re-chains the liability of its day and every later day of its channel, publishes what changed.</summary>
    private void SaveAndPublish(DailyMart mart)
    {
        var key = MartKey(mart.Channel, mart.Day);
        var channelPrefix = $"{MartPrefix}{mart.Channel}/";
        long previous = 0;
        using (var earlier = store.ReverseRange(channelPrefix, key))
        {
            while (earlier.MoveNext())
            {
                if (earlier.Current!.Value.Key != key)
                {
                    previous = ReportJson.Deserialize<DailyMart>(earlier.Current.Value.Value).LiabilityMinor;
                    break;
                }
            }
        }

        List<DailyMart> days = [mart];
        using (var later = store.Range(key, channelPrefix + "~"))
        {
            while (later.MoveNext())
            {
                if (later.Current!.Value.Key != key)
                {
                    days.Add(ReportJson.Deserialize<DailyMart>(later.Current.Value.Value));
                }
            }
        }

        var changed = DailyMarts.Chain(previous, days).ToDictionary(m => m.Day);
        var self = changed.GetValueOrDefault(mart.Day) ?? mart;
        Save(self);
        Publish(self);
        foreach (var other in days.Skip(1).Where(d => changed.ContainsKey(d.Day)).Select(d => changed[d.Day]))
        {
            Save(other);
            Publish(other);
        }
    }

    /// <summary>Moves the stream time forward and raises the reconciliation alerts due by it.</summary>
    private void Advance(long recordTimeMs)
    {
        if (recordTimeMs <= streamTimeMs)
        {
            return;
        }

        streamTimeMs = recordTimeMs;
        store.Put(TimeKey, System.Text.Encoding.ASCII.GetBytes(streamTimeMs.ToString(CultureInfo.InvariantCulture)));
        var now = DateTimeOffset.FromUnixTimeMilliseconds(streamTimeMs);
        foreach (var due in TimeIndex.Due(store, DuePrefix, streamTimeMs))
        {
            store.Delete(due);
            var (_, entry) = TimeIndex.Parse(DuePrefix, due);
            var slash = entry.LastIndexOf('/');
            if (!BusinessDay.TryParse(entry[(slash + 1)..], out var day) || Load(MartKey(entry[..slash], day)) is not { } mart
                || DailyMarts.DueAlert(mart, now, settings) is not { } alert)
            {
                continue; // the checks agree again, or this disagreement was already alerted
            }

            var alerted = DailyMarts.Alerted(mart, alert);
            Save(alerted);
            Publish(alerted);
            Forward(Alert(alert));
        }
    }

    /// <summary>The alert on the stream: keyed by the report key, its id and time derived from the mart and its figures, not the clock.</summary>
    private Outgoing Alert(ReconciliationAlert alert)
    {
        var key = ReportRecords.Key(alert.Day, alert.Channel);
        var channel = Enum.TryParse<C.Channel>(alert.Channel, out var c) ? EnumMap.Convert<C.Channel, Channel>(c) : Channel.Unknown;
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["day"] = BusinessDay.Format(alert.Day),
            ["channel"] = alert.Channel,
            ["checks"] = string.Join(',', alert.Disagreeing.Select(d => d.Name)),
            ["mismatchSince"] = alert.MismatchSince.ToString("O", CultureInfo.InvariantCulture),
        };
        foreach (var check in alert.Disagreeing)
        {
            details[$"{check.Name}.ordersCount"] = check.Orders.Count.ToString(CultureInfo.InvariantCulture);
            details[$"{check.Name}.ordersMinor"] = check.Orders.AmountMinor.ToString(CultureInfo.InvariantCulture);
            details[$"{check.Name}.certificatesCount"] = check.Certificates.Count.ToString(CultureInfo.InvariantCulture);
            details[$"{check.Name}.certificatesMinor"] = check.Certificates.AmountMinor.ToString(CultureInfo.InvariantCulture);
        }

        var message = $"orders and certificate events disagree for {key} since {alert.MismatchSince:O}: "
            + string.Join("; ", alert.Disagreeing.Select(d => string.Create(CultureInfo.InvariantCulture,
                $"{d.Name}: orders {d.Orders.Count} / {d.Orders.AmountMinor}, certificates {d.Certificates.Count} / {d.Certificates.AmountMinor}")));
        var payload = StreamEvents.Alert(AlertKind.ReconciliationMismatch, AlertSeverity.Warning, message, details);
        var subject = new EventSubject(key, null, null, channel, null, 0);
        var envelope = StreamEvents.Envelope(subject, EventTypes.Alert, $"reconciliation:{key}:{alert.Fingerprint}", alert.At, null, 0, payload);
        return codec.Event(envelope, key);
    }

    private void Publish(DailyMart mart)
    {
        var record = ReportRecords.ToRecord(mart, timeZone);
        var key = ReportRecords.Key(mart.Day, mart.Channel);
        Forward(new Outgoing(Topics.DailyReport.Name, Topics.DailyReport.KeyBytes(key), codec.Encode(Topics.DailyReport, record),
            new Headers { { Client.Header.Channel, Codec.Utf8(mart.Channel) } }) { Contract = record });
    }

    private void Forward(Outgoing output)
    {
        context.SetHeaders(output.Headers);
        context.Forward(output.Key!, output);
    }

    private DailyMart? Load(string key) => store.Get(key) is { } bytes ? ReportJson.Deserialize<DailyMart>(bytes) : null;

    private void Save(DailyMart mart) => store.Put(MartKey(mart.Channel, mart.Day), ReportJson.Serialize(mart));

    private static string MartKey(string channel, DateOnly day) => $"{MartPrefix}{channel}/{BusinessDay.Format(day)}";
}
