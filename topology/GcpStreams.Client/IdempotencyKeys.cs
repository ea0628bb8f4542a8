namespace GcpStreams.Client;

/// <summary>
/// An Idempotency-Key is its caller's: one key is one request of one client, across every pool and write kind. A command
/// that carries one is keyed on <c>GiftCertificates.Commands</c> by <see cref="Scoped"/>, so all uses of the key reach the
/// same intake partition, whose task keeps the key's claim (no extra hop in front of the pools).
/// </summary>
public static class IdempotencyKeys
{
    /// <summary>The key as the service knows it, and the command's record key: <c>{caller}:{key}</c>.</summary>
    public static string Scoped(string caller, string idempotencyKey) => $"{caller}:{idempotencyKey}";
}
