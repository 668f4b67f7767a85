using System.Runtime.Versioning;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Testing;

/// <summary>Starts throwaway clusters for tests, after checking the PostgreSQL programs are installed.</summary>
[SupportedOSPlatform("linux")]
public static class TestClusters
{
    /// <summary>A fresh folder for one test assembly's clusters.</summary>
    public static string NewRoot() => Path.Combine(Path.GetTempPath(), "rcm-pitr-tests", Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Null when initdb, pg_ctl, pg_dump and pg_restore are found; else why not.</summary>
    public static async Task<string?> MissingProgramsAsync(PgToolLocator tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        try
        {
            foreach (var program in new[] { "initdb", "pg_ctl", "pg_dump", "pg_restore" })
            {
                await tools.LocateAsync(program, requiredMajor: null, CancellationToken.None);
            }

            return null;
        }
        catch (PreflightFailedException e)
        {
            return e.Message;
        }
    }

    /// <summary>Creates and starts a throwaway (fsync off) cluster under <paramref name="root"/>.</summary>
    public static Task<LocalCluster> StartAsync(string root, string name, string password, PgToolLocator tools, IProcessRunner processes) =>
        LocalCluster.CreateAsync(
            new LocalClusterOptions { RootDirectory = Path.Combine(root, name), Name = name, Password = password, Throwaway = true },
            tools, processes, CancellationToken.None);
}
