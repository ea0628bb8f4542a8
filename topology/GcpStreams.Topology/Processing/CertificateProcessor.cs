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
public sealed class CertificateProcessor : RecordTransformer, IReads<CertificateInput>
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
        return Decide(input.Command, input.ReplyTo, input.CorrelationId, input.Source, input.StoreId);
    }

    /// <summary>The wall-clock sweep: releases every hold whose expiry has passed (bounded per sweep; the rest wait for the next one).</summary>
    internal void ExpireDueHolds(long wallClockMs)
    {
        FireDueTimers(store, Keys.HoldPrefix, wallClockMs, (expiresAt, certificateId, authorizationId) =>
        {
            var causation = DeterministicId.Derive("hold-expiry", certificateId, authorizationId, expiresAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            return Decide(new ExpireHold(certificateId, causation, expiresAt, authorizationId), null, null, null);
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
            return Decide(new CheckNotificationOverdue(certificateId, causation, due, notificationId), null, null, null);
        });
    }

    private IReadOnlyList<Outgoing> Decide(CertificateCommand command, string? replyTo, string? correlationId, SourceRecord? source, string? storeId = null)
    {
        var before = Keys.IsCertificate(command.CertificateId) ? WithHistory(Load(command.CertificateId), command) : null;
        if (command is RequestNotification again && before?.ClientId is { } clientId)
        {
            command = again with { Contact = ClientContacts.Of(clients, Codec, clientId) }; // the buyer's channel as CRM says now
        }

        var events = CertificateDecider.Decide(command, before, rules);
        var outputs = new List<Outgoing>();
        var eventIds = new List<string>();
        var certificate = before;
        var lastChange = -1;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            certificate = CertificateDecider.Evolve(certificate, e);
            var identity = certificate?.Identity ?? (command as IssueCertificate)?.Identity;
            var subject = new EventSubject(command.CertificateId, command.CertificateId, identity?.PoolId, identity?.Channel ?? ChannelOf(command), identity?.Currency, certificate?.Sequence ?? 0);
            var salt = CertificateDecider.IsDuplicate(e) ? StreamEvents.DuplicateSalt(source) : null;
            var envelope = StreamEvents.Envelope(subject, e.EventType, e.CausationId, e.At, correlationId, i, StreamEvents.Payload(e), salt, storeId);
            eventIds.Add(envelope.eventId);
            outputs.Add(Codec.Event(envelope, command.CertificateId));
            lastChange = CertificateDecider.ChangesState(e) ? i : lastChange;
        }

        if (events.Count == 0)
        {
            return outputs; // a duplicate or a timer with nothing to do: nothing to say, nothing to store
        }

        if (certificate is not null && lastChange >= 0)
        {
            outputs.Add(Codec.State(StateRecords.Of(certificate, eventIds[lastChange], events[lastChange].At)));
        }

        if (replyTo is not null)
        {
            outputs.Add(Codec.Reply(Replies.ForCertificate(command, events, eventIds, replyTo)));
        }

        if (source is { } origin && events[0] is CertificateOperationRejected { Reason: RejectionReason.NotFound or RejectionReason.CurrencyMismatch } refused)
        {
            // the refusal is on the stream for the payer; operations also get the original record to inspect or replay
            outputs.AddRange(DeadLetter(origin, refused.Reason == RejectionReason.NotFound ? C.DeadLetterReason.UNKNOWN_CERTIFICATE : C.DeadLetterReason.CURRENCY_MISMATCH, refused.Message));
        }

        if (certificate is not null)
        {
            foreach (var authorized in events.OfType<PaymentAuthorized>())
            {
                store.Put(Keys.Hold(authorized.ExpiresAt, command.CertificateId, authorized.PaymentId), []);
            }

            foreach (var requested in events.OfType<NotificationRequested>())
            {
                store.Put(Keys.Notification(requested.At + rules.NotificationOverdueAfter, command.CertificateId, requested.NotificationId), []);
            }

            Store(command.CertificateId, certificate, before);
        }

        return outputs;
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
