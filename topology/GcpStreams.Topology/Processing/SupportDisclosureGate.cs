using GcpStreams.Topology.Internal;
using Streamiz.Kafka.Net.State;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// The daily cap of support CVC disclosures per client, kept by the intake task that reads the partition of
/// <c>GiftCertificates.Commands</c> the client's support disclosures are routed to (<see cref="SupportDisclosureKeys.RecordKey"/>):
/// the single owner of each client's count, whatever API instance the calls came through, decided exactly once with the
/// forwarding. Each disclosure the intake lets through to the certificate's owner is one entry
/// <c>s/{client}/{ms:D15}/{requestId}</c> in the intake's store, with a retention entry that the intake's sweep
/// (<see cref="IdempotencyGate.Forget"/>) deletes 24 hours later: at most the cap per client in any 24 hours, so the state is
/// bounded. What is counted is a request let through, whatever the certificate's owner then decides (a ticket used already,
/// the certificate's own cap, a locked certificate): a client that probes spends its cap as one that discloses.
/// </summary>
/// <param name="store">The intake's store (shared with <see cref="IdempotencyGate"/>, under its own prefix).</param>
/// <param name="perClientPerDay">The cap: most support disclosures one client may ask for in any 24 hours.</param>
internal sealed class SupportDisclosureGate(IKeyValueStore<string, byte[]> store, int perClientPerDay)
{
    /// <summary>The rolling window of the cap.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(1);

    private const string Prefix = "s/";

    /// <summary>The cap.</summary>
    public int PerClientPerDay => perClientPerDay;

    /// <summary>
    /// Lets the disclosure <paramref name="requestId"/> of <paramref name="client"/> at <paramref name="at"/> through when the
    /// client asked for fewer than the cap in the 24 hours before, and counts it (null); otherwise counts nothing and returns
    /// how many the client asked for in those 24 hours.
    /// </summary>
    public int? Refusal(string client, string requestId, DateTimeOffset at)
    {
        var clientPrefix = ClientPrefix(client);
        var counted = 0;
        // every entry of the client after at - 24h ('~' sorts after the digits of any time)
        using (var range = store.Range(TimeIndex.Key(clientPrefix, at - Window + TimeSpan.FromMilliseconds(1), string.Empty), clientPrefix + "~"))
        {
            while (counted < perClientPerDay && range.MoveNext())
            {
                counted++;
            }
        }

        if (counted >= perClientPerDay)
        {
            return counted;
        }

        var entry = TimeIndex.Key(clientPrefix, at, requestId);
        store.Put(entry, []);
        store.Put(TimeIndex.Key(IdempotencyGate.RetentionPrefix, at + Window, entry), []);
        return null;
    }

    /// <summary><c>s/{client}/</c>, the client escaped so that it holds no '/' (one client's entries never run into another's).</summary>
    private static string ClientPrefix(string client) => $"{Prefix}{Uri.EscapeDataString(client)}/";
}
