using GcpStreams.Client;
using GcpStreams.Domain;
using GcpStreams.Domain.Certificates;
using GcpStreams.Topology.Internal;
using GcpStreams.Topology.Mapping;
using C = GcpStreams.Contracts;

namespace GcpStreams.Topology.Processing;

/// <summary>The intake's part of a support CVC disclosure: the per-client daily cap, before the certificate's owner decides.</summary>
public sealed partial class IntakeTransformer
{
    /// <summary>
    /// A CVC disclosure goes to its certificate's owner. A support disclosure must first pass its client's daily cap, kept here:
    /// the command is keyed by its caller's key (<see cref="SupportDisclosureKeys.RecordKey"/>), so this task owns the client's
    /// count. Beyond the cap it is refused at once (REJECTED, CVC_DISCLOSURE_NOT_ALLOWED) with a CVC_DISCLOSURE_LIMIT alert keyed
    /// by the client; the certificate's owner never sees it.
    /// </summary>
    private IReadOnlyList<Outgoing> ToCertificateWithinClientCap(RevealCvc reveal, C.GiftCertificateCommand api, SourceRecord source)
    {
        var forward = ToCertificate(reveal, api.correlationId, source, api.replyTo, reveal.RequestedBy); // before the count: nothing may throw after it
        if (reveal.Kind == DisclosureKind.Support)
        {
            var caller = Require(api.caller, "caller (a support disclosure is counted against its client)");
            var expected = SupportDisclosureKeys.RecordKey(caller);
            var recordKey = source.Key is { } k ? System.Text.Encoding.UTF8.GetString(k) : null;
            if (recordKey != expected)
            {
                throw new InvalidInputException(C.DeadLetterReason.INVALID_CONTENT,
                    $"a support CVC disclosure must be keyed by '{{caller}}{SupportDisclosureKeys.Suffix}' ('{expected}'), not '{recordKey}'");
            }

            if (supportDisclosures.Refusal(caller, reveal.RequestId, reveal.At) is { } counted)
            {
                var cap = supportDisclosures.PerClientPerDay;
                return
                [
                    Codec.Reply(Replies.Refused(api, nameof(C.RejectionReason.CVC_DISCLOSURE_NOT_ALLOWED),
                        $"client '{caller}' reached its daily cap of {cap} support CVC disclosures ({counted} in the last 24 hours, "
                        + "Gcp:SupportCvcDisclosuresPerClientPerDay); the cap counts every support disclosure the client asked for")),
                    ClientCapAlert(reveal, caller, cap, api.correlationId),
                ];
            }
        }

        return [forward];
    }

    /// <summary>The CVC_DISCLOSURE_LIMIT alert of a client over its daily cap: keyed by the client, about no certificate's ledger.</summary>
    private Outgoing ClientCapAlert(RevealCvc reveal, string caller, int cap, string? correlationId)
    {
        var subject = new EventSubject(caller, null, null, Domain.Channel.Unknown, null, 0);
        var alert = StreamEvents.Alert(AlertKind.CvcDisclosureLimit, AlertSeverity.Warning,
            $"client {caller}{(reveal.Agent is null ? string.Empty : $" (agent {reveal.Agent})")} asked for the CVC of certificate {reveal.CertificateId} "
            + $"beyond its {cap} support disclosures a day (ticket {reveal.SupportTicket})",
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["clientId"] = caller,
                ["certificateId"] = reveal.CertificateId,
                ["supportTicket"] = reveal.SupportTicket ?? string.Empty,
                ["agent"] = reveal.Agent ?? string.Empty,
                ["cap"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        return Codec.Event(StreamEvents.Envelope(subject, EventTypes.Alert, reveal.RequestId, reveal.At, correlationId, 0, alert), caller);
    }
}
