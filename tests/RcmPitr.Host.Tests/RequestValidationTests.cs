using RcmPitr.Api;

namespace RcmPitr.Host.Tests;

/// <summary>The API's field rules, without a host: what a restore time must look like, how long free text may be.</summary>
public sealed class RequestValidationTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 10, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-04-22T14:30:00Z", "2026-04-22T14:30:00Z")]
    [InlineData("2026-04-22T14:30Z", "2026-04-22T14:30:00Z")]
    [InlineData("2026-04-22T14:30:00.5Z", "2026-04-22T14:30:00.5Z")]
    [InlineData("2026-04-22T14:30:00.1234567Z", "2026-04-22T14:30:00.1234567Z")]
    [InlineData("2026-04-22T16:30:00+02:00", "2026-04-22T14:30:00Z")]
    [InlineData("2026-04-22T09:30-05:00", "2026-04-22T14:30:00Z")]
    public void Validate_IsoTimeWithAZone_IsTheUtcInstant(string value, string expected)
    {
        var (parsed, errors) = RequestValidation.Validate(Body(value), Now);

        Assert.Empty(errors);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), parsed!.RestoreTime);
        Assert.Equal(TimeSpan.Zero, parsed.RestoreTime.Offset);
    }

    [Theory]
    [InlineData("2026-04-22T14:30:00")]
    [InlineData("2026-04-22T14:30")]
    [InlineData("04/05/2026 10:00 +00:00")]
    [InlineData("05/04/2026 10:00Z")]
    [InlineData("2026-04-22 14:30:00Z")]
    [InlineData("April 22, 2026 14:30 +00:00")]
    [InlineData("2026-04-22T14:30:00 Z")]
    [InlineData(" 2026-04-22T14:30:00Z")]
    [InlineData("2026-04-22")]
    public void Validate_TimeNotIsoWithAZone_IsRefusedNamingRestoreTime(string value)
    {
        var (parsed, errors) = RequestValidation.Validate(Body(value), Now);

        Assert.Null(parsed);
        Assert.Equal(["restoreTime"], errors.Keys);
        Assert.Contains("ISO-8601", errors["restoreTime"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LongRefusedValues_AreEchoedCapped()
    {
        var (_, errors) = RequestValidation.Validate(new StartRestoreBody("acme", new string('9', 5000), new string('m', 5000), new string('s', 5000), "r", new string('t', 5000)), Now);

        Assert.Equal(["mode", "restoreTime", "strategy", "transfer"], errors.Keys.Order());
        Assert.All(errors.Values, messages => Assert.True(messages[0].Length < 200, messages[0]));
    }

    [Fact]
    public void Validate_CommentAndReasonOverTheLimit_NameTheField()
    {
        var comment = RequestValidation.Validate(new DecisionBody(new string('c', RequestValidation.MaxCommentLength + 1)));
        var reason = RequestValidation.Validate(new ReasonBody(new string('r', RequestValidation.MaxReasonLength + 1)));
        var fine = RequestValidation.Validate(new DecisionBody(new string('c', RequestValidation.MaxCommentLength)));

        Assert.Equal(["comment"], comment.Keys);
        Assert.Equal(["reason"], reason.Keys);
        Assert.Empty(fine);
    }

    private static StartRestoreBody Body(string time) => new("acme", time, null, null, "bad migration");
}
