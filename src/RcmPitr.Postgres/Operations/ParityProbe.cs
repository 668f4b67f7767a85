using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 5: counts of the canary tables in the restored copy and in the live database, and the
/// verdict of <see cref="ParityRules"/>. Only counts leave the databases — never row data. Read-only.
/// After cutover it also runs the <see cref="SmokeProbe"/>, when one is configured.
/// </summary>
public sealed class ParityProbe(PgConnector connector, SmokeProbe? smoke = null)
{
    /// <summary>Counts and judges.</summary>
    public async Task<ParityReport> ProbeAsync(ParityProbeInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        var stamp = RestoreStamp.Parse(input.Stamp);
        var restored = input.RestoredDatabase switch
        {
            DerivedDatabaseKind.Restore or DerivedDatabaseKind.AsOf => names.Derived(input.RestoredDatabase, stamp, input.RunId),
            _ => throw new ArgumentOutOfRangeException(nameof(input), input.RestoredDatabase, "parity compares a restore or as-of copy"),
        };
        var tables = CanaryTable.ParseList(input.CanaryTables);
        var rules = new ParityRules(input.OrdersOfMagnitudeFactor);

        var live = names.OwnOrCanonical(input.LiveDatabase, "liveDatabase");
        var liveCounts = await CountAsync(input.Live, live, tables, cancellationToken);
        var restoredCounts = await CountAsync(input.Live, restored, tables, cancellationToken)
                             ?? throw new Workflow.Errors.DatabaseStateConflictException($"{restored} does not exist on {input.Live.Name}; nothing to compare.");
        var rows = tables.Select((t, i) => rules.Judge(t.ToString(), liveCounts?[i], restoredCounts[i])).ToList();
        return ParityReport.From(live, restored, rows);
    }

    /// <summary>
    /// The post-cutover check: the database the tenant now resolves to is reachable and holds exactly the
    /// canary counts the restored copy had before cutover. Throws when it does not.
    /// </summary>
    public async Task<VerifyCutoverResult> VerifyCutoverAsync(VerifyCutoverInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var database = Workflow.Naming.PgIdentifierRules.RequireDatabaseName(input.Database);
        var tables = input.ExpectedCounts.Keys.Select(CanaryTable.Parse).ToList();
        var counts = await CountAsync(input.Live, database, tables, cancellationToken)
                     ?? throw new Workflow.Errors.DatabaseStateConflictException($"{database} does not exist on {input.Live.Name} after cutover.");
        var found = tables.Select((t, i) => (Table: t.ToString(), Count: counts[i])).ToList();
        var mismatches = found.Where(f => f.Count != input.ExpectedCounts[f.Table]).Select(f => $"{f.Table}: expected {input.ExpectedCounts[f.Table]}, found {f.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no table"}").ToList();
        if (mismatches.Count > 0)
        {
            throw new Workflow.Errors.DatabaseStateConflictException($"{database} after cutover does not match the restored copy: {string.Join("; ", mismatches)}");
        }

        var signedInAs = smoke is { Enabled: true } ? await smoke.RunAsync(input.Live, database, cancellationToken) : null;
        return new VerifyCutoverResult(database, found.ToDictionary(f => f.Table, f => f.Count!.Value)) { SignedInAs = signedInAs };
    }

    /// <summary>Counts per table (null: table missing); null overall when the database does not exist.</summary>
    private async Task<long?[]?> CountAsync(DbServerInfo server, string database, IReadOnlyList<CanaryTable> tables, CancellationToken cancellationToken)
    {
        await using (var maintenance = await connector.OpenMaintenanceAsync(server, cancellationToken))
        {
            if (await new ServerCatalog(maintenance).FindAsync(database, cancellationToken) is null)
            {
                return null;
            }
        }

        await using var connection = await connector.OpenAsync(server, database, cancellationToken);
        var counts = new long?[tables.Count];
        for (var i = 0; i < tables.Count; i++)
        {
            var qualified = PgQuote.Qualified(tables[i].Schema, tables[i].Table);
            await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection);
            exists.Parameters.Add(new NpgsqlParameter { Value = qualified });
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                continue;
            }

            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {qualified}", connection);
            counts[i] = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return counts;
    }
}
