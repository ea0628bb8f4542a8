using System.Globalization;
using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Mapping;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// The single owner of each certificate ledger (input keyed by certificate id): every debit, refund, lock and CVC disclosure
/// of a certificate is decided here, one at a time, by <see cref="CertificateDecider"/> only. It keeps the ledger in the
/// <see cref="StoreNames.Certificates"/> store and publishes events, the latest state, replies and dead letters.
/// Authorization holds lapse on a wall-clock punctuation over a time index of their expiries (as pool reservations do); the
/// decision uses the hold's own expiry, so the events are the same on a replay.
/// A payment costs the same whatever the certificate's history: the ledger record holds totals, each payment's history
/// (operations applied under its id, its capture) has a key of its own, and a decision loads only those of the payments its command names
/// (<see cref="CertificateDecider.HistoryNeededBy"/>). Decoded ledgers are cached in front of the store (<see cref="DecodedStateCache{T}"/>).
/// </summary>
public sealed class CertificateProcessor : DeciderHost<CertificateCommand, Certificate, CertificateEvent>, IReads<CertificateInput>
{
    private readonly TopologySettings settings;
    private readonly CertificateSettings rules;
    private IKeyValueStore<string, byte[]> store = null!;
    private DecodedStateCache<Certificate> ledgers = null!;
    private IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>>? clients;

    /// <summary>
    /// For Streamiz's <c>TransformerBuilder.Transformer&lt;T&gt;(params)</c>, which creates a prototype with <c>new T()</c> and then one
    /// instance per task through the constructor that takes the parameters. The prototype never processes a record.
    /// </summary>
    public CertificateProcessor()
        : base(null!, null!)
    {
        settings = null!;
        rules = null!;
    }

