using System.Globalization;
using System.Text;
using GcpStreams.Domain.Pools;

namespace GcpStreams.Domain.Tests;

/// <summary>A pool under test, with its slot store as a dictionary filled from the events (as the topology fills its store).</summary>
internal sealed class PoolScenario : IPoolStore
{
    public const string Id = "pos-5000-rub";
    public static readonly PoolSettings Settings = new(Encoding.UTF8.GetBytes("a-test-numbering-key-32-bytes!!!"), MaxLoadBatch: 1_000, MaxOpenReservationsPerCaller: 3);

    private readonly Dictionary<long, PoolSlot> _slots = [];
    private readonly Dictionary<string, Reservation> _reservations = [];
    private readonly Dictionary<string, KeyedReservation> _keyed = [];
    private readonly Dictionary<string, KeyedLoad> _keyedLoads = [];
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);
    private int _next;

    public DateTimeOffset Now { get; set; } = CertificateScenario.Start;
    public Pool? State { get; private set; }
    public List<PoolEvent> History { get; } = [];

    public PoolSlot CertificateAt(string poolId, long slot) => _slots[slot];

    public Reservation? ReservationOf(string poolId, string certificateId) => _reservations.GetValueOrDefault(certificateId);

    public KeyedReservation? ReservationByKey(string poolId, string idempotencyKey) => _keyed.GetValueOrDefault(idempotencyKey);

    public KeyedLoad? LoadByKey(string poolId, string idempotencyKey) => _keyedLoads.GetValueOrDefault(idempotencyKey);

    public int OpenReservationsOf(string poolId, string caller) => _open.GetValueOrDefault(caller);

    /// <summary>Deadlines set and not cleared: the timers of open reservations.</summary>
    public HashSet<(DateTimeOffset At, string CertificateId)> Deadlines { get; } = [];

    /// <summary>Applies one entry change the domain decided, as the topology writes it to its store.</summary>
    private void Apply(PoolEntryChange change)
    {
        switch (change)
        {
            case SlotFilled c:
                _slots[c.Slot] = c.Value;
                break;
            case SlotEmptied c:
                _slots.Remove(c.Slot);
                break;
            case ReservationStored c:
                _reservations[c.Reservation.CertificateId] = c.Reservation;
                break;
            case ReservationRemoved c:
                _reservations.Remove(c.CertificateId);
                break;
            case DeadlineSet c:
                Deadlines.Add((c.At, c.CertificateId));
                break;
            case DeadlineCleared c:
                Deadlines.Remove((c.At, c.CertificateId));
                break;
            case OpenReservationsCounted c:
                _open[c.Caller] = c.Count;
                break;
            case ReservationKeyRemembered c:
                _keyed[c.Keyed.IdempotencyKey] = c.Keyed;
                break;
            case LoadKeyRemembered c:
                _keyedLoads[c.Keyed.IdempotencyKey] = c.Keyed;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change.GetType().Name, "unknown change");
        }
    }

    public IReadOnlyList<PoolEvent> When(PoolCommand command)
    {
        var events = PoolDecider.Decide(command, State, this, Settings);
        foreach (var e in events)
        {
            State = PoolDecider.Evolve(State, e);
            foreach (var change in PoolDecider.EntryChanges(e, this, Settings))
            {
                Apply(change);
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

    public ReserveNext Reserve(Channel channel = Channel.Pos, long nominal = CertificateScenario.Nominal, TimeSpan? holdFor = null, string? orderId = null, string? caller = null) =>
        new(Id, NextId("cmd"), Now, NextId("req"), channel, nominal, CertificateScenario.Rub, orderId, holdFor ?? TimeSpan.FromMinutes(30), Caller: caller);

    public string ReserveOne(string? orderId = null) => ((PoolCertificateReserved)When(Reserve(orderId: orderId))[0]).CertificateId;

    public ExpireReservation Expire(string certificateId) => new(Id, NextId("timer"), Now, certificateId);

    public ReleaseReservation Release(string certificateId, string orderId, string reason = "order cancelled") => new(Id, NextId("order-evt"), Now, certificateId, orderId, reason);

    public IssueReserved Issue(string certificateId, string orderId = "order-1", Channel channel = Channel.Pos, long nominal = CertificateScenario.Nominal, string currency = CertificateScenario.Rub) =>
        new(Id, NextId("order-evt"), Now, certificateId, orderId, "client-1", ContactChannel.Email, channel, nominal, currency);
}
