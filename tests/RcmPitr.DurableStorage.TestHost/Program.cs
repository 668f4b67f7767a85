using System.Net;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RcmPitr.DurableStorage.TestHost;
using RcmPitr.Functions.Composition;

// Hosts the Functions app's orchestrator triggers on the real Durable Task SDK (Microsoft.DurableTask.Worker) over the
// Azure Storage provider: a gRPC sidecar (the SDK's own TaskHubGrpcServer) dispatches the task hub's work items to the
// worker, as the Functions host does for the isolated worker. Everything comes from the environment, so no connection
// string is on this process's command line:
//   RCMPITR_STORAGE_CONNECTION  the storage account (Azurite's, with explicit endpoints)
//   RCMPITR_TASK_HUB            the task hub
//   RCMPITR_ACTIVITY_LOG        the file that gets one line per activity execution
// Prints "ready <address of the sidecar>" once the worker is connected; logs warnings and errors to stderr.
if (!OperatingSystem.IsLinux())
{
    return 2;
}

var connectionString = Required("RCMPITR_STORAGE_CONNECTION");
var taskHub = Required("RCMPITR_TASK_HUB");
var log = new ActivityLog(Required("RCMPITR_ACTIVITY_LOG"));

using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(LogLevel.Warning)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
var service = StorageBackend.Create(connectionString, taskHub, loggerFactory);
await service.CreateIfNotExistsAsync();

var sidecarBuilder = WebApplication.CreateSlimBuilder();
sidecarBuilder.Logging.ClearProviders().AddProvider(new ForwardingLoggerProvider(loggerFactory));
sidecarBuilder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
sidecarBuilder.Services.AddGrpc();
sidecarBuilder.Services.AddSingleton<IOrchestrationService>(service);
sidecarBuilder.Services.AddSingleton<IOrchestrationServiceClient>(service);
sidecarBuilder.Services.AddSingleton<TaskHubGrpcServer>();
await using var sidecar = sidecarBuilder.Build();
sidecar.MapGrpcService<TaskHubGrpcServer>();
await sidecar.StartAsync();
var address = sidecar.Urls.Single();

using var channel = GrpcChannel.ForAddress(address);
var workerBuilder = Host.CreateApplicationBuilder();
workerBuilder.Logging.ClearProviders().AddProvider(new ForwardingLoggerProvider(loggerFactory));
// The Functions app's payload JSON (camelCase, enums as strings), as its worker serializer is configured.
workerBuilder.Services.AddSingleton<DataConverter>(new JsonDataConverter(FunctionsServices.Json));
workerBuilder.Services.AddDurableTaskWorker(worker =>
{
    worker.UseGrpc(channel);
    worker.AddTasks(registry => HostedTasks.Register(registry, log));
});
using var worker = workerBuilder.Build();
await worker.StartAsync();
Console.WriteLine($"ready {address}");

await worker.WaitForShutdownAsync();
await sidecar.StopAsync();
return 0;

static string Required(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set.");
