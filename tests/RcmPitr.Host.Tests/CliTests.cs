using RcmPitr.Cli;
using RcmPitr.Testing;

namespace RcmPitr.Host.Tests;

/// <summary>The real command line against the real API (in-memory server) and real clusters.</summary>
public sealed class CliTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Restore_WithWait_ShowsTheTimelineAndParityAndEndsRestoredAfterApproval()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 9);
        var output = new LockedStringWriter();
        var time = run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

        var restore = CliApp.RunAsync(["restore", "--tenant", acme.Slug, "--to", time, "--reason", "bad migration", "--wait"], run.Alice, output, new StringWriter());
        var id = await WaitForIdAsync(output);
        await WaitForTextAsync(output, $"rcm-pitr approve {id}");
        var approveOutput = new StringWriter();
        var approved = await CliApp.RunAsync(["approve", id, "--comment", "looks right"], run.Bob, approveOutput, new StringWriter());
        var exit = await restore;

        Assert.Equal(0, approved);
        Assert.Contains("approved by bob", approveOutput.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Matches(@"\[succeeded\] +move tenant database +[0-9.]+ s +tenant_\S+_restore_\d{14}_[0-9a-f]{6}, streaming: \d+ tables", text);
        Assert.Matches(@"transfer \(streaming\): done, (\d+)/\1 tables", text);
        Assert.Contains("members.member", text, StringComparison.Ordinal);
        Assert.Contains($"rcm-pitr approve {id}", text, StringComparison.Ordinal);
        Assert.Contains("Restored:", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RollbackAndList_AfterARestore_RollbackWaitsForASecondPersonAndTheListShowsEachRunsKindAndOutcome()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 9);
        var time = run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var output = new LockedStringWriter();
        var restore = CliApp.RunAsync(["restore", "--tenant", acme.Slug, "--to", time, "--reason", "bad migration", "--wait"], run.Alice, output, new StringWriter());
        var id = await WaitForIdAsync(output);
        await WaitForTextAsync(output, $"rcm-pitr approve {id}");
        Assert.Equal(0, await CliApp.RunAsync(["approve", id], run.Bob, new StringWriter(), new StringWriter()));
        Assert.Equal(0, await restore);

        var rollbackOutput = new LockedStringWriter();
        var rollbackError = new LockedStringWriter();
        var rollback = CliApp.RunAsync(["rollback", id, "--reason", "wrong point", "--wait"], run.Alice, rollbackOutput, rollbackError);
        await WaitForTextAsync(rollbackOutput, $"rcm-pitr approve {id}-rollback");
        Assert.Equal(0, await CliApp.RunAsync(["approve", $"{id}-rollback"], run.Bob, new StringWriter(), new StringWriter()));
        var rolledBack = await rollback;
        var list = new StringWriter();
        var listed = await CliApp.RunAsync(["list", "--tenant", acme.Slug], run.Alice, list, new StringWriter());

        Assert.True(rolledBack == 0, rollbackError.ToString() + rollbackOutput);
        Assert.Contains("RolledBack", rollbackOutput.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, listed);
        var rows = list.ToString().Trim().Split('\n');
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(id)}-rollback +{acme.Slug} +rollback +\S+ \S+ +Completed +RolledBack ", rows[1]);
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(id)} +{acme.Slug} +restore +\S+ \S+ +Completed +Restored ", rows[2]);
        Assert.Equal(3, rows.Length);
    }

    [Fact]
    public async Task Restore_WaitOnARejectedRun_Exits1WithAOneLineReasonOnStderr()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var output = new LockedStringWriter();
        var error = new LockedStringWriter();
        var time = run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

        var restore = CliApp.RunAsync(["restore", "--tenant", acme.Slug, "--to", time, "--reason", "bad migration", "--wait"], run.Alice, output, error);
        var id = await WaitForIdAsync(output);
        await WaitForTextAsync(output, $"rcm-pitr approve {id}");
        var rejected = await CliApp.RunAsync(["reject", id, "--comment", "wrong minute"], run.Bob, new StringWriter(), new StringWriter());
        var exit = await restore;

        Assert.Equal(0, rejected);
        Assert.Equal(1, exit);
        var reason = Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.StartsWith("Rejected", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_OwnRun_FailsWithAOneLineReason()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var output = new StringWriter();
        var time = run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, await CliApp.RunAsync(["restore", "--tenant", acme.Slug, "--to", time, "--reason", "r"], run.Alice, output, new StringWriter()));
        var id = await WaitForIdAsync(output);
        await run.WaitAsync(id, HostRun.AwaitingApproval);
        var error = new StringWriter();

        var exit = await CliApp.RunAsync(["approve", id], run.Alice, new StringWriter(), error);

        Assert.Equal(1, exit);
        Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.Contains("requested this run", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await CliApp.RunAsync(["cancel", id, "--reason", "test over"], run.Alice, new StringWriter(), new StringWriter()));
        Assert.Equal("Cancelled", (await run.WaitAsync(id, HostRun.Terminal)).GetProperty("output").GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Restore_MissingRequiredOptionOrBadTime_ExitsWithUsageOrRequestError()
    {
        await using var run = await HostRun.StartAsync(fx);
        var usage = new StringWriter();
        var badTime = new StringWriter();

        var missing = await CliApp.RunAsync(["restore", "--to", "2026-04-22T14:30:00Z", "--reason", "r"], run.Alice, new StringWriter(), usage);
        var rejected = await CliApp.RunAsync(["restore", "--tenant", "acme", "--to", "yesterday", "--reason", "r"], run.Alice, new StringWriter(), badTime);

        Assert.Equal(2, missing);
        Assert.Contains("--tenant", usage.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, rejected);
        Assert.Contains("restoreTime", badTime.ToString(), StringComparison.Ordinal);
    }

    private static async Task WaitForTextAsync(StringWriter output, string expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!output.ToString().Contains(expected, StringComparison.Ordinal))
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    private static async Task<string> WaitForIdAsync(StringWriter output)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = output.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("started ", StringComparison.Ordinal));
            if (line is not null)
            {
                return line["started ".Length..].Trim();
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
