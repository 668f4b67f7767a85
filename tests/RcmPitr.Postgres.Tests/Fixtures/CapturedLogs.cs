using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>Every log line the operations of one test wrote (message, structured values and exception text).</summary>
public sealed class CapturedLogs
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyList<string> Entries => [.. _entries];

    public ILogger<T> For<T>() => new CapturingLogger<T>(this);

    public void Add(string entry) => _entries.Enqueue(entry);

    /// <summary>All captured text in one string, for "never contains" checks.</summary>
    public string All => string.Join('\n', _entries);
}
