namespace GcpStreams.Client;

/// <summary>
/// Support CVC disclosures are capped per client per day, counted by the intake: every support <c>RevealCvc</c> of one client
/// is keyed on <c>GiftCertificates.Commands</c> by <see cref="RecordKey"/>, so all of them reach the same intake partition, whose
/// task keeps the client's count (as with <see cref="IdempotencyKeys"/>: no extra hop in front of the certificate's owner).
/// </summary>
public static class SupportDisclosureKeys
{
    /// <summary>What follows the caller in <see cref="RecordKey"/>.</summary>
    public const string Suffix = ":cvc-support";

    /// <summary>The record key of a support CVC disclosure by <paramref name="caller"/>: <c>{caller}:cvc-support</c>.</summary>
    public static string RecordKey(string caller) => caller + Suffix;
}
