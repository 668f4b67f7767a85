using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RcmPitr.Api;
using RcmPitr.Host.Api;
using RcmPitr.Host.Composition;
using RcmPitr.Postgres.Movers;

namespace RcmPitr.Host;

/// <summary>Builds the embedded host: configuration, services, engine and API.</summary>
public static class RcmPitrApp
{
    private static readonly Action<ILogger, string, Exception?> CpuYieldRecovered =
        LoggerMessage.Define<string>(LogLevel.Warning, new EventId(1, nameof(CpuYieldRecovered)), "{Message}");

    /// <summary>Where the host listens unless configured otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:7171";

    /// <summary>
    /// Builds the app. Configuration: <c>appsettings.json</c> beside the binary, an optional file named by
    /// <c>--config</c> / <paramref name="configFile"/>, environment variables (<c>RcmPitr__…</c>) and arguments.
    /// </summary>
    public static WebApplication Build(string[] args, string? configFile = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        if (configFile is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddCommandLine(args);
        }

        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // A second fence behind ApiRequestBody: no request body on this server is ever read past the API's limit.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = ApiRequestBody.MaxBytes);
        builder.Services.Configure<RcmPitrOptions>(builder.Configuration.GetSection(RcmPitrOptions.Section));
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<ApiKeys>();
        builder.Services.AddSingleton(sp => new StartRateLimiter(sp.GetRequiredService<RcmPitrOptions>().RateLimit, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddRcmPitr();
        configure?.Invoke(builder);
        // Off unless set: a drill provisions restored servers (on Azure, real ones), so it runs only where someone asked for it.
        builder.Services.AddSingleton(sp => new DrillSchedule(sp.GetRequiredService<RcmPitrOptions>().DryRunSchedule ?? builder.Configuration["DryRunSchedule"]));
        builder.Services.AddHostedService<DrillScheduler>();
        builder.AddRcmPitrTelemetry();

        var app = builder.Build();
        // Check the principals now, so a misconfigured key stops the host before it listens.
        app.Services.GetRequiredService<ApiKeys>();
        DrillScheduler.Validate(app.Services.GetRequiredService<DrillSchedule>());
        app.Services.GetRequiredService<RcmPitrOptions>().DataMover.Validate();
        TenantMover.RecoverCpuYield(message => CpuYieldRecovered(app.Logger, message, null));
        app.Services.GetRequiredService<RcmPitr.Activities.Notifications.NotificationOptions>().ListeningAddress = () => HostServices.NamedAddress(app.Urls);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapRestoresApi();
        app.MapRestoreBatchesApi();
        app.MapDrillsApi();
        app.MapServerRecoveriesApi();
        app.MapCallerApi();
        app.MapWebPages();
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
        return app;
    }
}
