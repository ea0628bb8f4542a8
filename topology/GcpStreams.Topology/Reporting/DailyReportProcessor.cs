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
/// replay of the same facts in the same order decides the same alerts with the same content. A day becomes final (a new revision
/// with <c>final</c> set) when the stream time passes its end plus the grace period; facts after that are corrections.
/// Store layout: <c>m/{channel}/{day}</c> marts, <c>seen/{day}/{dedupKey}</c> records seen (duplicates; a day's are dropped once
/// it has been final for the duplicate retention), <c>due/{ms}/{channel}/{day}</c> the alert deadlines, <c>fin/{ms}/{channel}/{day}</c>
/// the days to make final, <c>time</c> the stream time.
/// </summary>
public sealed class DailyReportProcessor : ITransformer<string, ReportFact, byte[], Outgoing>
{
    public const string MartPrefix = "m/";
    private const string SeenPrefix = "seen/";
    private const string DuePrefix = "due/";
    private const string FinalPrefix = "fin/";
    private const string TimeKey = "time";
    private static readonly byte[] Marker = [1];

    private readonly Codec codec;
    private readonly ReportSettings settings;
    private readonly string timeZone;
    private ProcessorContext<byte[], Outgoing> context = null!;
    private IKeyValueStore<string, byte[]> store = null!;
    private long streamTimeMs = long.MinValue;
    private DateOnly? forgotThrough;

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
            var seen = $"{SeenPrefix}{BusinessDay.Format(day)}/{dedup}";
            duplicate = store.Get(seen) is not null;
            if (!duplicate)
            {
                store.Put(seen, Marker);
            }
        }

        var before = Load(key);
        var after = DailyMarts.Apply(before, fact, duplicate, settings);
        var entry = $"{fact.Channel}/{BusinessDay.Format(day)}";
        if (after.MismatchSince is { } since && before?.MismatchSince != since)
        {
            store.Put(TimeIndex.Key(DuePrefix, since + settings.Tolerance, entry), Marker);
        }

        var recordTimeMs = fact.RecordedAt.ToUnixTimeMilliseconds();
        if (before is null)
        {
            if (Math.Max(streamTimeMs, recordTimeMs) >= after.FinalAt.ToUnixTimeMilliseconds())
            {
                after = DailyMarts.Finalized(after, after.FinalAt) ?? after; // a day first seen after it was final: final at once
            }
            else
            {
                store.Put(TimeIndex.Key(FinalPrefix, after.FinalAt, entry), Marker);
            }
        }

        SaveAndPublish(after);
        Advance(recordTimeMs);
    }

    /// <summary>Stores the mart, re-chains the liability of its day and every later day of its channel, publishes what changed.</summary>
    private void SaveAndPublish(DailyMart mart)
    {
        var key = MartKey(mart.Channel, mart.Day);
        var channelPrefix = $"{MartPrefix}{mart.Channel}/";
        IReadOnlyDictionary<string, long> previous = DailyMarts.Liabilities(null);
        using (var earlier = store.ReverseRange(channelPrefix, key))
        {
            while (earlier.MoveNext())
            {
                if (earlier.Current!.Value.Key != key)
                {
                    previous = DailyMarts.Liabilities(ReportJson.Deserialize<DailyMart>(earlier.Current.Value.Value));
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

    /// <summary>
    /// Moves the stream time forward: raises the reconciliation alerts due by it, makes the days whose grace period it passed final,
    /// and drops the duplicate tracking of the days final for longer than the retention.
    /// </summary>
    private void Advance(long recordTimeMs)
    {
        if (recordTimeMs <= streamTimeMs)
        {
            return;
        }

        streamTimeMs = recordTimeMs;
        store.Put(TimeKey, System.Text.Encoding.ASCII.GetBytes(streamTimeMs.ToString(CultureInfo.InvariantCulture)));
        var now = DateTimeOffset.FromUnixTimeMilliseconds(streamTimeMs);
        RaiseDueAlerts(now);
        FinalizeDueDays(now);
        ForgetDuplicates(now);
    }

    /// <summary>Publishes the marts whose day became final by <paramref name="now"/> (stream time), in deadline order.</summary>
    private void FinalizeDueDays(DateTimeOffset now)
    {
        foreach (var due in TimeIndex.Due(store, FinalPrefix, streamTimeMs))
        {
            store.Delete(due);
            if (MartOf(TimeIndex.Parse(FinalPrefix, due).Entry) is { } mart && DailyMarts.Finalized(mart, now) is { } final)
            {
                Save(final);
                Publish(final);
            }
        }
    }

    /// <summary>Drops the records seen of the days final for longer than the duplicate retention (bounded: only open days and the retention are kept).</summary>
    private void ForgetDuplicates(DateTimeOffset now)
    {
        var through = DailyMarts.ForgetDuplicatesThrough(now, settings);
        if (forgotThrough is { } done && done >= through)
        {
            return;
        }

        var upTo = $"{SeenPrefix}{BusinessDay.Format(through)}/~";
        var forget = new List<string>();
        using (var seen = store.Range(SeenPrefix, upTo))
        {
            while (seen.MoveNext())
            {
                forget.Add(seen.Current!.Value.Key);
            }
        }

        foreach (var key in forget)
        {
            store.Delete(key);
        }

        forgotThrough = through;
    }

    private DailyMart? MartOf(string entry)
    {
        var slash = entry.LastIndexOf('/');
        return BusinessDay.TryParse(entry[(slash + 1)..], out var day) ? Load(MartKey(entry[..slash], day)) : null;
    }

    private void RaiseDueAlerts(DateTimeOffset now)
    {
        foreach (var due in TimeIndex.Due(store, DuePrefix, streamTimeMs))
        {
            store.Delete(due);
            if (MartOf(TimeIndex.Parse(DuePrefix, due).Entry) is not { } mart || DailyMarts.DueAlert(mart, now, settings) is not { } alert)
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
            ["checks"] = string.Join(',', Reconciliation.Disagreeing(alert.Disagreeing)),
            ["mismatchSince"] = alert.MismatchSince.ToString("O", CultureInfo.InvariantCulture),
        };
        details["currencies"] = string.Join(',', alert.Disagreeing.Select(d => d.Currency).Distinct(StringComparer.Ordinal));
        foreach (var check in alert.Disagreeing)
        {
            // amounts per currency: {check}.{currency}.ordersMinor, ...
            details[$"{check.Name}.{check.Currency}.ordersCount"] = check.Orders.Count.ToString(CultureInfo.InvariantCulture);
            details[$"{check.Name}.{check.Currency}.ordersMinor"] = check.Orders.AmountMinor.ToString(CultureInfo.InvariantCulture);
            details[$"{check.Name}.{check.Currency}.certificatesCount"] = check.Certificates.Count.ToString(CultureInfo.InvariantCulture);
            details[$"{check.Name}.{check.Currency}.certificatesMinor"] = check.Certificates.AmountMinor.ToString(CultureInfo.InvariantCulture);
        }

        var message = $"orders and certificate events disagree for {key} since {alert.MismatchSince:O}: "
            + string.Join("; ", alert.Disagreeing.Select(d => string.Create(CultureInfo.InvariantCulture,
                $"{d.Name} ({d.Currency}): orders {d.Orders.Count} / {d.Orders.AmountMinor}, certificates {d.Certificates.Count} / {d.Certificates.AmountMinor}")));
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
