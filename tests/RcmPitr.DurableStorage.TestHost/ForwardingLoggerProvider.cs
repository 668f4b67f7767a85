using Microsoft.Extensions.Logging;

namespace RcmPitr.DurableStorage.TestHost;

/// <summary>Lets both hosts of the process log through one factory (warnings and errors to stderr).</summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

    public void Dispose()
    {
    }
}
