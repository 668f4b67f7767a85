using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RcmPitr.Functions.Activities;
using RcmPitr.Telemetry;

namespace RcmPitr.Functions.Composition;

/// <summary>
/// RcmPitr's traces and metrics (<see cref="RcmPitrTelemetry.Name"/>) to Application Insights when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set. When <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> is
/// <c>Authorization=AAD[;ClientId=…]</c> (ingestion with Entra ID only; the identity needs Monitoring Metrics Publisher on
/// the component) the exporter authenticates with that managed identity. Logs keep going through the Functions host.
/// </summary>
public static class FunctionsTelemetry
{
    /// <summary>Adds the activity middleware and, when configured, the Azure Monitor exporters.</summary>
    public static FunctionsApplicationBuilder AddRcmPitrTelemetry(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseMiddleware<StepInvocationMiddleware>();
        var connectionString = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return builder;
        }

        var credential = IngestionCredential(builder.Configuration);
        builder.Services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithTracing(tracing => tracing
                .AddSource(RcmPitrTelemetry.Name)
                .AddAzureMonitorTraceExporter(o => o.ConnectionString = connectionString, credential))
            .WithMetrics(metrics => metrics
                .AddMeter(RcmPitrTelemetry.Name)
                .AddAzureMonitorMetricExporter(o => o.ConnectionString = connectionString, credential));
        return builder;
    }

    /// <summary>
    /// The managed identity for Entra-only ingestion, named like the Functions host reads it
    /// (<c>Authorization=AAD;ClientId=&lt;client id&gt;</c>; without a client id, <c>AZURE_CLIENT_ID</c>), or null for key-based
    /// ingestion through the connection string alone.
    /// </summary>
    internal static TokenCredential? IngestionCredential(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var parts = (configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var clientId = parts.GetValueOrDefault("ClientId") is { Length: > 0 } id ? id : configuration["AZURE_CLIENT_ID"];
        // The same kind of credential as the app's other Azure clients (FunctionsServices), for the same identity.
        return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
    }
}
