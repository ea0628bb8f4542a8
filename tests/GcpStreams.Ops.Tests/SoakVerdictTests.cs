using GcpStreams.Reliability;

namespace GcpStreams.Ops.Tests;

/// <summary>The soak phase's verdict (make reliability --phase soak): the linear fit, the warm-up, the bounds, the inputs.</summary>
public sealed class SoakVerdictTests
{
    private static SoakSample Sample(double minutes, double rss, double reservationP99, double paymentP99, params double[] moreRss) =>
        new(minutes, [rss, .. moreRss], 20, reservationP99 / 2, reservationP99, 40, paymentP99 / 2, paymentP99, "gcp-streams-pools-changelog[0]", 1.5, 0)
        {
            ReservationLatencies = Interval(20, reservationP99),
            PaymentLatencies = Interval(40, paymentP99),
        };

    /// <summary>An interval's latencies: one at <paramref name="p99"/>, the rest at half of it (so a window's pooled p99 is one of the former).</summary>
    private static double[] Interval(int count, double p99) => [.. Enumerable.Repeat(p99 / 2, count - 1), p99];

    /// <summary>30 minutes sampled every 10 s, RSS and p99s given as functions of the minute.</summary>
    private static List<SoakSample> Run(Func<double, double> rss, Func<double, double> reservationP99, Func<double, double> paymentP99) =>
        [.. Enumerable.Range(1, 180).Select(i => i / 6.0).Select(m => Sample(m, rss(m), reservationP99(m), paymentP99(m)))];

    [Test]
    public void The_fit_finds_the_slope_and_intercept_of_a_line()
    {
        var (slope, intercept) = SoakVerdict.Fit([(0, 100), (1, 102), (2, 104), (3, 106)]);

        Assert.That(slope, Is.EqualTo(2).Within(1e-9));
        Assert.That(intercept, Is.EqualTo(100).Within(1e-9));
        Assert.That(SoakVerdict.Fit([(5, 7), (5, 9)]), Is.EqualTo((0.0, 8.0)), "one x only: no slope");
    }

    [Test]
    public void Noise_around_a_level_is_flat()
    {
        var noise = new Random(15);
        var samples = Run(_ => 420 + noise.Next(-30, 30), _ => 180 + noise.Next(-60, 60), _ => 250 + noise.Next(-80, 80));

        var trends = SoakVerdict.Judge(samples, 30);

        Assert.That(trends.Select(t => t.Name), Is.EqualTo(new[] { "RSS of instance a", "reservation p99", "payment p99" }));
        Assert.That(trends.Select(t => t.Flat), Is.All.True, string.Join("\n", trends));
        Assert.That(SoakVerdict.Of(trends), Is.EqualTo("flat"));
    }

    [Test]
    public void A_memory_leak_is_not_flat_even_under_noise()
    {
        var noise = new Random(16);
        var samples = Run(m => 400 + (3 * m) + noise.Next(-20, 20), _ => 180, _ => 250); // +3 MiB a minute: ~84 MiB over the window

        var trends = SoakVerdict.Judge(samples, 30);

        Assert.That(trends[0].SlopePerMinute, Is.EqualTo(3).Within(0.3));
        Assert.That(trends[0].Flat, Is.False, trends[0].ToString());
        Assert.That(trends[0].ToString(), Does.Contain("NOT flat"));
        Assert.That(SoakVerdict.Of(trends), Is.EqualTo("NOT flat"));
    }

    [Test]
    public void A_p99_that_falls_as_early_spikes_fade_is_flat_it_does_not_grow()
    {
        var falling = SoakVerdict.Judge(Run(_ => 400, m => 600 - (10 * m), _ => 250), 30); // -280 ms over the window

        Assert.That(falling[1].Change, Is.LessThan(-200));
        Assert.That(falling[1].Flat, Is.True, falling[1].ToString());
    }

    [Test]
    public void A_p99_that_climbs_is_not_flat_and_one_within_the_floor_is()
    {
        var climbing = SoakVerdict.Judge(Run(_ => 400, m => 100 + (10 * m), _ => 250), 30); // +280 ms over the window
        var slight = SoakVerdict.Judge(Run(_ => 400, m => 100 + m, _ => 250), 30); // +28 ms: within the 50 ms floor

        Assert.That(climbing[1].Flat, Is.False, climbing[1].ToString());
        Assert.That(slight[1].Flat, Is.True, slight[1].ToString());
        Assert.That(slight[1].Bound, Is.EqualTo(SoakVerdict.P99FloorMs), "10 % of a ~114 ms mean is below the floor");
    }

