using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Tests.Parity;

public sealed class CanaryTableTests
{
    [Fact]
    public void ParseList_Empty_GivesTheRunbooksThree()
    {
        var tables = CanaryTable.ParseList(null);

        Assert.Equal(["identity.organization", "security.app_user", "members.member"], tables.Select(t => t.ToString()));
    }

    [Fact]
    public void ParseList_Configured_KeepsOrder()
    {
        var tables = CanaryTable.ParseList(["claims.claim", "members.member"]);

        Assert.Equal(["claims.claim", "members.member"], tables.Select(t => t.ToString()));
    }

    [Theory]
    [InlineData("member")]
    [InlineData("a.b.c")]
    [InlineData("members.member; DROP TABLE x")]
    [InlineData("\"members\".member")]
    [InlineData("Members.member")]
    public void Parse_BadName_Throws(string name) => Assert.Throws<InvalidRestoreInputException>(() => CanaryTable.Parse(name));

    [Fact]
    public void ParseList_Duplicate_Throws() =>
        Assert.Throws<InvalidRestoreInputException>(() => CanaryTable.ParseList(["a.b", "a.b"]));
}
