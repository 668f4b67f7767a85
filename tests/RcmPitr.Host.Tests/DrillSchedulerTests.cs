using Microsoft.Extensions.Logging.Abstractions;
using RcmPitr.Host.Composition;

namespace RcmPitr.Host.Tests;

/// <summary>The embedded host's drill schedule: the Functions timer's cron format, a bad expression refused at start, and occurrences months away.</summary>
public sealed class DrillSchedulerTests
{
    [Fact]
    public void Next_SixFieldsWithSecondsOrFive_GivesTheNextOccurrenceInUtc()
    {
        var after = new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2027, 1, 1, 6, 0, 0, TimeSpan.Zero), DrillScheduler.Next("0 0 6 1 1,4,7,10 *", after));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 8, 30, 0, TimeSpan.Zero), DrillScheduler.Next("30 8 * * *", after));
    }

    [Theory]
    [InlineData("every quarter")]
    [InlineData("0 0 6 1 13 *")]
    public void Validate_NotACronExpression_RefusesNamingTheSetting(string expression)
    {
        var error = Assert.Throws<InvalidOperationException>(() => DrillScheduler.Validate(new DrillSchedule(expression)));

        Assert.Contains("DryRunSchedule", error.Message, StringComparison.Ordinal);
        DrillScheduler.Validate(new DrillSchedule(string.Empty));
    }

    [Fact]
    public async Task Execute_OccurrenceMonthsAway_WaitsInsteadOfFailing()
    {
        // An occurrence more than 49 days away is beyond one timer's reach; the host must not stop over it.
        var month = ((TimeProvider.System.GetUtcNow().Month + 3) % 12) + 1;
        using var scheduler = new DrillScheduler(null!, new DrillSchedule($"0 0 0 1 {month} *"), TimeProvider.System, NullLogger<DrillScheduler>.Instance);

        await scheduler.StartAsync(TestContext.Current.CancellationToken);
        await Task.Delay(300, TestContext.Current.CancellationToken);

        Assert.False(scheduler.ExecuteTask!.IsFaulted, scheduler.ExecuteTask.Exception?.ToString());
        Assert.False(scheduler.ExecuteTask.IsCompleted);
        await scheduler.StopAsync(TestContext.Current.CancellationToken);
    }
}