    [Test]
    public void A_p99_pools_the_latencies_of_a_window_so_one_stray_spike_per_interval_is_not_a_trend()
    {
        // 20 reservations per 10 s at 50 ms; from minute 15 one interval in twelve holds a single 900 ms spike. Each interval's own
        // "p99" is its maximum: those samples jump to 900 ms and their line climbs; pooled over 5-minute windows (600 latencies,
        // the p99 their 6th largest; the last window 380, the 4th), at most three spikes a window stay above it: the p99 stays level.
        var samples = Enumerable.Range(1, 180).Select(i => (Index: i, Minutes: i / 6.0)).Select(s => Sample(s.Minutes, 400, 50, 50) with
        {
            ReservationLatencies = [.. Enumerable.Repeat(50.0, 19), s.Minutes >= 15 && s.Index % 12 == 0 ? 900 : 50],
        }).ToList();

        var perInterval = SoakVerdict.Judge("per-interval maximum", "ms",
            samples.Select(s => (s.Minutes, Latencies.Percentile(s.ReservationLatencies, 99))), 30, SoakVerdict.P99FloorMs);
        var trends = SoakVerdict.Judge(samples, 30);

        Assert.That(perInterval.Flat, Is.False, perInterval.ToString());
        Assert.That(trends[1].Name, Is.EqualTo("reservation p99"));
        Assert.That(trends[1].Flat, Is.True, trends[1].ToString());
        Assert.That(trends[1].Points, Is.EqualTo(6), "windows of 5 minutes from minute 2: [2,7) … [27,30]");
        Assert.That(trends[1].Mean, Is.EqualTo(50));
    }

    [Test]
    public void A_slow_rate_pools_longer_windows_until_each_holds_enough_latencies()
    {
        // four latencies per 10 s (24 a minute): a p99 point needs 200, so a window holds 50 samples, minute 2.0 to 10.17, rather
        // than 5 minutes — three points up to minute 26.83; the tail after it (19 samples, 76 latencies) is left out. Two per interval: one point.
        var slow = Enumerable.Range(1, 180).Select(i => (Minutes: i / 6.0, Latencies: new double[] { 40, 45, 50, 60 }));
        var slower = Enumerable.Range(1, 180).Select(i => (Minutes: i / 6.0, Latencies: new double[] { 40, 60 }));

        var points = SoakVerdict.PooledP99(slow, 30).ToList();

        Assert.That(points, Has.Count.EqualTo(3));
        Assert.That(points.Select(p => p.Value), Is.All.EqualTo(60));
        Assert.That(points[0].Minutes, Is.EqualTo(6.08).Within(0.01), "the mean minute of 2.0 … 10.17");
        Assert.That(SoakVerdict.PooledP99(slower, 30).Count(), Is.EqualTo(1));
        Assert.That(SoakVerdict.P99Window(30), Is.EqualTo(5));
        Assert.That(SoakVerdict.P99Window(3), Is.EqualTo(1), "at least a minute");
    }

    [Test]
    public void The_warm_up_is_left_out_of_the_fit()
    {
        // RSS climbs steeply in the first two minutes (JIT, caches), then stays level
        var samples = Run(m => m < 2 ? 150 + (100 * m) : 350, _ => 180, _ => 250);

        var trends = SoakVerdict.Judge(samples, 30);

        Assert.That(trends[0].Flat, Is.True, trends[0].ToString());
        Assert.That(trends[0].SlopePerMinute, Is.EqualTo(0).Within(1e-9));
        Assert.That(SoakVerdict.WarmUp(30), Is.EqualTo(2));
        Assert.That(SoakVerdict.WarmUp(5), Is.EqualTo(1), "a fifth of a shorter run");
    }

