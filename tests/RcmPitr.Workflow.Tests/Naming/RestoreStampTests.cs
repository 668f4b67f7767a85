using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Tests.Naming;

public sealed class RestoreStampTests
{
    [Fact]
    public void From_OffsetTime_UsesUtcSecond()
    {
        var time = new DateTimeOffset(2026, 4, 22, 10, 30, 59, 900, TimeSpan.FromHours(-4));

        Assert.Equal("20260422143059", RestoreStamp.From(time).Value);
    }

    [Theory]
    [InlineData("202604221430")]
    [InlineData("2026042214300")]
    [InlineData("202604221430000")]
    [InlineData("20261322143000")]
    [InlineData("2026042214300a")]
    [InlineData("20260230143000")]
    [InlineData("20260422143060")]
    [InlineData(null)]
    public void Parse_NotAStamp_Throws(string? value)
    {
        Assert.Throws<InvalidRestoreInputException>(() => RestoreStamp.Parse(value));
    }

    [Fact]
    public void Parse_RoundTrips()
    {
        Assert.Equal("20260422143010", RestoreStamp.Parse("20260422143010").ToString());
    }
}
