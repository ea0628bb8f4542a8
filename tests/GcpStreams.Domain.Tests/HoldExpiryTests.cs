using GcpStreams.Domain.Certificates;

namespace GcpStreams.Domain.Tests;

/// <summary>Authorizations that Payments never captures nor voids: the hold lapses after the configured time and the amount is available again.</summary>
public class HoldExpiryTests
{
    private const long Nominal = CertificateScenario.Nominal;

    [Test]
    public void Authorization_CarriesWhenItsHoldExpires()
    {
        var s = CertificateScenario.Issued();

        var authorized = (PaymentAuthorized)s.When(s.Authorize(1_000_00, paymentId: "auth-1")).Single();

        Assert.That(authorized.ExpiresAt, Is.EqualTo(s.Now + CertificateSettings.DefaultHoldExpiry));
        Assert.That((authorized.BalanceAfterMinor, authorized.HeldAfterMinor, authorized.AvailableAfterMinor), Is.EqualTo((Nominal, 1_000_00L, Nominal - 1_000_00)));
    }

    [Test]
    public void HoldNeverCapturedNorVoided_ExpiresAndReleasesTheAmountWithAnEvent()
    {
        var s = CertificateScenario.Issued();
        var authorized = (PaymentAuthorized)s.When(s.Authorize(1_000_00, paymentId: "auth-1")).Single();

        var released = (HoldReleased)s.When(s.ExpireHold("auth-1", authorized.ExpiresAt)).Single();

        Assert.That(released.Expired, Is.True);
        Assert.That(released.PaymentId, Is.Null, "no payment released it");
        Assert.That((released.AmountMinor, released.BalanceAfterMinor, released.HeldAfterMinor), Is.EqualTo((1_000_00L, Nominal, 0L)));
        Assert.That(s.Active.HeldMinor, Is.Zero);
        Assert.That(s.Active.AvailableMinor, Is.EqualTo(Nominal));
    }

    [Test]
    public void HoldExpiry_BeforeItsTime_DoesNothing()
    {
        var s = CertificateScenario.Issued();
        var authorized = (PaymentAuthorized)s.When(s.Authorize(1_000_00, paymentId: "auth-1")).Single();

        Assert.That(s.When(s.ExpireHold("auth-1", authorized.ExpiresAt.AddMilliseconds(-1))), Is.Empty);
        Assert.That(s.Active.HeldMinor, Is.EqualTo(1_000_00));
    }

    [Test]
    public void HoldExpiry_OfAHoldCapturedOrVoidedInTime_DoesNothing()
    {
        var s = CertificateScenario.Issued();
        var first = (PaymentAuthorized)s.When(s.Authorize(1_000_00, paymentId: "auth-1")).Single();
        s.When(s.Authorize(500_00, paymentId: "auth-2"));
        s.When(s.Capture(1_000_00, authorizationId: "auth-1"));
        s.When(s.Void("auth-2"));

        Assert.That(s.When(s.ExpireHold("auth-1", first.ExpiresAt)), Is.Empty);
        Assert.That(s.When(s.ExpireHold("auth-2", first.ExpiresAt)), Is.Empty);
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal - 1_000_00));
    }

    [Test]
    public void Capture_AfterTheHoldExpired_IsRejected()
    {
        var s = CertificateScenario.Issued();
        var authorized = (PaymentAuthorized)s.When(s.Authorize(1_000_00, paymentId: "auth-1")).Single();
        s.Advance(CertificateSettings.DefaultHoldExpiry + TimeSpan.FromSeconds(1));

        CertificateLifecycleTests.AssertRejected(s.When(s.Capture(1_000_00, authorizationId: "auth-1")), RejectionReason.UnknownAuthorization);
        Assert.That(s.When(s.ExpireHold("auth-1", authorized.ExpiresAt)).Single(), Is.TypeOf<HoldReleased>(), "the sweep still releases it");
        Assert.That(s.Active.BalanceMinor, Is.EqualTo(Nominal));
    }

    [Test]
    public void HoldExpiry_IsConfigured()
    {
        var s = CertificateScenario.Issued();
        var settings = CertificateSettings.Default with { HoldExpiry = TimeSpan.FromHours(2) };

        var authorized = (PaymentAuthorized)CertificateDecider.Decide(s.Authorize(100), s.State, settings).Single();

        Assert.That(authorized.ExpiresAt, Is.EqualTo(s.Now.AddHours(2)));
    }
}