    public CertificateProcessor(Codec codec, TopologySettings settings)
        : base(codec, settings)
    {
        this.settings = settings;
        rules = new CertificateSettings(settings.HoldExpiry, settings.SupportDisclosuresPerDay) { NotificationOverdueAfter = settings.NotificationOverdueAfter };
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Certificates);
        ledgers = new DecodedStateCache<Certificate>(settings.DecodedStateCacheEntries);
        context.Schedule(settings.HoldSweepInterval, PunctuationType.PROCESSING_TIME, ExpireDueHolds);
        context.Schedule(settings.NotificationSweepInterval, PunctuationType.PROCESSING_TIME, ReportOverdueNotifications);
        clients = (IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>>)context.GetStateStore(StoreNames.Clients); // for a notification requested again
    }

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source)
    {
        var input = Internals.CertificateInput.Read(record.Value);
        return Run(input.Command, new Origin(input.ReplyTo, input.CorrelationId, input.Source, input.StoreId));
    }

    /// <summary>The wall-clock sweep: releases every hold whose expiry has passed (bounded per sweep; the rest wait for the next one).</summary>
    internal void ExpireDueHolds(long wallClockMs)
    {
        FireDueTimers(store, Keys.HoldPrefix, wallClockMs, (expiresAt, certificateId, authorizationId) =>
        {
            var causation = DeterministicId.Derive("hold-expiry", certificateId, authorizationId, expiresAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            return Run(new ExpireHold(certificateId, causation, expiresAt, authorizationId), Origin.Timer);
        });
    }

    /// <summary>
    /// The wall-clock sweep of the delivery SLA: every notification whose deadline (request time plus the SLA) has passed is checked;
    /// one still without a result is reported overdue, once (bounded per sweep).
    /// </summary>
    internal void ReportOverdueNotifications(long wallClockMs)
    {
        FireDueTimers(store, Keys.NotificationPrefix, wallClockMs, (due, certificateId, notificationId) =>
        {
            var causation = DeterministicId.Derive("notification-overdue", certificateId, notificationId);
            return Run(new CheckNotificationOverdue(certificateId, causation, due, notificationId), Origin.Timer);
        });
    }

    /// <summary>The ledger with the history of the payments the command names; none for an id that cannot name a ledger.</summary>
    protected override Certificate? Load(CertificateCommand command) =>
        Keys.IsCertificate(command.CertificateId) ? WithHistory(Load(command.CertificateId), command) : null;

    /// <summary>A notification asked again goes to the buyer's channel as CRM says now.</summary>
    protected override CertificateCommand Prepare(CertificateCommand command, Certificate? before) =>
        command is RequestNotification again && before?.ClientId is { } clientId ? again with { Contact = ClientContacts.Of(clients, Codec, clientId) } : command;

    protected override IReadOnlyList<CertificateEvent> Decide(CertificateCommand command, Certificate? before) => CertificateDecider.Decide(command, before, rules);

    protected override Certificate? Evolve(Certificate? state, CertificateEvent e) => CertificateDecider.Evolve(state, e);

    protected override void Publish(Decision decision, Certificate? certificate, int index, List<Outgoing> outputs)
    {
        var (command, e) = (decision.Command, decision.Events[index]);
        var identity = certificate?.Identity ?? (command as IssueCertificate)?.Identity;
        var subject = new EventSubject(command.CertificateId, command.CertificateId, identity?.PoolId, identity?.Channel ?? ChannelOf(command), identity?.Currency, certificate?.Sequence ?? 0);
        var salt = CertificateDecider.IsDuplicate(e) ? StreamEvents.DuplicateSalt(decision.Origin.Source) : null;
        var envelope = StreamEvents.Envelope(subject, e.EventType, e.CausationId, e.At, decision.Origin.CorrelationId, index, StreamEvents.Payload(e), salt, decision.Origin.StoreId);
        decision.EventIds.Add(envelope.eventId);
        outputs.Add(Codec.Event(envelope, command.CertificateId));
    }

    /// <summary>The ledger's state after the last event that changed it, the reply, and the dead letter of a refused payment.</summary>
    protected override void Conclude(Decision decision, Certificate? certificate, List<Outgoing> outputs)
    {
        var (command, events) = (decision.Command, decision.Events);
        var lastChange = Enumerable.Range(0, events.Count).LastOrDefault(i => CertificateDecider.ChangesState(events[i]), -1);
        if (certificate is not null && lastChange >= 0)
        {
            outputs.Add(Codec.State(StateRecords.Of(certificate, decision.EventIds[lastChange], events[lastChange].At)));
        }

        if (decision.Origin.ReplyTo is { } replyTo)
        {
            outputs.Add(Codec.Reply(Replies.ForCertificate(command, events, decision.EventIds, replyTo)));
        }

        if (decision.Origin.Source is { } origin && events[0] is CertificateOperationRejected { Reason: RejectionReason.NotFound or RejectionReason.CurrencyMismatch } refused)
        {
            // the refusal is on the stream for the payer; operations also get the original record to inspect or replay
            outputs.AddRange(DeadLetter(origin, refused.Reason == RejectionReason.NotFound ? C.DeadLetterReason.UNKNOWN_CERTIFICATE : C.DeadLetterReason.CURRENCY_MISMATCH, refused.Message));
        }
    }

    /// <summary>The timers the events start (hold expiries, notification deadlines), then the ledger and its changed payment histories.</summary>
    protected override void Store(Decision decision, Certificate? certificate)
    {
        if (certificate is null)
        {
            return;
        }

        var certificateId = decision.Command.CertificateId;
        foreach (var authorized in decision.Events.OfType<PaymentAuthorized>())
        {
            store.Put(Keys.Hold(authorized.ExpiresAt, certificateId, authorized.PaymentId), []);
        }

        foreach (var requested in decision.Events.OfType<NotificationRequested>())
        {
            store.Put(Keys.Notification(requested.At + rules.NotificationOverdueAfter, certificateId, requested.NotificationId), []);
        }

        Store(certificateId, certificate, decision.Before);
    }

    /// <summary>The ledger without its payment history (from the cache, or the store), or null if there is none.</summary>
    private Certificate? Load(string certificateId)
    {
        if (ledgers.TryGet(certificateId, out var cached))
        {
            return cached;
        }

        if (store.Get(certificateId) is not { } bytes)
        {
            return null;
        }

        var certificate = InternalJson.Deserialize<CertificateSnapshot>(bytes).ToDomain();
        var ledger = WithoutHistory(certificate);
        if (ReferenceEquals(ledger, certificate))
        {
            ledgers.Put(certificateId, ledger);
        }
        else
        {
            Store(certificateId, certificate, null); // stored with its payment history inline (before it had keys of its own): moved out, once, and cached
        }

        return ledger;
    }

    /// <summary>The ledger with the history of the payments <paramref name="command"/> names (<see cref="CertificateDecider.HistoryNeededBy"/>).</summary>
    private Certificate? WithHistory(Certificate? certificate, CertificateCommand command)
    {
        if (certificate is not Certificate.Active active)
        {
            return certificate;
        }

        foreach (var paymentId in CertificateDecider.HistoryNeededBy(command))
        {
            if (store.Get(Keys.Payment(command.CertificateId, paymentId)) is { } bytes)
            {
                var payment = InternalJson.Deserialize<PaymentSnapshot>(bytes);
                active = active with
                {
                    AppliedPayments = active.AppliedPayments.Union(payment.Operations.Select(operation => PaymentOperations.Key(operation, paymentId))),
                    Captures = payment.Capture is { } capture ? active.Captures.SetItem(paymentId, capture.ToDomain()) : active.Captures,
                };
            }
        }

        return active;
    }

    /// <summary>
    /// Writes the ledger record and the history entry of every payment whose history changed since <paramref name="before"/>
    /// (a decision changes only the payments it named and loaded, so each entry is written whole), and caches the ledger.
    /// </summary>
    private void Store(string certificateId, Certificate certificate, Certificate? before)
    {
        if (certificate is Certificate.Active active)
        {
            var known = before as Certificate.Active;
            var changed = active.AppliedPayments.Where(k => known?.AppliedPayments.Contains(k) != true).Select(PaymentOperations.PaymentIdOf)
                .Concat(active.Captures.Where(c => known?.Captures.GetValueOrDefault(c.Key) != c.Value).Select(c => c.Key))
                .Distinct(StringComparer.Ordinal);
            foreach (var paymentId in changed)
            {
                store.Put(Keys.Payment(certificateId, paymentId), InternalJson.Serialize(PaymentSnapshot.Of(active, paymentId)));
            }
        }

        var ledger = WithoutHistory(certificate);
        store.Put(certificateId, InternalJson.Serialize(CertificateSnapshot.From(ledger)));
        ledgers.Put(certificateId, ledger);
    }

    /// <summary>The ledger without payment history; the same instance when it has none.</summary>
    private static Certificate WithoutHistory(Certificate certificate) =>
        certificate is Certificate.Active { Captures.Count: > 0 } or Certificate.Active { AppliedPayments.Count: > 0 }
            ? (Certificate.Active)certificate with { Captures = Certificate.Active.NoCaptures, AppliedPayments = Certificate.Active.NoAppliedPayments }
            : certificate;

    /// <summary>A command on its way to the owner of its certificate (the internal topic keyed by certificate id).</summary>
    /// <param name="storeId">The store the input named (a payment's storeId): the events of its decision carry it.</param>
    public static Outgoing Input(InternalTopics topics, CertificateCommand command, string? correlationId, SourceRecord? source, string? replyTo = null, string? caller = null,
        string? storeId = null) =>
        topics.CertificateInput.Record(command.CertificateId, new CertificateInput(command, replyTo, correlationId, caller, source, storeId));

    private static Channel ChannelOf(CertificateCommand command) => command switch
    {
        AuthorizePayment x => x.Channel,
        CapturePayment x => x.Channel,
        VoidAuthorization x => x.Channel,
        RefundPayment x => x.Channel,
        _ => Channel.Unknown,
    };

    /// <summary>
    /// The key layout of the certificates store: a ledger under its certificate number (digits); the history of each of its
    /// payments under <c>p/{certificateId}/{paymentId}</c> (the operations applied under the id, and the capture with what was
    /// refunded of it); the hold expiry index <c>h/{expiresMs:D15}/{certificateId}/{authorizationId}</c> and
    /// the notification SLA index <c>n/{dueMs:D15}/{certificateId}/{notificationId}</c>, whose byte order is time order.
    /// </summary>
    internal static class Keys
    {
        public const string HoldPrefix = "h/";
        public const string NotificationPrefix = "n/";
        private const string PaymentPrefix = "p/";

        /// <summary>Whether an id can name a ledger (and not another entry of the same store): certificate numbers have no '/'.</summary>
        public static bool IsCertificate(string id) => !id.Contains('/', StringComparison.Ordinal);

        public static string Payment(string certificateId, string paymentId) => $"{PaymentPrefix}{certificateId}/{paymentId}";

        public static string Notification(DateTimeOffset due, string certificateId, string notificationId) =>
            TimeIndex.Key(NotificationPrefix, due, $"{certificateId}/{notificationId}");

        public static string Hold(DateTimeOffset expiresAt, string certificateId, string authorizationId) =>
            TimeIndex.Key(HoldPrefix, expiresAt, $"{certificateId}/{authorizationId}");
    }
}
