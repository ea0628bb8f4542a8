using System.Diagnostics;
using Confluent.SchemaRegistry;
using GcpStreams.Domain;

namespace GcpStreams.Reliability;

/// <summary>One event of GiftCertificates.Stream, the fields the audit looks at; <paramref name="Content"/> identifies the record's bytes.</summary>
internal sealed record StreamEvent(string EventId, string EventType, string? CertificateId, string CausationId, string? Detail = null, string Content = "")
{
    /// <summary>
    /// The decider's answer to an input it had applied already (alert DUPLICATE_EVENT): no effect, but a sign that the input
    /// was delivered again (after a kill -9, see docs/reliability.md).
    /// </summary>
    public bool IsRedeliveryAlert => EventType == EventTypes.Alert && Detail is not null && Detail.StartsWith("DUPLICATE_EVENT", StringComparison.Ordinal);
}

/// <summary>What the suite sent and what it was answered: the input the audit compares the stream with.</summary>
internal sealed class Expectations
{
    /// <summary>The event ids of every payment produced (each must have exactly one outcome on the stream).</summary>
    public HashSet<string> PaymentEventIds { get; } = new(StringComparer.Ordinal);

    /// <summary>The certificates of every PAID order produced (each must be issued exactly once).</summary>
    public HashSet<string> PaidCertificates { get; } = new(StringComparer.Ordinal);

    /// <summary>Reservations (by Idempotency-Key) and whether one of their tries got a final answer.</summary>
    public Dictionary<string, bool> Reservations { get; } = new(StringComparer.Ordinal);
}

/// <summary>The counts of an audit; <see cref="Ok"/> when every violation count is 0.</summary>
internal sealed record AuditReport(
    int Events,
    int Payments,
    int PaymentsLost,
    int PaymentsDuplicated,
    int DuplicatedEventIds,
    int PaidOrders,
    int OrdersNotIssued,
    int IssuedTwice,
    int Reservations,
    int ReservationsUnanswered,
    int RedeliveryAlerts,
    int RepeatedRedeliveryAlerts,
    int Copies,
    IReadOnlyList<string> Examples)
{
    public bool Ok => PaymentsLost == 0 && PaymentsDuplicated == 0 && DuplicatedEventIds == 0 && OrdersNotIssued == 0 && IssuedTwice == 0 && ReservationsUnanswered == 0;

    public IEnumerable<string> Lines()
    {
        yield return $"stream events read      {Events}";
        yield return $"payments sent           {Payments}: lost (no outcome) {PaymentsLost}, duplicated (more than one outcome) {PaymentsDuplicated}";
        yield return $"event ids on the stream duplicated {DuplicatedEventIds} (another event under an id already read); byte-identical copies {Copies} (each read once, not counted as violations)";
        yield return $"paid orders             {PaidOrders}: not issued {OrdersNotIssued}; certificates issued twice {IssuedTwice}";
        yield return $"reservations            {Reservations}: never answered {ReservationsUnanswered}";
        yield return $"inputs delivered again  {RedeliveryAlerts} DUPLICATE_EVENT alerts (no effect), {RepeatedRedeliveryAlerts} of them with an event id already on the stream (not counted as violations)";
        foreach (var example in Examples)
        {
            yield return "  " + example;
        }
    }
}

