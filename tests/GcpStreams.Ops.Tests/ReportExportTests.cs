using Confluent.Kafka;
using GcpStreams.Client;
using GcpStreams.SchemaRegistry;
using Parquet.Serialization;
using C = GcpStreams.Contracts;

namespace GcpStreams.Ops.Tests;

/// <summary><c>gcp-ops report-export</c>: the latest mart per day and channel of a period, as CSV or Parquet (no broker needed here).</summary>
public class ReportExportTests
{
    private static readonly Codec Codec = new(new InProcessSchemaRegistry());

    private static C.DailyReport Report(string day, C.Channel channel, long revision, long issued) => new()
    {
        day = day, channel = channel, timeZone = "Europe/Moscow", finalAt = new DateTime(2026, 11, 27, 23, 0, 0, DateTimeKind.Utc), revision = revision,
        issuedCount = issued, issuedMinor = issued * 5_000_00, liabilityMinor = issued * 5_000_00, reconciliationMismatches = ["issue", "capture"],
        pools = [new C.DailyPoolFigures { poolId = "pos-5000", issuedCount = issued, issuedMinor = issued * 5_000_00, issueBlockedCount = 1 }],
        stores = [], deadLetters = [new C.DailyDeadLetterCount { sourceTopic = "All_Payments", reason = "UNDECODABLE", count = 2 }],
        alerts = [new C.DailyAlertCount { kind = "INVALID_EVENT", count = 2 }],
        final = revision > 1,
        currencies =
        [
            new C.DailyCurrencyFigures { currency = "EUR", paymentsCapturesCount = 1, paymentsCapturesMinor = 7_00, reconciliationMismatches = ["capture"] },
            new C.DailyCurrencyFigures { currency = "RUB", issuedCount = issued, issuedMinor = issued * 5_000_00, liabilityMinor = issued * 5_000_00, reconciliationMismatches = ["issue"] },
        ],
    };

    private static ConsumeResult<byte[]?, byte[]?> Record(C.DailyReport? report, string key) => new()
    {
        Message = new Message<byte[]?, byte[]?> { Key = Topics.DailyReport.KeyBytes(key), Value = report is null ? null : Codec.Encode(Topics.DailyReport, report) },
    };

    private static List<DailyReportRow> Period() => ReportExport.Rows(ReportExport.Latest(
        [
            Record(Report("2026-11-27", C.Channel.POS, 1, 1), "2026-11-27|POS"),
            Record(Report("2026-11-27", C.Channel.POS, 2, 2), "2026-11-27|POS"), // the latest per key wins
            Record(Report("2026-11-26", C.Channel.INTERNET_STORE, 1, 3), "2026-11-26|INTERNET_STORE"),
            Record(Report("2026-11-25", C.Channel.POS, 1, 4), "2026-11-25|POS"), // before the period
            Record(Report("2026-11-26", C.Channel.POS, 1, 5), "2026-11-26|POS"),
            Record(null, "2026-11-26|POS"), // a tombstone removes it
        ], Codec), new DateOnly(2026, 11, 26), new DateOnly(2026, 11, 27), channel: null);

    [Test]
    public void Rows_AreTheLatestPerDayAndChannel_OfThePeriod_ByDayThenChannel()
    {
        var rows = Period();

        Assert.That(rows.Select(r => (r.Day, r.Channel, r.Revision, r.IssuedCount)), Is.EqualTo(new[] { ("2026-11-26", "INTERNET_STORE", 1L, 3L), ("2026-11-27", "POS", 2L, 2L) }));
        Assert.That(rows[1].ReconciliationMismatches, Is.EqualTo("issue;capture"));
        Assert.That(rows[1].DeadLetters, Is.EqualTo("All_Payments|UNDECODABLE=2"));
    }

