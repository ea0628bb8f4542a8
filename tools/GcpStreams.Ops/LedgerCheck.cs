using System.Globalization;
using System.Text;
using GcpStreams.Client;
using GcpStreams.Domain;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops;

/// <summary>
/// <c>make ledger-check</c>: folds <c>GiftCertificates.Stream</c> per certificate with the domain's own fold and compares the
/// result with the latest <c>GiftCertificates.State</c> record of each (balance, held, status, sequence, lock). Exit 0 with the
/// counts when every certificate agrees, 1 with the first differences.
/// </summary>
internal sealed class LedgerCheck(TopicReader reader, Codec codec, TextWriter output)
{
    /// <param name="Repeats">Events skipped because an earlier event had their event id (re-produced by a rebuild, byte for byte or not, or after an instance died mid-transaction on the embedded broker, which shows its writes).</param>
    /// <param name="AlertVariants">Repeated alerts whose copy differs from the first (an alert is no ledger entry; not a difference).</param>
    /// <param name="Differing">The certificates with a difference, in the order their first difference is listed.</param>
    public sealed record Result(int Events, int Certificates, int States, IReadOnlyList<string> Differences, int Repeats = 0, int AlertVariants = 0)
    {
        public IReadOnlyList<string> Differing { get; init; } = [];
    }

    /// <param name="explain">For this many of the first certificates with a difference, every record of theirs on the stream and on
    /// State is printed in log order (partition, offset, time, event id, type, sequence; State's sequence and status) — what an
    /// operator (or the reliability suite's artifacts) needs to see how the two parted.</param>
    public int Run(int maxShown, int explain = 0)
    {
        var result = Check();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ledger-check: {result.Events} events of {result.Certificates} certificates on {Topics.Stream.Name} folded, {result.States} records of {Topics.State.Name} compared"));
        if (result.Repeats > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ledger-check: {result.Repeats} event(s) repeat an earlier event id (re-produced by a rebuild, or after an instance died mid-transaction on the embedded broker): each event id folded once"));
        }

        if (result.AlertVariants > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ledger-check: {result.AlertVariants} of them alert(s) whose copy differs from the first (an alert changes no ledger; its sequence is the ledger's where it was raised): not compared"));
        }

        if (result.Differences.Count == 0)
        {
            output.WriteLine("ledger-check: every certificate's State is the fold of its events");
            return 0;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ledger-check: {result.Differences.Count} difference(s); the first {Math.Min(maxShown, result.Differences.Count)}:"));
        foreach (var difference in result.Differences.Take(maxShown))
        {
            output.WriteLine("  " + difference);
        }

        var explained = result.Differing.Take(explain).ToHashSet(StringComparer.Ordinal);
        if (explained.Count > 0)
        {
            Explain(explained);
        }

        return 1;
    }

    /// <summary>Prints every stream and State record of <paramref name="certificates"/>, per certificate, each topic in log order.</summary>
    private void Explain(IReadOnlySet<string> certificates)
    {
        var lines = certificates.ToDictionary(c => c, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var record in reader.Read(Topics.Stream.Name))
        {
            if (record.Message.Value is null || !lines.TryGetValue(Topics.Stream.Key(record.Message.Key), out var list))
            {
                continue;
            }

            var e = codec.Decode(Topics.Stream, record.Message.Value, record.Message.Headers);
            list.Add(string.Create(CultureInfo.InvariantCulture,
                $"  {Topics.Stream.Name}[{record.Partition.Value}]@{record.Offset.Value} {record.Message.Timestamp.UtcDateTime:HH:mm:ss.fff} {e.eventType} sequence {e.sequence} id {e.eventId} correlation {e.correlationId}"));
        }

        foreach (var record in reader.Read(Topics.State.Name))
        {
            if (!lines.TryGetValue(Topics.State.Key(record.Message.Key), out var list))
            {
                continue;
            }

            var where = string.Create(CultureInfo.InvariantCulture, $"  {Topics.State.Name}[{record.Partition.Value}]@{record.Offset.Value} {record.Message.Timestamp.UtcDateTime:HH:mm:ss.fff}");
            if (record.Message.Value is null)
            {
                list.Add(where + " tombstone");
                continue;
            }

            var state = codec.Decode(Topics.State, record.Message.Value, record.Message.Headers);
            list.Add(string.Create(CultureInfo.InvariantCulture,
                $"{where} sequence {state.sequence} {state.status} balance {state.balanceMinor} held {state.heldMinor}{(state.locked ? " locked" : "")}"));
        }

        foreach (var (certificate, list) in lines.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"ledger-check: the records of {certificate}:");
            foreach (var line in list)
            {
                output.WriteLine(line);
            }
        }
    }

    public Result Check()
    {
        var folds = new Dictionary<string, LedgerFold>(StringComparer.Ordinal);
        var seen = new Dictionary<string, byte[]>(StringComparer.Ordinal); // event id -> the value of its first copy
        var events = 0;
        var repeats = 0;
        var alertVariants = 0;
        var differences = new List<string>();
        foreach (var record in reader.Read(Topics.Stream.Name))
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"{Topics.Stream.Name}[{record.Partition.Value}]@{record.Offset.Value}");
            if (record.Message.Value is null)
            {
                continue;
            }

            C.GiftCertificateEvent e;
            try
            {
                e = codec.Decode(Topics.Stream, record.Message.Value, record.Message.Headers);
            }
            catch (Exception x) when (x is not (OutOfMemoryException or HttpRequestException))
            {
                differences.Add($"{where}: undecodable ({x.Message})");
                continue;
            }

            // a rebuild (gcp-replay rebuild) re-produces the stream, and on the embedded broker the next owner of a task decides
            // again what a killed instance's unfinished transaction had written: a deterministic event comes again with its event
            // id; fold it once. A ledger event whose copy differs from the first was decided otherwise: a difference of its own.
            if (e.eventId is { Length: > 0 } eventId)
            {
                if (seen.TryGetValue(eventId, out var first))
                {
                    repeats++;
                    if (!first.AsSpan().SequenceEqual(record.Message.Value))
                    {
                        var earlier = codec.Decode(Topics.Stream, first); // decoded again only when the copies differ
                        if (e.payload is C.Alert && earlier.payload is C.Alert)
                        {
                            alertVariants++;
                        }
                        else
                        {
                            differences.Add($"{where}: event {eventId} ({e.eventType}) came again with other content than its first copy ({Changed(earlier, e)})");
                        }
                    }

                    continue;
                }

                seen[eventId] = record.Message.Value;
            }

            events++;
            if (e.certificateId is not { Length: > 0 } id || Topics.Stream.Key(record.Message.Key) != id)
            {
                continue; // a pool's event, or an alert keyed by something else: no certificate's ledger
            }

            if (!folds.TryGetValue(id, out var fold))
            {
                folds[id] = fold = new LedgerFold(id);
            }

            fold.Apply(e, where);
        }

