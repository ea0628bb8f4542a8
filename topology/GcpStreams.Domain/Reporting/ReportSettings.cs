namespace GcpStreams.Domain.Reporting;

/// <summary>
/// How the BI marts cut and close days: the business day is the calendar day of an event's <c>occurredAt</c> in
/// <see cref="Zone"/>; a day is final <see cref="Grace"/> after its end (later input is a correction); a reconciliation
/// mismatch that lasts <see cref="Tolerance"/> raises an alert.
/// </summary>
public sealed record ReportSettings
{
    /// <summary>The default business time zone.</summary>
    public const string DefaultTimeZoneId = "Europe/Moscow";

    /// <summary>The default grace period for late events.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromHours(2);

    /// <summary>The default tolerance window of a reconciliation mismatch.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(15);

    /// <summary>How long after a day is final its records are still recognised as duplicates (the duplicate tracking of the day is then dropped).</summary>
    public static readonly TimeSpan DefaultDuplicateRetention = TimeSpan.FromDays(7);

    /// <summary>The business time zone (IANA id, e.g. Europe/Moscow).</summary>
    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.FindSystemTimeZoneById(DefaultTimeZoneId);

    /// <summary>How long after its end a day still takes late events as ordinary ones; after it they are corrections.</summary>
    public TimeSpan Grace { get; init; } = DefaultGrace;

    /// <summary>How long Orders and the certificate events may disagree for a (day, channel) before an alert is raised.</summary>
    public TimeSpan Tolerance { get; init; } = DefaultTolerance;

    /// <summary>
    /// How long after a day became final the identities of its Orders and Payments records are kept to recognise a duplicate; then
    /// they are dropped (the tracking is bounded by the days still open plus this retention).
    /// </summary>
    public TimeSpan DuplicateRetention { get; init; } = DefaultDuplicateRetention;
}

/// <summary>Business days in a time zone: pure calendar arithmetic, no clock.</summary>
public static class BusinessDay
{
    /// <summary>The business day of the instant <paramref name="at"/> in <paramref name="zone"/>.</summary>
    public static DateOnly Of(DateTimeOffset at, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);

    /// <summary>The instant <paramref name="day"/> ends in <paramref name="zone"/> (midnight of the next day there).</summary>
    public static DateTimeOffset End(DateOnly day, TimeZoneInfo zone)
    {
        var local = DateTime.SpecifyKind(day.AddDays(1).ToDateTime(TimeOnly.MinValue), DateTimeKind.Unspecified);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
    }

    /// <summary>The day as text, <c>yyyy-MM-dd</c> (the key format of the report topic).</summary>
    public static string Format(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses <c>yyyy-MM-dd</c>.</summary>
    public static bool TryParse(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out day);
}