    [Test]
    public void Csv_HasAHeaderAndOneLinePerRow_AndParquet_ReadsBackTheSameRows()
    {
        var rows = Period();
        var dir = Directory.CreateTempSubdirectory("gcp-report-export-").FullName;
        try
        {
            ReportExport.Write(rows, "csv", Path.Combine(dir, "r.csv"));
            ReportExport.Write(rows, "parquet", Path.Combine(dir, "r.parquet"));

            var lines = File.ReadAllLines(Path.Combine(dir, "r.csv"));
            Assert.That(lines[0], Does.StartWith("day,channel,timeZone,finalAt,revision,issuedCount,issuedMinor"));
            Assert.That(lines.Skip(1).Select(l => l.Split(',')[0] + "|" + l.Split(',')[1]), Is.EqualTo(new[] { "2026-11-26|INTERNET_STORE", "2026-11-27|POS" }));
            var back = ParquetSerializer.DeserializeAsync<DailyReportRow>(Path.Combine(dir, "r.parquet")).GetAwaiter().GetResult().Data;
            Assert.That(back.Select(r => (r.Day, r.Channel, r.IssuedMinor, r.LiabilityMinor, r.Pools)), Is.EqualTo(rows.Select(r => (r.Day, r.Channel, r.IssuedMinor, r.LiabilityMinor, r.Pools))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Currencies_OneRowPerDayChannelAndCurrency_NeverAddedTogether()
    {
        var rows = ReportExport.CurrencyRows(Period());

        Assert.That(rows.Select(r => (r.Day, r.Channel, r.Currency)), Is.EqualTo(new[]
        {
            ("2026-11-26", "INTERNET_STORE", "EUR"), ("2026-11-26", "INTERNET_STORE", "RUB"), ("2026-11-27", "POS", "EUR"), ("2026-11-27", "POS", "RUB"),
        }));
        Assert.That((rows[3].IssuedMinor, rows[3].LiabilityMinor, rows[3].Final, rows[3].ReconciliationMismatches), Is.EqualTo((2 * 5_000_00L, 2 * 5_000_00L, true, "issue")));
        Assert.That((rows[2].PaymentsCapturesMinor, rows[2].IssuedMinor), Is.EqualTo((7_00L, 0L)));
        Assert.That(Period()[1].Currencies, Is.EqualTo("EUR;RUB"));
    }

    [Test]
    public void Control_PerDay_DeadLettersBySourceTopicAndReason_ThenAlertsByKind_AsCsvAndParquet()
    {
        var rows = ReportExport.ControlRows(Period());

        Assert.That(rows.Select(r => (r.Day, r.Item, r.SourceTopic, r.Reason, r.Kind, r.Count)), Is.EqualTo(new (string, string, string?, string?, string?, long)[]
        {
            ("2026-11-26", "deadLetter", "All_Payments", "UNDECODABLE", null, 2), ("2026-11-26", "alert", null, null, "INVALID_EVENT", 2),
            ("2026-11-27", "deadLetter", "All_Payments", "UNDECODABLE", null, 2), ("2026-11-27", "alert", null, null, "INVALID_EVENT", 2),
        }));
        var dir = Directory.CreateTempSubdirectory("gcp-report-control-").FullName;
        try
        {
            Assert.That(ReportExport.Write(rows, "csv", Path.Combine(dir, "c.csv")), Is.EqualTo(4));
            ReportExport.Write(rows, "parquet", Path.Combine(dir, "c.parquet"));

            var lines = File.ReadAllLines(Path.Combine(dir, "c.csv"));
            Assert.That(lines[..2], Is.EqualTo(new[] { "day,item,sourceTopic,reason,kind,count", "2026-11-26,deadLetter,All_Payments,UNDECODABLE,,2" }));
            var back = ParquetSerializer.DeserializeAsync<DailyControlRow>(Path.Combine(dir, "c.parquet")).GetAwaiter().GetResult().Data;
            Assert.That(back.Select(r => (r.Day, r.Item, r.Kind, r.Count)), Is.EqualTo(rows.Select(r => (r.Day, r.Item, r.Kind, r.Count))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase(new[] { "report-export", "--bootstrap", "b:1", "--schema-registry", "http://r", "--from", "2026-11-27", "--to", "2026-11-27", "--part", "stores" }, "--part is 'stores'; it must be marts, currencies, control.")]
    [TestCase(new[] { "report-export", "--bootstrap", "b:1", "--schema-registry", "http://r", "--to", "2026-11-27" }, "--from is required.")]
    [TestCase(new[] { "report-export", "--bootstrap", "b:1", "--schema-registry", "http://r", "--from", "2026-11-31", "--to", "2026-11-27" }, "--from is '2026-11-31'; it must be a day as yyyy-MM-dd.")]
    [TestCase(new[] { "report-export", "--bootstrap", "b:1", "--schema-registry", "http://r", "--from", "2026-11-28", "--to", "2026-11-27" }, "--to (2026-11-27) is before --from (2026-11-28).")]
    [TestCase(new[] { "report-export", "--bootstrap", "b:1", "--schema-registry", "http://r", "--from", "2026-11-27", "--to", "2026-11-27", "--format", "xlsx" }, "--format is 'xlsx'; it must be csv or parquet.")]
    [TestCase(new[] { "report-export", "--bootstrap", "b:1", "--schema-registry", "http://r", "--from", "2026-11-27", "--to", "2026-11-27", "--channel", "SHOP" }, "--channel 'SHOP' is not a channel")]
    public void BadArguments_Exit2_NamingWhatIsWrong(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.That(OpsCommands.Run(args, output, error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.StartWith("gcp-ops: " + message));
    }
}
