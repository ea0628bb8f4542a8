using Avro.IO;
using Avro.Specific;
using GcpStreams.Contracts;

namespace GcpStreams.Api.ReadModel.Storage;

/// <summary>
/// The values the read model stores: a state as Avro binary of its own schema (the record as consumed, without the
/// registry's 5-byte header), a history entry and a pool in a small binary layout of their own.
/// </summary>
internal static class Values
{
    /// <summary>
    /// Changes whenever a stored layout changes (here or in the CertificateState schema): a database of another format is
    /// rebuilt from the topics.
    /// </summary>
    public static readonly string Format = "2:" + Avro.SchemaNormalization.ParsingFingerprint64(CertificateState._SCHEMA).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    [ThreadStatic]
    private static MemoryStream? buffer;

    private static readonly SpecificDatumWriter<CertificateState> StateWriter = new(CertificateState._SCHEMA);
    private static readonly SpecificDatumReader<CertificateState> StateReader = new(CertificateState._SCHEMA, CertificateState._SCHEMA);

    public static byte[] State(CertificateState state)
    {
        var stream = buffer ??= new MemoryStream(512);
        stream.SetLength(0);
        StateWriter.Write(state, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    public static CertificateState State(byte[] bytes) =>
        StateReader.Read(null!, new BinaryDecoder(new MemoryStream(bytes, writable: false)));

    public static byte[] History(HistoryEntry h)
    {
        var stream = buffer ??= new MemoryStream(512);
        stream.SetLength(0);
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(h.EventId);
            w.Write(h.EventType);
            w.Write(h.OccurredAt.UtcTicks);
            w.Write(h.Sequence);
            Optional(w, h.PoolId);
            w.Write((byte)h.Channel);
            Optional(w, h.Currency);
            Optional(w, h.CorrelationId);
            Optional(w, h.AmountMinor);
            Optional(w, h.BalanceAfterMinor);
            Optional(w, h.HeldAfterMinor);
            Optional(w, h.Detail);
            Optional(w, h.StoreId);
        }

        return stream.ToArray();
    }

    public static HistoryEntry History(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), System.Text.Encoding.UTF8);
        return new HistoryEntry(r.ReadString(), r.ReadString(), new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero), r.ReadInt64(),
            OptionalString(r), (Channel)r.ReadByte(), OptionalString(r), OptionalString(r), OptionalLong(r), OptionalLong(r), OptionalLong(r),
            OptionalString(r), OptionalString(r));
    }

    public static void Optional(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    public static void Optional(BinaryWriter w, long? value)
    {
        w.Write(value.HasValue);
        if (value is { } v)
        {
            w.Write(v);
        }
    }

    public static string? OptionalString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    public static long? OptionalLong(BinaryReader r) => r.ReadBoolean() ? r.ReadInt64() : null;

    public static int? OptionalInt(BinaryReader r) => r.ReadBoolean() ? (int)r.ReadInt64() : null;
}
