using GcpStreams.Client;
using GcpStreams.Topology.Internal;

namespace GcpStreams.Topology.Processing;

/// <summary>
/// The host of a decider (the Decider pattern: <c>decide(command, state) → events</c>, <c>evolve(state, event) → state</c>)
/// as the single owner of its key: every command, from an input record or a timer, runs the same steps, once, here —
/// load the state, decide, fold each event into the state while publishing it, conclude (state record, reply, dead letters),
/// store. A decision without events (a duplicate, a timer with nothing to do) publishes and stores nothing. The owners
/// (<see cref="PoolProcessor"/>, <see cref="CertificateProcessor"/>) say only what is theirs: how their state is loaded and
/// stored and what each event publishes.
/// </summary>
/// <typeparam name="TCommand">The owner's commands.</typeparam>
/// <typeparam name="TState">The state of one key (null: none yet).</typeparam>
/// <typeparam name="TEvent">What its decider decides.</typeparam>
public abstract class DeciderHost<TCommand, TState, TEvent> : RecordTransformer
    where TCommand : class
    where TState : class
    where TEvent : class
{
    /// <inheritdoc cref="RecordTransformer(Codec, TopologySettings)"/>
    protected DeciderHost(Codec codec, TopologySettings settings)
        : base(codec, settings)
    {
    }

    /// <summary>Decides <paramref name="command"/> for the owner's key and returns what to write; stores what changed.</summary>
    protected IReadOnlyList<Outgoing> Run(TCommand command, Origin origin)
    {
        var before = Load(command);
        command = Prepare(command, before);
        var decision = new Decision(command, before, Decide(command, before), origin);
        var outputs = new List<Outgoing>();
        var state = before;
        for (var i = 0; i < decision.Events.Count; i++)
        {
            state = Evolve(state, decision.Events[i]);
            Publish(decision, state, i, outputs);
        }

        if (decision.Events.Count == 0)
        {
            return outputs;
        }

        Conclude(decision, state, outputs);
        Store(decision, state);
        return outputs;
    }

    /// <summary>The state the command's key has now (null: none), with what the command needs loaded.</summary>
    protected abstract TState? Load(TCommand command);

    /// <summary>The command as it is decided: by default unchanged (an owner may complete it from its state, e.g. a contact).</summary>
    protected virtual TCommand Prepare(TCommand command, TState? before) => command;

    protected abstract IReadOnlyList<TEvent> Decide(TCommand command, TState? before);

    protected abstract TState? Evolve(TState? state, TEvent e);

    /// <summary>
    /// What event <paramref name="index"/> publishes, with <paramref name="state"/> the state it leaves: adds its records to
    /// <paramref name="outputs"/> and its event id to <see cref="Decision.EventIds"/> (and any store write it implies to
    /// <see cref="Decision.Writes"/>, applied by <see cref="Store"/> after every event was published).
    /// </summary>
    protected abstract void Publish(Decision decision, TState? state, int index, List<Outgoing> outputs);

    /// <summary>What the decision as a whole publishes after its events (state record, reply, dead letters), when it has events.</summary>
    protected abstract void Conclude(Decision decision, TState? state, List<Outgoing> outputs);

    /// <summary>Stores the state the decision leaves (and <see cref="Decision.Writes"/>), when it has events.</summary>
    protected abstract void Store(Decision decision, TState? state);

    /// <summary>Where a command came from: who waits for its reply, its correlation id, its input record and the store it names.</summary>
    public sealed record Origin(string? ReplyTo, string? CorrelationId, SourceRecord? Source, string? StoreId = null)
    {
        /// <summary>A timer's command: nobody waits, no input record.</summary>
        public static readonly Origin Timer = new(null, null, null);
    }

    /// <summary>One decision while it is hosted: the command, the state before, the events, their ids and the store writes they imply.</summary>
    protected sealed class Decision(TCommand command, TState? before, IReadOnlyList<TEvent> events, Origin origin)
    {
        public TCommand Command { get; } = command;

        public TState? Before { get; } = before;

        public IReadOnlyList<TEvent> Events { get; } = events;

        public Origin Origin { get; } = origin;

        /// <summary>The published event ids, in event order.</summary>
        public List<string> EventIds { get; } = [];

        /// <summary>Store writes decided while publishing (null value: delete), applied in order by the owner's <see cref="Store"/>.</summary>
        public List<(string Key, byte[]? Value)> Writes { get; } = [];
    }
}
