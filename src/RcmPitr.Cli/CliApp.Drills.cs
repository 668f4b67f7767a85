using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>The drill commands: <c>drill run|list|show</c>.</summary>
public static partial class CliApp
{
    private sealed partial class Commands
    {
        private Command Drill()
        {
            var command = new Command("drill", "Restore drills: dry runs of many tenants to one time on one restored server per source server, with a report per tenant.");
            command.Subcommands.Add(DrillRun());
            command.Subcommands.Add(DrillList());
            command.Subcommands.Add(DrillShow());
            return command;
        }

        private Command DrillRun()
        {
            var tenants = new Option<string>("--tenants") { Description = "Tenants to drill, comma-separated (default: the host's DryRun:Tenants, else every tenant)" };
            var wait = new Option<bool>("--wait") { Description = "Wait for the report and print it" };
            var command = new Command("run", "Start a restore drill now.") { tenants, wait };
            command.SetAction(async (parse, ct) =>
            {
                var list = parse.GetValue(tenants)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                var api = new ApiClient(client(parse));
                var (status, body) = await api.SendAsync(HttpMethod.Post, "/api/drills", new { tenants = list }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    await FailAsync(status, body);
                    if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("skipped", out var refused))
                    {
                        foreach (var skip in refused.EnumerateArray())
                        {
                            await error.WriteLineAsync($"  {Text(skip, "tenant")}: {Text(skip, "reason")}");
                        }
                    }

                    return 1;
                }

                var id = body.GetProperty("id").GetString()!;
                await output.WriteLineAsync($"started drill {id}");
                await output.WriteLineAsync($"  report: {body.GetProperty("statusQueryGetUri").GetString()}");
                await output.WriteLineAsync($"  page:   {body.GetProperty("page").GetString()}");
                foreach (var skip in body.GetProperty("skipped").EnumerateArray())
                {
                    await output.WriteLineAsync($"  skipped {Text(skip, "tenant")}: {Text(skip, "reason")}");
                }

                if (!parse.GetValue(wait))
                {
                    return 0;
                }

                while (true)
                {
                    var (state, report) = await api.SendAsync(HttpMethod.Get, $"/api/drills/{Uri.EscapeDataString(id)}", null, ct);
                    if (state == HttpStatusCode.OK)
                    {
                        await PrintDrillAsync(report);
                        return report.GetProperty("failed").GetInt32() == 0 ? 0 : 1;
                    }

                    if (state != HttpStatusCode.Accepted)
                    {
                        return await FailAsync(state, report);
                    }

                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
            });
            return command;
        }

        private Command DrillList() => ListCommand(
            "List drills, newest first, with how many tenants passed and failed.",
            "/api/drills",
            $"{"id",-34} {"status",-10} {"restore time",-20} {"tenants",7} {"passed",6} {"failed",6} started",
            drill => string.Create(CultureInfo.InvariantCulture,
                $"{drill.GetProperty("id").GetString(),-34} {drill.GetProperty("runtimeStatus").GetString(),-10} {UtcText(drill, "restoreTime"),-20} {drill.GetProperty("tenants").GetInt32(),7} " +
                $"{drill.GetProperty("passed").GetInt32(),6} {drill.GetProperty("failed").GetInt32(),6} {UtcText(drill, "createdTime")}"));

        private Command DrillShow()
        {
            var id = new Argument<string>("id") { Description = "Drill id" };
            var json = new Option<bool>("--json") { Description = "Print the raw report JSON" };
            var command = new Command("show", "Show a drill's report: every tenant's verdict and reason, phases, sizes, parity and reference check.") { id, json };
            command.SetAction(async (parse, ct) =>
            {
                return await ShowAsync(new ApiClient(client(parse)), $"/api/drills/{Uri.EscapeDataString(parse.GetValue(id)!)}", parse.GetValue(json), PrintDrillAsync, ct);
            });
            return command;
        }

        private async Task PrintDrillAsync(JsonElement report)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{report.GetProperty("id").GetString()}  {report.GetProperty("runtimeStatus").GetString()}  restore time {report.GetProperty("restoreTime").GetDateTimeOffset().UtcDateTime:u}: " +
                $"{report.GetProperty("passed").GetInt32()} passed, {report.GetProperty("failed").GetInt32()} failed"));
            foreach (var tenant in report.GetProperty("tenants").EnumerateArray())
            {
                var seconds = tenant.GetProperty("seconds").ValueKind == JsonValueKind.Number ? tenant.GetProperty("seconds").GetDouble().ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-";
                var bytes = tenant.GetProperty("bytesMoved").ValueKind == JsonValueKind.Number ? (tenant.GetProperty("bytesMoved").GetInt64() / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB" : "-";
                await output.WriteLineAsync($"  {(tenant.GetProperty("passed").GetBoolean() ? "PASS" : "FAIL")} {tenant.GetProperty("tenant").GetString(),-24} {seconds,9} {bytes,10} parity {Text(tenant, "parity"),-5} {OneLine(tenant.GetProperty("reason").GetString())}");
                var phases = tenant.GetProperty("phases").EnumerateArray()
                    .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.GetProperty("name").GetString()} {p.GetProperty("seconds").GetDouble():0.0}s"));
                await output.WriteLineAsync($"       {string.Join(" · ", phases)}");
            }
        }
    }
}
