using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using RcmPitr.Functions.Composition;

if (!OperatingSystem.IsLinux())
{
    throw new PlatformNotSupportedException("RcmPitr's Functions app runs in its Linux container (infra/Dockerfile).");
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddRcmPitrFunctions(builder.Configuration);
builder.AddRcmPitrTelemetry();
builder.Build().Run();
