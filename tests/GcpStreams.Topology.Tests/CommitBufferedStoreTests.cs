using System.Text;
using GcpStreams.Topology.Internal;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;

namespace GcpStreams.Topology.Tests;

/// <summary>
/// The pools' and marts' stores keep the writes between two commits in memory and write the latest value of each key at the
/// commit: a hot key costs one store write (one changelog record) per commit, and reads always see the latest write.
/// </summary>
public sealed class CommitBufferedStoreTests
{
    [Test]
    public void AKeyWrittenManyTimesBetweenCommits_IsWrittenOnceAtTheCommit_WithItsLatestValue()
    {
        var below = new RecordingStore();
        var store = new CommitBufferedStore(below);

        for (var i = 0; i < 50; i++)
        {
            store.Put("p/pool-1", Bytes($"counters {i}"));
            store.Put($"s/pool-1/{i:D12}", Bytes("slot"));
        }

        Assert.That(Text(store.Get("p/pool-1")), Is.EqualTo("counters 49"), "reads see the pending write");
        Assert.That(below.Writes, Is.Empty, "nothing reaches the store below before the commit");

        store.Flush();

        Assert.That(below.Writes.Count(w => w.Key == "p/pool-1"), Is.EqualTo(1));
        Assert.That(Text(below.Entries["p/pool-1"]), Is.EqualTo("counters 49"));
        Assert.That(below.Writes, Has.Count.EqualTo(51), "one write per key");
        Assert.That(below.Writes[0].Key, Is.EqualTo("p/pool-1"), "in first-write order: the changelog order is the same on every run");
        Assert.That(below.Flushes, Is.EqualTo(1));
        Assert.That(store.Pending, Is.Zero);

        store.Flush();
        Assert.That(below.Writes, Has.Count.EqualTo(51), "nothing pending, nothing written");
    }

    [Test]
    public void ADeleteAfterAPut_DeletesBelow_AndReadsAsAbsentBeforeTheCommit()
    {
        var below = new RecordingStore();
        below.Put("r/pool-1/cert-1", Bytes("reservation"));
        below.Writes.Clear();
        var store = new CommitBufferedStore(below);

        Assert.That(Text(store.Delete("r/pool-1/cert-1")), Is.EqualTo("reservation"), "the value it deleted");
        Assert.That(store.Get("r/pool-1/cert-1"), Is.Null);
        Assert.That(store.PutIfAbsent("r/pool-1/cert-1", Bytes("again")), Is.Null, "absent after the delete");
        Assert.That(Text(store.PutIfAbsent("r/pool-1/cert-1", Bytes("third"))), Is.EqualTo("again"));
        store.Delete("r/pool-1/cert-1");
        store.Flush();

        Assert.That(below.Writes.Select(w => (w.Key, w.Value is null)), Is.EqualTo(new[] { ("r/pool-1/cert-1", true) }));
        Assert.That(below.Entries, Does.Not.ContainKey("r/pool-1/cert-1"));
    }

    [Test]
    public void ARangeThatCouldHoldAPendingKey_SeesIt_OthersLeaveThePendingWritesForTheCommit()
    {
        var below = new RecordingStore();
        var store = new CommitBufferedStore(below);
        store.Put("d/000000000001000/pool-1/cert-1", Bytes("due"));
        store.Put("m/POS/2026-12-01", Bytes("mart"));

        using (var other = store.Range("x/", "x/~"))
        {
            Assert.That(other.MoveNext(), Is.False);
        }

        Assert.That(below.Writes, Is.Empty, "a range without a pending key in it writes nothing through");

        var due = new List<string>();
        using (var range = store.Range("d/", "d/000000000002000"))
        {
            while (range.MoveNext())
            {
                due.Add(range.Current!.Value.Key);
            }
        }

        Assert.That(due, Is.EqualTo(new[] { "d/000000000001000/pool-1/cert-1" }));
        Assert.That(store.Pending, Is.Zero, "everything pending was written through before the scan");
        Assert.That(below.Entries.Keys, Is.EquivalentTo(new[] { "d/000000000001000/pool-1/cert-1", "m/POS/2026-12-01" }));

        store.Put("m/POS/2026-12-02", Bytes("next"));
        using (var reverse = store.ReverseRange("m/POS/", "m/POS/2026-12-01"))
        {
            Assert.That(store.Pending, Is.EqualTo(1), "the pending key sorts after the range's end");
        }

        Assert.That(store.All().Select(e => e.Key), Has.Member("m/POS/2026-12-02"), "a full scan sees every write");
    }

