using RcmPitr.Local;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;

namespace RcmPitr.Local.Tests;

/// <summary>A local environment in a temporary home, torn down and removed at the end of the test.</summary>
public sealed class LocalHome : IAsyncDisposable
{
    private LocalHome(string path)
    {
        Path = path;
        Environment = new LocalEnvironment(new LocalLayout(path), new ProcessRunner(), TimeProvider.System);
    }

    public string Path { get; }
    public LocalEnvironment Environment { get; }

    public static async Task<LocalHome> CreateAsync()
    {
        var missing = await TestClusters.MissingProgramsAsync(new PgToolLocator(new PgToolOptions(), new ProcessRunner()));
        if (missing is not null)
        {
            Prerequisites.Missing(missing);
        }

        return new LocalHome(System.IO.Path.Combine(TestClusters.NewRoot(), "home"));
    }

    public async ValueTask DisposeAsync()
    {
        await Environment.DownAsync(purge: true, TextWriter.Null, CancellationToken.None);
        var parent = System.IO.Path.GetDirectoryName(Path)!;
        if (Directory.Exists(parent))
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
