using RcmPitr.Postgres.Movers;

namespace RcmPitr.Postgres.Tests.Movers;

/// <summary>How many page ranges the streaming move copies a split table in.</summary>
public sealed class StreamingPiecesTests
{
    private const long Mb = 1048576;

    [Theory]
    // The benchmark's biggest table (468 MB of heap) by two workers: 15 pieces of 32 MB wanted, 8 rounds of two.
    [InlineData(468, 59_904, 2, 16)]
    // A table just big enough to split: two rounds of the workers at least, the last stretch shared.
    [InlineData(64, 8_192, 2, 4)]
    [InlineData(64, 8_192, 4, 8)]
    // Between: pieces of about 32 MB, in whole rounds of the workers.
    [InlineData(200, 25_600, 2, 8)]
    [InlineData(200, 25_600, 3, 9)]
    // A huge table: no more than eight rounds of the workers.
    [InlineData(100_000, 12_800_000, 4, 32)]
    // Never more pieces than pages.
    [InlineData(64, 3, 2, 3)]
    public void Pieces_AboutThirtyTwoMegabytesEach_InWholeRoundsOfTheWorkers(long heapMb, long pages, int jobs, int expected) =>
        Assert.Equal(expected, StreamingMove.Pieces(heapMb * Mb, pages, jobs));
}