        var states = new Dictionary<string, C.CertificateState>(StringComparer.Ordinal);
        var stateRecords = 0;
        foreach (var record in reader.Read(Topics.State.Name))
        {
            stateRecords++;
            var key = Topics.State.Key(record.Message.Key);
            if (record.Message.Value is null)
            {
                states.Remove(key); // a tombstone
                continue;
            }

            try
            {
                states[key] = codec.Decode(Topics.State, record.Message.Value, record.Message.Headers);
            }
            catch (Exception x) when (x is not (OutOfMemoryException or HttpRequestException))
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{Topics.State.Name}[{record.Partition.Value}]@{record.Offset.Value}: undecodable ({x.Message})"));
            }
        }

        var differing = new List<string>();
        foreach (var fold in folds.Values.OrderBy(f => f.CertificateId, StringComparer.Ordinal))
        {
            var before = differences.Count;
            Compared(fold);
            if (differences.Count > before)
            {
                differing.Add(fold.CertificateId);
            }
        }

        void Compared(LedgerFold fold)
        {
            differences.AddRange(fold.Problems.Select(p => $"{fold.CertificateId}: {p}"));
            if (!states.TryGetValue(fold.CertificateId, out var state))
            {
                if (fold.Certificate is not null || fold.PoolStatus is not null)
                {
                    differences.Add($"{fold.CertificateId}: no record on {Topics.State.Name} ({fold.Events} events on the stream)");
                }

                return;
            }

            var compared = Compare(fold, state);
            if (compared is not null)
            {
                differences.Add($"{fold.CertificateId}: {compared}");
            }
        }

        foreach (var orphan in states.Keys.Where(k => !folds.ContainsKey(k)).Order(StringComparer.Ordinal))
        {
            differences.Add($"{orphan}: a {Topics.State.Name} record ({states[orphan].status}, sequence {states[orphan].sequence}) without any event on {Topics.Stream.Name}");
            differing.Add(orphan);
        }

        return new Result(events, folds.Count, stateRecords, differences, repeats, alertVariants) { Differing = differing };
    }

    /// <summary>The envelope fields that differ between two copies of an event (the payload when none of them does).</summary>
    private static string Changed(C.GiftCertificateEvent first, C.GiftCertificateEvent again)
    {
        var changed = new List<string>();
        void Field<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                changed.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {a} then {b}"));
            }
        }

        Field("eventType", first.eventType, again.eventType);
        Field("sequence", first.sequence, again.sequence);
        Field("occurredAt", first.occurredAt, again.occurredAt);
        Field("correlationId", first.correlationId, again.correlationId);
        Field("storeId", first.storeId, again.storeId);
        return changed.Count == 0 ? "payload" : string.Join(", ", changed);
    }

    /// <summary>What differs between the fold and the State record (each field: the fold's value, then State's), or null.</summary>
    internal static string? Compare(LedgerFold fold, C.CertificateState state)
    {
        var diffs = new List<string>();
        void Field<T>(string name, T folded, T published)
        {
            if (!EqualityComparer<T>.Default.Equals(folded, published))
            {
                diffs.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: fold {folded}, State {published}"));
            }
        }

        if (fold.Certificate is { } certificate)
        {
            Field("status", Symbol(certificate.Status), state.status.ToString());
            Field("balanceMinor", certificate.BalanceMinor, state.balanceMinor);
            Field("heldMinor", certificate.HeldMinor, state.heldMinor);
            Field("sequence", certificate.Sequence, state.sequence);
            Field("locked", certificate.Locked, state.locked);
        }
        else if (fold.PoolStatus is { } status)
        {
            Field("status", status.ToString(), state.status.ToString());
            Field("sequence", fold.Sequence, state.sequence);
        }

        return diffs.Count == 0 ? null : string.Join("; ", diffs);
    }

    /// <summary>The domain's status as the contract's symbol (<c>PartiallyRedeemed</c> as <c>PARTIALLY_REDEEMED</c>).</summary>
    internal static string Symbol(CertificateStatus status)
    {
        var name = status.ToString();
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append('_');
            }

            text.Append(char.ToUpperInvariant(name[i]));
        }

        return text.ToString();
    }
}
