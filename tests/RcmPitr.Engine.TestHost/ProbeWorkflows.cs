using System.Runtime.Versioning;
using Npgsql;
using RcmPitr.Engine.Hosting;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.TestHost;

public sealed record ProbeInput(string Label);

/// <summary>
/// Probe workflow for durability tests. "Effect" writes a side effect keyed by (instance, step) with
/// ON CONFLICT DO NOTHING — the idempotent shape every real activity has — and counts its executions.
/// "Slow" records that it started, then works for a while, so a test can kill the process during it.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ProbeWorkflows
{
    public const string Orchestrator = "CrashProbe";

    public static async Task EnsureTablesAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            """
            CREATE TABLE IF NOT EXISTS probe_effects (instance_id text, step int, PRIMARY KEY (instance_id, step));
            CREATE TABLE IF NOT EXISTS probe_executions (id bigint GENERATED ALWAYS AS IDENTITY, instance_id text, activity text, step int);
            """);
        await command.ExecuteNonQueryAsync();
    }

    public static DurableRegistry Register(DurableRegistry registry, NpgsqlDataSource dataSource, TimeSpan slowFor) => registry
        .AddOrchestrator<ProbeInput, string>(Orchestrator, async (context, input) =>
        {
            await context.CallActivityAsync<int>("Effect", new EffectInput(context.InstanceId, 1));
            await context.CallActivityAsync<int>("Slow", new EffectInput(context.InstanceId, 2));
            await context.CallActivityAsync<int>("Effect", new EffectInput(context.InstanceId, 3));
            return $"{input.Label} done";
        })
        .AddActivity<EffectInput, int>("Effect", async (input, cancellationToken) =>
        {
            await RecordExecutionAsync(dataSource, input, "Effect", cancellationToken);
            await using var command = dataSource.CreateCommand("INSERT INTO probe_effects VALUES ($1, $2) ON CONFLICT DO NOTHING");
            command.Parameters.Add(new NpgsqlParameter { Value = input.InstanceId });
            command.Parameters.Add(new NpgsqlParameter { Value = input.Step });
            return await command.ExecuteNonQueryAsync(cancellationToken);
        })
        .AddActivity<EffectInput, int>("Slow", async (input, cancellationToken) =>
        {
            await RecordExecutionAsync(dataSource, input, "Slow", cancellationToken);
            await Task.Delay(slowFor, cancellationToken);
            return 0;
        });

    private static async Task RecordExecutionAsync(NpgsqlDataSource dataSource, EffectInput input, string activity, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO probe_executions (instance_id, activity, step) VALUES ($1, $2, $3)");
        command.Parameters.Add(new NpgsqlParameter { Value = input.InstanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = activity });
        command.Parameters.Add(new NpgsqlParameter { Value = input.Step });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed record EffectInput(string InstanceId, int Step);
