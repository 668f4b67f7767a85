using RcmPitr.Local;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;

namespace RcmPitr.Local.Tests;

/// <summary>A local environment in a temporary home, torn down and removed at the end of the test.</summary>
public sealed class LocalHome : IAsyncDisposable
{
    private readonly int _depth;

    private LocalHome(string path, int depth = 1)
    {
        _depth = depth;
        Path = path;
        Environment = new LocalEnvironment(new LocalLayout(path), new ProcessRunner(), TimeProvider.System);
    }

    public string Path { get; }
    public LocalEnvironment Environment { get; }

    public static Task<LocalHome> CreateAsync() => CreateAsync("home");

    /// <summary>A home at <c>&lt;fresh root&gt;/&lt;relativePath&gt;</c>; the root is removed at the end.</summary>
    public static async Task<LocalHome> CreateAsync(string relativePath)
    {
        var missing = await TestClusters.MissingProgramsAsync(new PgToolLocator(new PgToolOptions(), new ProcessRunner()));
        if (missing is not null)
        {
            Prerequisites.Missing(missing);
        }

        return new LocalHome(System.IO.Path.Combine(TestClusters.NewRoot(), relativePath), relativePath.Count(c => c == '/') + 1);
    }

    public async ValueTask DisposeAsync()
    {
        await Environment.DownAsync(purge: true, TextWriter.Null, CancellationToken.None);
        var parent = Path;
        for (var i = 0; i < _depth; i++)
        {
            parent = System.IO.Path.GetDirectoryName(parent)!;
        }

        if (Directory.Exists(parent))
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
