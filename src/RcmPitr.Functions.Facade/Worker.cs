// Facade of Microsoft.Azure.Functions.Worker(.Extensions.*) — compile-only, never shipped.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Azure.Functions.Worker
{
    [AttributeUsage(AttributeTargets.Method)]
    public class FunctionAttribute(string name) : Attribute
    {
        public string Name { get; } = name;
    }

    public enum AuthorizationLevel
    {
        Anonymous = 0,
        User = 1,
        Function = 2,
        System = 3,
        Admin = 4,
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class HttpTriggerAttribute : Attribute
    {
        public HttpTriggerAttribute(AuthorizationLevel authLevel, params string[] methods)
        {
            AuthLevel = authLevel;
            Methods = methods;
        }

        public string? Route { get; set; }
        public string[]? Methods { get; private set; }
        public AuthorizationLevel AuthLevel { get; private set; }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class TimerTriggerAttribute(string schedule) : Attribute
    {
        public string Schedule { get; private set; } = schedule;
        public bool UseMonitor { get; set; } = true;
        public bool RunOnStartup { get; set; }
    }

    public class TimerInfo
    {
        public ScheduleStatus? ScheduleStatus { get; set; }
        public bool IsPastDue { get; set; }
    }

    public class ScheduleStatus
    {
        public DateTime Last { get; set; }
        public DateTime Next { get; set; }
        public DateTime LastUpdated { get; set; }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class OrchestrationTriggerAttribute : Attribute
    {
        public string? Orchestration { get; set; }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class ActivityTriggerAttribute : Attribute
    {
        public string? Activity { get; set; }
    }

    public class WorkerOptions
    {
        public global::Azure.Core.Serialization.ObjectSerializer? Serializer { get; set; }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class DurableClientAttribute : Attribute
    {
        public string? TaskHub { get; set; }
        public string? ConnectionName { get; set; }
    }
}

namespace Microsoft.Azure.Functions.Worker.Builder
{
    public static class FunctionsApplication
    {
        public static FunctionsApplicationBuilder CreateBuilder(string[] args) => throw new NotSupportedException("Compile-only facade.");
    }

    public class FunctionsApplicationBuilder : IHostApplicationBuilder
    {
        private FunctionsApplicationBuilder()
        {
        }

        public IServiceCollection Services => throw new NotSupportedException("Compile-only facade.");
        public ConfigurationManager Configuration => throw new NotSupportedException("Compile-only facade.");
        IConfigurationManager IHostApplicationBuilder.Configuration => Configuration;
        public IHostEnvironment Environment => throw new NotSupportedException("Compile-only facade.");
        public Microsoft.Extensions.Logging.ILoggingBuilder Logging => throw new NotSupportedException("Compile-only facade.");
        public Microsoft.Extensions.Diagnostics.Metrics.IMetricsBuilder Metrics => throw new NotSupportedException("Compile-only facade.");
        public IDictionary<object, object> Properties => throw new NotSupportedException("Compile-only facade.");

        public IHost Build() => throw new NotSupportedException("Compile-only facade.");

        public void ConfigureContainer<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)
            where TContainerBuilder : notnull => throw new NotSupportedException("Compile-only facade.");
    }

    public static class FunctionsApplicationBuilderAspNetCoreExtensions
    {
        public static FunctionsApplicationBuilder ConfigureFunctionsWebApplication(this FunctionsApplicationBuilder builder) => throw new NotSupportedException("Compile-only facade.");
    }
}