    [Test]
    public void Too_few_samples_or_a_lost_instance_are_not_flat()
    {
        var short_ = SoakVerdict.Judge([Sample(2.5, 400, 100, 100), Sample(2.7, 400, 100, 100)], 3);
        Assert.That(short_.Select(t => t.Judged), Is.All.False);
        Assert.That(short_[0].ToString(), Does.Contain("too few to judge"));
        Assert.That(SoakVerdict.Of(short_), Is.EqualTo("NOT flat"));

        // instance b's RSS is NaN (gone) after minute 3: its series is judged on what it has, instance a's whole
        var samples = Enumerable.Range(1, 60).Select(i => i / 6.0).Select(m => Sample(m, 400, 100, 100, m < 3 ? 380 : double.NaN)).ToList();
        var trends = SoakVerdict.Judge(samples, 10);
        Assert.That(trends.Select(t => t.Name), Is.EqualTo(new[] { "RSS of instance a", "RSS of instance b", "reservation p99", "payment p99" }));
        Assert.That(trends[1].Points, Is.EqualTo(6), "minutes 2.0-2.83 after a 2-minute warm-up");
        Assert.That(trends[2].Judged, Is.True, "p99s pooled over 1.67-minute windows from minute 2, about 200 latencies each");
    }

    [Test]
    public void Percentiles_are_nearest_rank_and_an_interval_drains_its_latencies()
    {
        var latencies = new Latencies();
        foreach (var ms in Enumerable.Range(1, 100).Reverse())
        {
            latencies.Add(Latencies.Reservation, TimeSpan.FromMilliseconds(ms));
        }

        var interval = latencies.Drain(Latencies.Reservation);

        Assert.That(Latencies.Percentile(interval, 50), Is.EqualTo(50));
        Assert.That(Latencies.Percentile(interval, 99), Is.EqualTo(99));
        Assert.That(latencies.Drain(Latencies.Reservation), Is.Empty, "the next interval starts empty");
        Assert.That(double.IsNaN(Latencies.Percentile([], 99)), Is.True);
        Assert.That(latencies.Drain(Latencies.Payment), Is.Empty);
    }

    [Test]
    public void The_rss_is_read_from_vmrss_and_each_sample_is_a_csv_row()
    {
        Assert.That(SoakPhase.ParseVmRssMiB(["Name:\tdotnet", "VmPeak:\t 900000 kB", "VmRSS:\t  409600 kB", "RssAnon:\t 300000 kB"]), Is.EqualTo(400));
        Assert.That(double.IsNaN(SoakPhase.ParseVmRssMiB(["Name:\tzombie"])), Is.True);
        Assert.That(SoakPhase.ParseStatusMiB(["VmHWM:\t  512000 kB", "VmRSS:\t  409600 kB"], "VmHWM:"), Is.EqualTo(500), "the peak, for the memory phase");

        var row = Sample(1.5, 400.25, 120, 300, 390).Csv();

        Assert.That(SoakSample.CsvHeader.Split(',').Length, Is.EqualTo(row.Split(',').Length));
        Assert.That(row, Is.EqualTo("1.5,400.25;390,20,60,120,40,150,300,gcp-streams-pools-changelog[0],1.5,0,,"));
        var withCpu = Sample(1.5, 400.25, 120, 300, 390) with { BrokerCores = 0.25, InstanceCores = [0.5, 0.25] };
        Assert.That(withCpu.Csv(), Does.EndWith(",0,0.25,0.5;0.25"));
    }

    [Test]
    public void The_cpu_of_a_process_is_its_user_and_system_time_from_proc_stat()
    {
        // fields after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        const string stat = "4242 (gcp broker) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 566 0 0 20 0 30 0 123 456 789";
        Assert.That(CpuMeter.ParseStatSeconds(stat), Is.EqualTo(18.0));
        Assert.That(CpuMeter.ParseStatSeconds(stat.Replace("(gcp broker)", "(a) b) c)", StringComparison.Ordinal)), Is.EqualTo(18.0), "a command may hold ') '");
    }

    [Test]
    public void Pools_are_sized_for_the_whole_run_with_a_quarter_to_spare()
    {
        Assert.That(SoakPhase.PoolSizeFor(2, 30, 4), Is.EqualTo(1145)); // 3,600 customers over 4 pools = 900, +25 %, +20
        Assert.That(SoakPhase.PoolSizeFor(50, 600, 1), Is.EqualTo(10_000), "at most one load");
    }
}
