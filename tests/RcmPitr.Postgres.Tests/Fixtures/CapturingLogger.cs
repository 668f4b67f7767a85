using System.Text;
using Microsoft.Extensions.Logging;

namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>A logger that records everything, at every level, into <see cref="CapturedLogs"/>.</summary>
public sealed class CapturingLogger<T>(CapturedLogs logs) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var entry = new StringBuilder().Append(logLevel).Append(' ').Append(typeof(T).Name).Append(": ").Append(formatter(state, exception));
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                entry.Append(" | ").Append(key).Append('=').Append(value);
            }
        }

        if (exception is not null)
        {
            entry.Append('\n').Append(exception);
        }

        logs.Add(entry.ToString());
    }
}
