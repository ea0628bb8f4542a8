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
/// </summary>
public sealed class CertificateProcessor : RecordTransformer
{
    private IKeyValueStore<string, byte[]> store = null!;

    /// <summary>
    /// For Streamiz's <c>TransformerBuilder.Transformer&lt;T&gt;(params)</c>, which creates a prototype with <c>new T()</c> and then one
    /// instance per task through the constructor that takes the parameters. The prototype never processes a record.
    /// </summary>
    public CertificateProcessor()
        : base(null!)
    {
    }

    public CertificateProcessor(Codec codec)
        : base(codec)
    {
    }

    public override void Init(ProcessorContext<byte[], Outgoing> context)
    {
        base.Init(context);
        store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Certificates);
    }

    protected override IReadOnlyList<Outgoing> Handle(Record<byte[], byte[]> record, SourceRecord source)
    {
        var input = InternalJson.Deserialize<CertificateInput>(record.Value);
        var command = input.Command;
        var before = store.Get(command.CertificateId) is { } bytes ? InternalJson.Deserialize<CertificateSnapshot>(bytes).ToDomain() : null;
        var events = CertificateDecider.Decide(command, before);
        var outputs = new List<Outgoing>();
        var eventIds = new List<string>();
        var certificate = before;
        var changed = false;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            certificate = CertificateDecider.Evolve(certificate, e);
            var identity = certificate?.Identity ?? (command as IssueCertificate)?.Identity;
            var subject = new EventSubject(command.CertificateId, command.CertificateId, identity?.PoolId, identity?.Channel ?? ChannelOf(command), identity?.Currency, certificate?.Sequence ?? 0);
            var envelope = StreamEvents.Envelope(subject, e.EventType, e.CausationId, e.At, input.CorrelationId, i, StreamEvents.Payload(e));
            eventIds.Add(envelope.eventId);
            outputs.Add(Codec.Event(envelope, command.CertificateId));
            changed |= e is not (CertificateOperationRejected or CertificateAlert);
        }

        if (events.Count == 0)
        {
            return outputs; // a duplicate: nothing to say, nothing to store
        }

        if (certificate is not null && changed)
        {
            outputs.Add(Codec.State(StateRecords.Of(certificate, eventIds[^1], events[^1].At)));
        }

        if (input.ReplyTo is not null)
        {
            outputs.Add(Codec.Reply(Replies.ForCertificate(command, events, eventIds, input.ReplyTo)));
        }

        if (input.Source is { } origin && events[0] is CertificateOperationRejected { Reason: RejectionReason.NotFound or RejectionReason.CurrencyMismatch } refused)
        {
            // the refusal is on the stream for the payer; operations also get the original record to inspect or replay
            outputs.Add(DeadLetter(origin, refused.Reason == RejectionReason.NotFound ? C.DeadLetterReason.UNKNOWN_CERTIFICATE : C.DeadLetterReason.CURRENCY_MISMATCH, refused.Message));
        }

        if (certificate is not null)
        {
            store.Put(command.CertificateId, InternalJson.Serialize(CertificateSnapshot.From(certificate)));
        }

        return outputs;
    }

    private static Channel ChannelOf(CertificateCommand command) => command switch
    {
        AuthorizePayment x => x.Channel,
        CapturePayment x => x.Channel,
        VoidAuthorization x => x.Channel,
        RefundPayment x => x.Channel,
        _ => Channel.Unknown,
    };
}
