using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using RcmPitr.Testing;

namespace RcmPitr.Infra.Tests;

/// <summary>
/// The Bicep CLI of the checkout (<c>.tools/bicep/bicep</c>, which <c>scripts/install-prerequisites.sh</c> installs from
/// its NuGet package). Missing, it skips the tests locally and fails them on CI. Each template is built once per test run.
/// </summary>
internal static class Bicep
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly ConcurrentDictionary<string, Lazy<Task<BicepRun>>> Builds = new(StringComparer.Ordinal);

    /// <summary>The checkout's root (the folder holding the solution).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string Executable => Path.Combine(RepositoryRoot, ".tools", "bicep", "bicep");

    /// <summary>Every template: <c>infra/*.bicep</c> and <c>infra/modules/*.bicep</c>, as paths relative to the root.</summary>
    public static IReadOnlyList<string> Templates()
    {
        var infra = Path.Combine(RepositoryRoot, "infra");
        return Directory.EnumerateFiles(infra, "*.bicep")
            .Concat(Directory.EnumerateFiles(Path.Combine(infra, "modules"), "*.bicep"))
            .Select(path => Path.GetRelativePath(RepositoryRoot, path))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Skips (locally) or fails (CI) when the CLI is not installed.</summary>
    public static void Require()
    {
        if (!File.Exists(Executable))
        {
            Prerequisites.Missing($"the Bicep CLI at {Executable} (scripts/install-prerequisites.sh installs it)");
        }
    }

    /// <summary>Runs the CLI with <paramref name="arguments"/> in the checkout's root.</summary>
    public static async Task<BicepRun> RunAsync(params string[] arguments)
    {
        Require();
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("the Bicep CLI did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout}");
        }

        return new BicepRun(process.ExitCode, await output, await errors);
    }

    /// <summary><c>bicep build --stdout</c> of <paramref name="template"/>, run once per test run.</summary>
    public static Task<BicepRun> BuildAsync(string template)
    {
        Require();
        return Builds.GetOrAdd(template, key => new Lazy<Task<BicepRun>>(() => RunAsync("build", "--stdout", key))).Value;
    }

    /// <summary>The ARM JSON <paramref name="template"/> compiles to.</summary>
    public static async Task<JsonObject> CompileAsync(string template)
    {
        var run = await BuildAsync(template);
        if (run.ExitCode != 0 || run.Errors.Length > 0)
        {
            throw new InvalidOperationException($"bicep build {template} failed (rc {run.ExitCode}):\n{run.Errors}");
        }

        return JsonNode.Parse(run.Output)?.AsObject() ?? throw new InvalidOperationException($"bicep build {template} printed no JSON");
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RcmPitr.Functions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no RcmPitr.Functions.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>One run of the CLI: exit code, standard output and standard error.</summary>
internal sealed record BicepRun(int ExitCode, string Output, string Errors);
