using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RcmPitr.Telemetry;

namespace RcmPitr.Host.Composition;

/// <summary>
/// Exports RcmPitr's traces and metrics (<see cref="RcmPitrTelemetry.Name"/>) over OTLP when an endpoint is configured:
/// <c>RcmPitr:Telemetry:OtlpEndpoint</c> (environment <c>RcmPitr__Telemetry__OtlpEndpoint</c>), or the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> with the other <c>OTEL_EXPORTER_OTLP_*</c> variables. Without either, nothing is
/// registered and recording costs nothing. Logs are not exported: they stay where the host writes them.
/// </summary>
public static class HostTelemetry
{
    /// <summary>The service name unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string ServiceName = "rcm-pitr";

    /// <summary>Adds the exporters the configuration asks for; call after every configuration source is added.</summary>
    public static WebApplicationBuilder AddRcmPitrTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new TelemetryOptions();
        builder.Configuration.GetSection(TelemetryOptions.Section).Bind(options);
        var standard = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (options.OtlpEndpoint is null && !standard)
        {
            return builder;
        }

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : ServiceName;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing => tracing
                .AddSource(RcmPitrTelemetry.Name)
                .AddOtlpExporter(otlp => Configure(otlp, options, "v1/traces")))
            .WithMetrics(metrics => metrics
                .AddMeter(RcmPitrTelemetry.Name)
                .AddOtlpExporter((otlp, reader) =>
                {
                    Configure(otlp, options, "v1/metrics");
                    if (options.MetricExportInterval is { } every)
                    {
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)every.TotalMilliseconds;
                    }
                }));
        return builder;
    }

    /// <summary>
    /// RcmPitr's own endpoint wins over the standard variables. It is a base address: with OTLP/HTTP each signal goes to
    /// its path under it (<c>/v1/traces</c>, <c>/v1/metrics</c>), as the standard variable does.
    /// </summary>
    private static void Configure(OtlpExporterOptions otlp, TelemetryOptions options, string signalPath)
    {
        if (options.OtlpEndpoint is not { } endpoint)
        {
            return;
        }

        otlp.Protocol = options.OtlpProtocol;
        var address = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        otlp.Endpoint = options.OtlpProtocol == OtlpExportProtocol.HttpProtobuf ? new Uri(address, signalPath) : endpoint;
    }
}

/// <summary>Telemetry settings of the embedded host (section <c>RcmPitr:Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RcmPitr:Telemetry";

    /// <summary>The OTLP receiver's base address (e.g. <c>http://127.0.0.1:4318</c>); unset: the standard variables, if any.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary><c>HttpProtobuf</c> (default, port 4318) or <c>Grpc</c> (port 4317) for <see cref="OtlpEndpoint"/>.</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.HttpProtobuf;

    /// <summary>How often metrics are exported; unset: the SDK's default (60 s, or <c>OTEL_METRIC_EXPORT_INTERVAL</c>).</summary>
    public TimeSpan? MetricExportInterval { get; set; }
}
