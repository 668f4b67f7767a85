using RcmPitr.Postgres.Changes;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Changes;

public sealed class ChangePlanTests
{
    private static readonly TenantChangeComparer.CatalogTable Keyed = new("app", "visit", 100, ["id"], ["bigint"], [20]);

    [Fact]
    public void Plan_SameKeyOnBothSides_MatchesByKeyInNativeOrder()
    {
        var plan = TenantChangeComparer.Plan([Keyed], [Keyed with { Size = 300 }], utf8: true, recordHash: true).Single();

        Assert.Equal((TableMatch.PrimaryKey, 300L, "r.\"id\"::int8", "r.\"id\""), (plan.MatchedBy, plan.Size, plan.KeySelect, plan.KeyOrder));
    }

    [Fact]
    public void Plan_KeyColumnsDifferBetweenSides_MatchesByRowHash()
    {
        var widened = Keyed with { KeyColumns = ["id", "seq"], KeyTypes = ["bigint", "integer"], KeyTypeOids = [20, 23] };

        var plans = TenantChangeComparer.Plan([Keyed], [widened], utf8: true, recordHash: true);

        Assert.Equal(TableMatch.RowHash, plans.Single().MatchedBy);
        Assert.Empty(plans.Single().KeyColumns);
    }

    [Fact]
    public void Plan_KeyOnOneSideOnly_MatchesByRowHash()
    {
        var plans = TenantChangeComparer.Plan([Keyed with { KeyColumns = [], KeyTypes = [], KeyTypeOids = [] }], [Keyed], utf8: true, recordHash: true);

        Assert.Equal(TableMatch.RowHash, plans.Single().MatchedBy);
    }

    [Fact]
    public void Plan_TextKeyWithQuotesInNames_OrdersByUtf8BytesAndQuotes()
    {
        var table = new TenantChangeComparer.CatalogTable("My \"App\"", "Visit", 1, ["Code \"x\""], ["text"], [25]);

        var plan = TenantChangeComparer.Plan([table], [table], utf8: true, recordHash: true).Single();
        var latin1 = TenantChangeComparer.Plan([table], [table], utf8: false, recordHash: true).Single();

        Assert.Equal("ONLY \"My \"\"App\"\"\".\"Visit\"", plan.Qualified);
        Assert.Equal("r.\"Code \"\"x\"\"\"::text COLLATE \"C\"", plan.KeyOrder);
        Assert.Equal("convert_to(r.\"Code \"\"x\"\"\"::text, 'UTF8')", latin1.KeyOrder);
    }
}
