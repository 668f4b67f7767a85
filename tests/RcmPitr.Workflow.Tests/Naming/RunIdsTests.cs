using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Tests.Naming;

public sealed class RunIdsTests
{
    [Theory]
    [InlineData("restore-acme-202604221430-1")]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e")]
    public void Require_SafeId_ReturnsIt(string id) => Assert.Equal(id, RunIds.Require(id));

    [Theory]
    [InlineData("")]
    [InlineData("../../etc")]
    [InlineData("a b")]
    [InlineData("a'b")]
    [InlineData("-leading")]
    public void Require_UnsafeId_Throws(string id) => Assert.Throws<InvalidRestoreInputException>(() => RunIds.Require(id));
}
