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
/// the days to make final, <c>time</c> the stream time, <c>u/{martKey}</c> the marts changed and not yet published.
/// <para>
/// With a <see cref="TopologySettings.ReportPublishInterval"/> (the service's default: 1 s), a mart that changes is stored at once
/// and published at the next tick of that interval, once however many facts changed it: a busy day's mart is not encoded and
/// produced again for every payment (that doubled the topology's cost per event). Which marts wait is stored too (<c>u/</c>, in
/// the same transaction as the facts' offsets), so a crash between a change and its publication publishes it after the restart.
/// Only the number of intermediate versions of a mart depends on the clock; the last one, and every alert, do not.
/// </para>
/// </summary>
public sealed class DailyReportProcessor : ITransformer<string, ReportFact, byte[], Outgoing>
{
    public const string MartPrefix = "m/";
    private const string SeenPrefix = "seen/";
    private const string DuePrefix = "due/";
    private const string FinalPrefix = "fin/";
    private const string TimeKey = "time";
    private const string UnpublishedPrefix = "u/";
    private const int DecodedMartsKept = 1_024;
    private static readonly byte[] Marker = [1];

    private readonly Codec codec;
    private readonly ReportSettings settings;
    private readonly string timeZone;
    private ProcessorContext<byte[], Outgoing> context = null!;
    private IKeyValueStore<string, byte[]> store = null!;
    private long streamTimeMs = long.MinValue;
    private long storedStreamTimeMs = long.MinValue;
    private TimeSpan publishInterval;
    private DateOnly? forgotThrough;

    /// <summary>The marts of this task as stored, decoded (each fact changes one: no JSON read per fact).</summary>
    private readonly Dictionary<string, DailyMart> decoded = new(StringComparer.Ordinal);

    /// <summary>The marts marked as changed since the last publication by this instance (their <c>u/</c> entries are in the store).</summary>
    private readonly HashSet<string> marked = new(StringComparer.Ordinal);

    /// <summary>
    /// Per channel, its latest day with a mart and the liabilities (per currency) the day before it ended with: a fact of that day
    /// (nearly every fact) chains without reading the channel's other days. Forgotten when a fact of an earlier day re-chains the
    /// later ones.
    /// </summary>
    private readonly Dictionary<string, (DateOnly Latest, IReadOnlyDictionary<string, long> Previous)> chainTips = new(StringComparer.Ordinal);

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
        publishInterval = settings?.ReportPublishInterval ?? TimeSpan.Zero;
    }

    public void Init(ProcessorContext<byte[], Outgoing> context)
    {
        this.context = context;
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.DailyReports);
        decoded.Clear();
        marked.Clear();
        chainTips.Clear();
        if (store.Get(TimeKey) is { } time)
        {
            streamTimeMs = storedStreamTimeMs = long.Parse(System.Text.Encoding.ASCII.GetString(time), CultureInfo.InvariantCulture);
        }

        if (publishInterval > TimeSpan.Zero)
        {
            context.Schedule(publishInterval, PunctuationType.PROCESSING_TIME, LedgerStores.WritingThrough(store, _ => PublishChanged()));
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
        if (chainTips.TryGetValue(mart.Channel, out var tip) && tip.Latest == mart.Day)
        {
            Change(DailyMarts.Chain(tip.Previous, [mart]).SingleOrDefault() ?? mart);
            return;
        }

        var channelPrefix = $"{MartPrefix}{mart.Channel}/";
        IReadOnlyDictionary<string, long> previous = DailyMarts.Liabilities(null);
        using (var earlier = store.ReverseRange(channelPrefix, key))
        {
            while (earlier.MoveNext())
            {
                if (earlier.Current!.Value.Key != key)
                {
                    previous = DailyMarts.Liabilities(Decode(earlier.Current.Value.Key, earlier.Current.Value.Value));
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
                    days.Add(Decode(later.Current.Value.Key, later.Current.Value.Value));
                }
            }
        }

        if (days.Count == 1)
        {
            chainTips[mart.Channel] = (mart.Day, previous);
        }
        else
        {
            chainTips.Remove(mart.Channel);
        }

        var changed = DailyMarts.Chain(previous, days).ToDictionary(m => m.Day);
        var self = changed.GetValueOrDefault(mart.Day) ?? mart;
        Change(self);
        foreach (var other in days.Skip(1).Where(d => changed.ContainsKey(d.Day)).Select(d => changed[d.Day]))
        {
            Change(other);
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
        if (publishInterval == TimeSpan.Zero)
        {
            StoreStreamTime();
        }

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
                Change(final);
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

            Change(DailyMarts.Alerted(mart, alert));
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

    /// <summary>Stores a changed mart, and publishes it now or marks it for the next publication.</summary>
    private void Change(DailyMart mart)
    {
        var key = MartKey(mart.Channel, mart.Day);
        store.Put(key, ReportJson.Serialize(mart));
        Remember(key, mart);
        if (publishInterval == TimeSpan.Zero)
        {
            Publish(mart);
        }
        else if (marked.Add(key))
        {
            store.Put(UnpublishedPrefix + key, Marker);
        }
    }

    /// <summary>
    /// Publishes each mart marked as changed, once, and keeps the stream time (in this task's transaction): the marks are read from
    /// the store, so those restored after a crash are published too.
    /// </summary>
    private void PublishChanged()
    {
        List<string> waiting = [];
        using (var marks = store.Range(UnpublishedPrefix, UnpublishedPrefix + "~"))
        {
            while (marks.MoveNext())
            {
                waiting.Add(marks.Current!.Value.Key);
            }
        }

        foreach (var mark in waiting)
        {
            if (Load(mark[UnpublishedPrefix.Length..]) is { } mart)
            {
                Publish(mart);
            }

            store.Delete(mark);
        }

        marked.Clear();
        if (streamTimeMs != storedStreamTimeMs)
        {
            StoreStreamTime();
        }
    }

    private void StoreStreamTime()
    {
        store.Put(TimeKey, System.Text.Encoding.ASCII.GetBytes(streamTimeMs.ToString(CultureInfo.InvariantCulture)));
        storedStreamTimeMs = streamTimeMs;
    }

    private DailyMart? Load(string key) => decoded.TryGetValue(key, out var mart) ? mart : store.Get(key) is { } bytes ? Decode(key, bytes) : null;

    private DailyMart Decode(string key, byte[] bytes)
    {
        if (!decoded.TryGetValue(key, out var mart))
        {
            mart = ReportJson.Deserialize<DailyMart>(bytes);
            Remember(key, mart);
        }

        return mart;
    }

    private void Remember(string key, DailyMart mart)
    {
        if (decoded.Count >= DecodedMartsKept && !decoded.ContainsKey(key))
        {
            decoded.Clear(); // marts are per (channel, day): a task rarely holds more than a few days of a few channels
        }

        decoded[key] = mart;
    }

    private static string MartKey(string channel, DateOnly day) => $"{MartPrefix}{channel}/{BusinessDay.Format(day)}";
}
