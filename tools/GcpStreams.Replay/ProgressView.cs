using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace GcpStreams.Replay;

/// <summary>Where a replay is: records done of the total, rate, lag (records left) and the time left at that rate.</summary>
public sealed record ProgressSample(string Phase, long Done, long Total, double RecordsPerSecond, TimeSpan? Eta)
{
    public long Lag => Math.Max(0, Total - Done);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Phase}: {Done:N0}/{Total:N0} records, {RecordsPerSecond:N0} records/s, lag {Lag:N0}, ETA {(Eta is { } eta ? eta.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--")}");
}

/// <summary>Records/s since the first sample that moved, and the time left at that rate.</summary>
public sealed class RateMeter
{
    private readonly Stopwatch clock = new();
    private long first = -1;

    public ProgressSample Sample(string phase, long done, long total)
    {
        if (first < 0)
        {
            first = done;
            clock.Start();
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? (done - first) / seconds : 0;
        return new ProgressSample(phase, done, total, rate, rate > 0 ? TimeSpan.FromSeconds(Math.Max(0, total - done) / rate) : null);
    }

    public TimeSpan Elapsed => clock.Elapsed;
}

/// <summary>
/// Shows progress: Spectre.Console's live progress bar on an interactive terminal (description with records/s and lag, bar,
/// percentage, ETA), plain lines every few seconds otherwise (logs, CI, tests, <c>--plain</c>).
/// </summary>
public sealed class ProgressView(TextWriter output, bool plain)
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(5);

    public bool Interactive => !plain && AnsiConsole.Profile.Capabilities.Interactive && ReferenceEquals(output, Console.Out);

    /// <summary>Runs <paramref name="work"/>, showing what it reports; returns its result.</summary>
    public async Task<T> TrackAsync<T>(string title, Func<IProgress<ProgressSample>, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Interactive)
        {
            var last = Stopwatch.StartNew();
            ProgressSample? latest = null;
            var result = await work(new Reporter(s =>
            {
                latest = s;
                if (last.Elapsed >= PlainEvery)
                {
                    output.WriteLine($"{title}: {s}");
                    last.Restart();
                }
            }));
            if (latest is not null)
            {
                output.WriteLine($"{title}: {latest}");
            }

            return result;
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                var result = await work(new Reporter(s =>
                {
                    task.MaxValue = Math.Max(1, s.Total);
                    task.Value = Math.Min(s.Done, task.MaxValue);
                    task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"{title} {s.Phase}: {s.Done:N0}/{s.Total:N0}, {s.RecordsPerSecond:N0} rec/s, lag {s.Lag:N0}"));
                }));
                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            });
    }

    private sealed class Reporter(Action<ProgressSample> handler) : IProgress<ProgressSample>
    {
        public void Report(ProgressSample value) => handler(value);
    }
}
