using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using RcmPitr.Telemetry;

namespace RcmPitr.Functions.Activities;

/// <summary>
/// Tells the activities which orchestration instance an activity trigger runs for (<see cref="StepInvocation"/>), so
/// their telemetry names the run even when the input does not. Durable passes the instance id as the trigger's
/// <c>instanceId</c> binding data; other triggers pass through untouched.
/// </summary>
internal sealed partial class StepInvocationMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (InstanceIdOf(context) is not { } instanceId)
        {
            await next(context);
            return;
        }

        using (StepInvocation.Begin(new StepInvocation(instanceId)))
        {
            await next(context);
        }
    }

    /// <summary>The instance id of an activity trigger's invocation, or null (another trigger, or no usable id).</summary>
    internal static string? InstanceIdOf(FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var isActivity = context.FunctionDefinition.InputBindings.Values.Any(b => string.Equals(b.Type, "activityTrigger", StringComparison.OrdinalIgnoreCase));
        if (!isActivity || !context.BindingContext.BindingData.TryGetValue("instanceId", out var value) || value?.ToString() is not { } text)
        {
            return null;
        }

        // Binding data may arrive JSON-encoded; a run id is a short safe token either way.
        var id = text.Trim('"');
        return RunIdPattern().IsMatch(id) ? id : null;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