    [Test]
    public void Close_DropsThePendingWrites_TheTransactionTheyBelongedToIsAborted()
    {
        var below = new RecordingStore();
        var store = new CommitBufferedStore(below);
        store.Put("p/pool-1", Bytes("uncommitted"));

        store.Close();

        Assert.That(below.Writes, Is.Empty);
        Assert.That(below.Closed, Is.True);
    }

    [Test]
    public void APunctuation_WritesItsWritesThrough_WhenItEnds()
    {
        var below = new RecordingStore();
        var store = new CommitBufferedStore(below);
        var punctuate = LedgerStores.WritingThrough(store, now => store.Put("time", Bytes(now.ToString(System.Globalization.CultureInfo.InvariantCulture))));

        punctuate(42);

        Assert.That(Text(below.Entries["time"]), Is.EqualTo("42"), "Streamiz does not flush the stores after a punctuation alone");
        Assert.That(store.Pending, Is.Zero);
    }

    [Test]
    public void StoreKeyOrder_IsTheOrderOfTheKeysUtf8Bytes()
    {
        var random = new Random(20261201);
        string[] alphabet = ["a", "/", "~", "0", "é", "\uFB01", "\uE000", "\uFFFD", "😀", "𝄞", "\u07FF", "\u0800"];
        for (var i = 0; i < 20_000; i++)
        {
            var a = Key(random, alphabet);
            var b = Key(random, alphabet);
            var expected = Math.Sign(Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b)));
            Assert.That(Math.Sign(StoreKeyOrder.Compare(a, b)), Is.EqualTo(expected), $"{a} vs {b}");
        }
    }

    private static string Key(Random random, string[] alphabet) =>
        string.Concat(Enumerable.Range(0, random.Next(0, 5)).Select(_ => alphabet[random.Next(alphabet.Length)]));

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    /// <summary>A unit-test double of the store below (RocksDB and its changelog): sorted like it, every write recorded.</summary>
    private sealed class RecordingStore : IKeyValueStore<string, byte[]>
    {
        public SortedDictionary<string, byte[]> Entries { get; } = new(Comparer<string>.Create(StoreKeyOrder.Compare));

        public List<(string Key, byte[]? Value)> Writes { get; } = [];

        public int Flushes { get; private set; }

        public bool Closed { get; private set; }

        public string Name => "recording";

        public bool Persistent => true;

        public bool IsLocally => true;

        public bool IsOpen => !Closed;

        public void Init(ProcessorContext context, IStateStore root)
        {
        }

        public void Flush() => Flushes++;

        public void Close() => Closed = true;

        public byte[] Get(string key) => Entries.GetValueOrDefault(key)!;

        public IKeyValueEnumerator<string, byte[]> Range(string from, string to) =>
            new Enumerator(Entries.Where(e => StoreKeyOrder.Compare(e.Key, from) >= 0 && StoreKeyOrder.Compare(e.Key, to) <= 0).ToList());

        public IKeyValueEnumerator<string, byte[]> ReverseRange(string from, string to) =>
            new Enumerator(Entries.Where(e => StoreKeyOrder.Compare(e.Key, from) >= 0 && StoreKeyOrder.Compare(e.Key, to) <= 0).Reverse().ToList());

        public IEnumerable<KeyValuePair<string, byte[]>> All() => [.. Entries];

        public IEnumerable<KeyValuePair<string, byte[]>> ReverseAll() => Entries.Reverse().ToList();

        public long ApproximateNumEntries() => Entries.Count;

        public void Put(string key, byte[] value)
        {
            Writes.Add((key, value));
            Entries[key] = value;
        }

        public byte[] PutIfAbsent(string key, byte[] value) => throw new NotSupportedException();

        public void PutAll(IEnumerable<KeyValuePair<string, byte[]>> entries) => throw new NotSupportedException();

        public byte[] Delete(string key)
        {
            Writes.Add((key, null));
            var before = Entries.GetValueOrDefault(key);
            Entries.Remove(key);
            return before!;
        }
    }

    private sealed class Enumerator(List<KeyValuePair<string, byte[]>> entries) : IKeyValueEnumerator<string, byte[]>
    {
        private int index = -1;

        public KeyValuePair<string, byte[]>? Current => index >= 0 && index < entries.Count ? entries[index] : null;

        object System.Collections.IEnumerator.Current => Current!;

        public bool MoveNext() => ++index < entries.Count;

        public string PeekNextKey() => entries[index + 1].Key;

        public void Reset() => index = -1;

        public void Dispose()
        {
        }
    }
}
