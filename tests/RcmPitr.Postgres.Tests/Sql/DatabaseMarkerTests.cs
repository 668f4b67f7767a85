using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Tests.Sql;

public sealed class DatabaseMarkerTests
{
    [Fact]
    public void Format_ThenParse_RoundTrips()
    {
        var marker = new DatabaseMarker(DatabaseMarker.Loaded, "run-1", "202604221430", new string('a', 64));

        Assert.Equal(marker, DatabaseMarker.TryParse(marker.Format()));
    }

    [Fact]
    public void TryParse_WithoutChecksum_Parses()
    {
        var marker = DatabaseMarker.TryParse("rcm-pitr:loading run=r.1 stamp=202604221430");

        Assert.Equal(DatabaseMarker.Loading, marker!.State);
        Assert.Null(marker.Sha256);
        Assert.False(marker.IsLoadedBy("r.1"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("production tenant database")]
    [InlineData("rcm-pitr:loaded run=x stamp=2026")]
    public void TryParse_NotAMarker_ReturnsNull(string? comment) => Assert.Null(DatabaseMarker.TryParse(comment));

    [Fact]
    public void IsLoadedBy_OtherRun_IsFalse() =>
        Assert.False(new DatabaseMarker(DatabaseMarker.Loaded, "a", "202604221430").IsLoadedBy("b"));
}