/// <summary>
/// The suite's checks over the whole GiftCertificates.Stream: every payment has exactly one outcome event (authorized,
/// redeemed, hold_released, refunded or operation.rejected, caused by the payment's event id, as Payments and
/// Shop.WaitForOutcomeAsync match them), no event id names two different events (a byte-identical copy is read once: the embedded
/// broker shows the writes of a transaction that never committed, which the next owner then commits), every paid order's certificate is issued exactly once
/// (and no certificate at all is issued twice), every reservation got an answer.
/// </summary>
internal static class StreamAudit
{
    public static readonly IReadOnlySet<string> PaymentOutcomeTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        EventTypes.Authorized, EventTypes.Redeemed, EventTypes.HoldReleased, EventTypes.Refunded, EventTypes.OperationRejected,
    };

    /// <summary>
    /// After the traffic: waits until GiftCertificates.Stream's end has not moved for 10 s (3 minutes at most), reads it whole,
    /// checks it against what was sent (<see cref="Check"/>) and prints the report.
    /// </summary>
    public static async Task<(List<StreamEvent> Events, AuditReport Report)> AuditQuietStreamAsync(string bootstrap, ISchemaRegistryClient registry, Expectations expected,
        Stopwatch clock, CancellationToken token)
    {
        var end = await StreamTopic.WaitQuietAsync(bootstrap, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(3), token);
        Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0}s] stream quiet at {end} records");
        var events = StreamTopic.ReadAll(bootstrap, registry, TimeSpan.FromMinutes(3));
        AuditReport report;
        lock (expected)
        {
            report = Check(events, expected);
        }

        foreach (var line in report.Lines())
        {
            Console.WriteLine(line);
        }

        return (events, report);
    }

    public static AuditReport Check(IEnumerable<StreamEvent> events, Expectations expected, int maxExamples = 10)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(expected);
        var examples = new List<string>();
        void Example(string text)
        {
            if (examples.Count < maxExamples)
            {
                examples.Add(text);
            }
        }

        var count = 0;
        var contents = new Dictionary<string, string>(StringComparer.Ordinal); // event id -> the content first read under it
        var duplicatedIds = 0;
        var copies = 0;
        var redeliveries = 0;
        var repeatedRedeliveries = 0;
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var issued = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            count++;
            if (e.IsRedeliveryAlert)
            {
                redeliveries++;
            }

            if (contents.TryGetValue(e.EventId, out var first))
            {
                if (e.IsRedeliveryAlert)
                {
                    repeatedRedeliveries++;
                }
                else if (first == e.Content)
                {
                    copies++; // the same record again: on the embedded broker, the visible writes of a transaction that never committed, then the same decision committed by the next owner
                }
                else
                {
                    duplicatedIds++;
                    Example($"event id {e.EventId} ({e.EventType}, {e.CertificateId}, caused by {e.CausationId}{(e.Detail is null ? "" : ": " + e.Detail)}) appears twice with different content");
                }

                continue;
            }

            contents[e.EventId] = e.Content;
            if (PaymentOutcomeTypes.Contains(e.EventType) && expected.PaymentEventIds.Contains(e.CausationId))
            {
                outcomes[e.CausationId] = outcomes.GetValueOrDefault(e.CausationId) + 1;
            }

            if (e.EventType == EventTypes.Issued && e.CertificateId is not null)
            {
                issued[e.CertificateId] = issued.GetValueOrDefault(e.CertificateId) + 1;
            }
        }

        var lost = 0;
        var doubled = 0;
        foreach (var payment in expected.PaymentEventIds.Order(StringComparer.Ordinal))
        {
            var n = outcomes.GetValueOrDefault(payment);
            if (n == 0)
            {
                lost++;
                Example($"payment event {payment}: no outcome");
            }
            else if (n > 1)
            {
                doubled++;
                Example($"payment event {payment}: {n} outcomes");
            }
        }

        var notIssued = 0;
        foreach (var certificate in expected.PaidCertificates.Order(StringComparer.Ordinal))
        {
            if (!issued.ContainsKey(certificate))
            {
                notIssued++;
                Example($"certificate {certificate}: paid, never issued");
            }
        }

        var issuedTwice = 0;
        foreach (var (certificate, n) in issued.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (n > 1)
            {
                issuedTwice++;
                Example($"certificate {certificate}: issued {n} times");
            }
        }

        var unanswered = expected.Reservations.Count(r => !r.Value);
        foreach (var key in expected.Reservations.Where(r => !r.Value).Select(r => r.Key).Order(StringComparer.Ordinal).Take(3))
        {
            Example($"reservation {key}: no answer");
        }

        return new AuditReport(count, expected.PaymentEventIds.Count, lost, doubled, duplicatedIds, expected.PaidCertificates.Count, notIssued, issuedTwice,
            expected.Reservations.Count, unanswered, redeliveries, repeatedRedeliveries, copies, examples);
    }

    /// <summary>
    /// The concurrent reservations' check: exactly <paramref name="poolSize"/> distinct certificates reserved, every other
    /// request answered POOL_EMPTY, none reserved twice, nothing else.
    /// </summary>
    public static IReadOnlyList<string> CheckReservations(IReadOnlyCollection<ApiAnswerRecord> answers, int poolSize)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var problems = new List<string>();
        var reserved = answers.Where(a => a.CertificateId is not null && a.Refusal is null).Select(a => a.CertificateId!).ToList();
        var distinct = reserved.Distinct(StringComparer.Ordinal).Count();
        var empty = answers.Count(a => a.Refusal == "POOL_EMPTY");
        var other = answers.Count - reserved.Count - empty;
        if (distinct != reserved.Count)
        {
            problems.Add($"{reserved.Count - distinct} certificates reserved twice");
        }

        if (distinct != Math.Min(poolSize, answers.Count))
        {
            problems.Add($"{distinct} distinct certificates reserved, expected {Math.Min(poolSize, answers.Count)}");
        }

        if (empty != Math.Max(0, answers.Count - poolSize))
        {
            problems.Add($"{empty} POOL_EMPTY answers, expected {Math.Max(0, answers.Count - poolSize)}");
        }

        if (other > 0)
        {
            problems.Add($"{other} other answers: " + string.Join(", ", answers.Where(a => a.Refusal is not null and not "POOL_EMPTY")
                .GroupBy(a => a.Refusal, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}")));
        }

        return problems;
    }
}

/// <summary>One reservation's final answer: the certificate, or the refusal (null certificate and refusal: no answer).</summary>
internal sealed record ApiAnswerRecord(string Key, string? CertificateId, string? Refusal);
