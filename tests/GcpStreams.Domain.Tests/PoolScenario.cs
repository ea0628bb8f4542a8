using System.Globalization;
using System.Text;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Domain.Tests;

/// <summary>A pool under test, with its slot store as a dictionary filled from the events (as the topology fills its store).</summary>
internal sealed class PoolScenario : IPoolSlots
{
    public const string Id = "pos-5000-rub";
    public static readonly PoolSettings Settings = new(Encoding.UTF8.GetBytes("a-test-numbering-key-32-bytes!!!"), MaxLoadBatch: 1_000);

    private readonly Dictionary<long, string> _slots = [];
    private int _next;

    public DateTimeOffset Now { get; set; } = CertificateScenario.Start;
    public Pool? State { get; private set; }
    public List<PoolEvent> History { get; } = [];

    public string CertificateAt(string poolId, long slot) => _slots[slot];

    public IReadOnlyList<PoolEvent> When(PoolCommand command)
    {
        var events = PoolDecider.Decide(command, State, this, Settings);
        foreach (var e in events)
        {
            State = PoolDecider.Evolve(State, e);
            switch (e)
            {
                case PoolLoaded loaded:
                    for (var i = 0; i < loaded.Numbers.Count; i++)
                    {
                        _slots[loaded.FirstSlot + i] = loaded.Numbers[i];
                    }

                    break;
                case PoolCertificateReturned returned:
                    _slots[returned.Slot] = returned.CertificateId;
                    break;
            }
        }

        History.AddRange(events);
        return events;
    }

    public string NextId(string prefix) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{++_next}");

    public static PoolScenario Loaded(int count, int lowWatermark = 0)
    {
        var s = new PoolScenario();
        s.When(s.Load(count, lowWatermark));
        return s;
    }

    public LoadPool Load(int count, int lowWatermark = 0, IReadOnlyList<string>? imported = null, Channel channel = Channel.Pos, long nominal = CertificateScenario.Nominal, int series = 7) =>
        new(Id, NextId("cmd"), Now, channel, nominal, CertificateScenario.Rub, lowWatermark, series, count, imported ?? []);

    public ReserveNext Reserve(Channel channel = Channel.Pos, long nominal = CertificateScenario.Nominal, TimeSpan? holdFor = null) =>
        new(Id, NextId("cmd"), Now, NextId("req"), channel, nominal, CertificateScenario.Rub, NextId("order"), holdFor ?? TimeSpan.FromMinutes(30));

    public string ReserveOne() => ((PoolCertificateReserved)When(Reserve())[0]).CertificateId;
}
