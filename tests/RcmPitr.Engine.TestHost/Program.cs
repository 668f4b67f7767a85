using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.TestHost;

// Usage: RcmPitr.Engine.TestHost <slow-seconds> <lease-seconds>; the connection string comes from the
// environment (RCM_ENGINE_TEST_CONNECTION), so no password is on this process's command line.
if (!OperatingSystem.IsLinux())
{
    return 2;
}

var connectionString = Environment.GetEnvironmentVariable("RCM_ENGINE_TEST_CONNECTION") ?? throw new InvalidOperationException("RCM_ENGINE_TEST_CONNECTION is not set.");
var slow = TimeSpan.FromSeconds(double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture));
var lease = TimeSpan.FromSeconds(double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
await using var dataSource = NpgsqlDataSource.Create(connectionString);
await ProbeWorkflows.EnsureTablesAsync(dataSource);
var registry = ProbeWorkflows.Register(new DurableRegistry(), dataSource, slow);
await using var engine = new DurableEngine(dataSource, registry, new EngineOptions { ActivityLease = lease, PollInterval = TimeSpan.FromMilliseconds(200) }, TimeProvider.System, NullLoggerFactory.Instance);
await engine.StartAsync(CancellationToken.None);
Console.WriteLine("engine started");
await Task.Delay(Timeout.Infinite);
return 0;
