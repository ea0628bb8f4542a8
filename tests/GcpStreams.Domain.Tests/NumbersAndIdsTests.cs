using System.Text;

namespace GcpStreams.Domain.Tests;

public class NumbersAndIdsTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a-test-numbering-key-32-bytes!!!");

    [TestCase("7992739871", '3')] // the textbook example 79927398713
    [TestCase("000", '0')]
    [TestCase("7", '5')]
    public void CheckDigit_IsLuhn(string body, char expected) =>
        Assert.That(CertificateNumber.CheckDigit(body), Is.EqualTo(expected));

    [Test]
    public void CheckDigit_RefusesNonDigits() =>
        Assert.That(() => CertificateNumber.CheckDigit("12a4"), Throws.ArgumentException);

    [Test]
    public void GeneratedNumbers_AreValidUniqueAndDeterministic()
    {
        var numbers = Enumerable.Range(0, 20_000).Select(i => CertificateNumber.Generate(Key, 42, i)).ToList();

        Assert.That(numbers, Is.All.Matches<string>(CertificateNumber.IsValid));
        Assert.That(numbers.Distinct().Count(), Is.EqualTo(numbers.Count));
        Assert.That(CertificateNumber.Generate(Key, 42, 17), Is.EqualTo(numbers[17]));
    }

    [Test]
    public void GeneratedNumbers_DoNotRevealTheirOrder()
    {
        var first = CertificateNumber.Generate(Key, 1, 0);
        var second = CertificateNumber.Generate(Key, 1, 1);

        Assert.That(Math.Abs(long.Parse(first[2..15]) - long.Parse(second[2..15])), Is.GreaterThan(1000));
    }

    [Test]
    public void GeneratedNumbers_DependOnKeyAndSeries()
    {
        var other = Encoding.UTF8.GetBytes("another-numbering-key-32-bytes!!");

        Assert.That(CertificateNumber.Generate(other, 1, 0), Is.Not.EqualTo(CertificateNumber.Generate(Key, 1, 0)));
        Assert.That(CertificateNumber.Generate(Key, 2, 0), Is.Not.EqualTo(CertificateNumber.Generate(Key, 1, 0)));
    }

    [Test]
    public void Generate_RefusesOutOfRangeInputs()
    {
        Assert.That(() => CertificateNumber.Generate(Key, -1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => CertificateNumber.Generate(Key, CertificateNumber.MaxSeries + 1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => CertificateNumber.Generate(Key, 1, CertificateNumber.MaxIndex + 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => CertificateNumber.Generate(new byte[4], 1, 0), Throws.ArgumentException);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("7712345678901234")]
    [TestCase("1234567890123452")]
    [TestCase("77123456789012a4")]
    public void IsValid_RejectsMalformedNumbers(string? number) =>
        Assert.That(CertificateNumber.IsValid(number), Is.False);

    [Test]
    public void IsValid_CatchesASingleDigitTypo()
    {
        var number = CertificateNumber.Generate(Key, 3, 5);
        var typo = number[..5] + (char)('0' + (number[5] - '0' + 1) % 10) + number[6..];

        Assert.That(CertificateNumber.IsValid(number), Is.True);
        Assert.That(CertificateNumber.IsValid(typo), Is.False);
    }

    [Test]
    public void DeterministicId_IsStableAndSeparatesItsParts()
    {
        var id = DeterministicId.Derive("event", "7700", "pay-1");

        Assert.That(id, Is.EqualTo(DeterministicId.Derive("event", "7700", "pay-1")));
        Assert.That(Guid.TryParse(id, out var guid), Is.True);
        Assert.That(guid.Version, Is.EqualTo(8));
        Assert.That(DeterministicId.Derive("ab", "c"), Is.Not.EqualTo(DeterministicId.Derive("a", "bc")));
        Assert.That(DeterministicId.Derive(new string('x', 5000)), Is.Not.EqualTo(DeterministicId.Derive(new string('x', 5001))));
    }

    [Test]
    public void RecentIds_KeepsTheNewestWithinCapacity()
    {
        var ids = RecentIds.From(Enumerable.Range(0, RecentIds.Capacity + 10).Select(i => $"id-{i}"));

        Assert.That(ids.Count, Is.EqualTo(RecentIds.Capacity));
        Assert.That(ids.Contains("id-9"), Is.False);
        Assert.That(ids.Contains("id-10"), Is.True);
        Assert.That(ids.Add("id-10"), Is.SameAs(ids));
        var ab = RecentIds.From(["a", "b"]);
        var sameAb = RecentIds.Empty.Add("a").Add("b");
        Assert.That(sameAb, Is.EqualTo(ab));
        Assert.That(sameAb.GetHashCode(), Is.EqualTo(ab.GetHashCode()));
        Assert.That(RecentIds.From(["a", "b"]), Is.Not.EqualTo(RecentIds.From(["b", "a"])));
    }
}
