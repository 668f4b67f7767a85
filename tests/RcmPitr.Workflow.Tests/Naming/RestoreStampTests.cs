using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Tests.Naming;

public sealed class RestoreStampTests
{
    [Fact]
    public void From_OffsetTime_UsesUtcMinute()
    {
        var time = new DateTimeOffset(2026, 4, 22, 10, 30, 59, TimeSpan.FromHours(-4));

        Assert.Equal("202604221430", RestoreStamp.From(time).Value);
    }

    [Theory]
    [InlineData("20260422143")]
    [InlineData("2026042214300")]
    [InlineData("202613221430")]
    [InlineData("20260422143a")]
    [InlineData("202602301430")]
    [InlineData(null)]
    public void Parse_NotAStamp_Throws(string? value)
    {
        Assert.Throws<InvalidRestoreInputException>(() => RestoreStamp.Parse(value));
    }

    [Fact]
    public void Parse_RoundTrips()
    {
        Assert.Equal("202604221430", RestoreStamp.Parse("202604221430").ToString());
    }
}
