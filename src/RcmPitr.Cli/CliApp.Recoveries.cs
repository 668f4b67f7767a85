using System.CommandLine;
using System.Net;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>Region loss: <c>recover-server --server X --reason R [--force] [--wait]</c> and <c>recovery status|list|approve|reject</c>.</summary>
public static partial class CliApp
{
    private sealed partial class Commands
    {
        private IEnumerable<Command> Recoveries() => [RecoverServer(), Recovery()];

        private Command RecoverServer()
        {
            var server = new Option<string>("--server") { Description = "The lost server (identity.db_server name)", Required = true };
            var reason = new Option<string>("--reason") { Description = "Why (recorded in every tenant's audit rows)", Required = true };
            var force = new Option<bool>("--force") { Description = "Recover even though the server still answers" };
            var wait = new Option<bool>("--wait") { Description = "Follow the recovery until it ends" };
            var command = new Command(
                "recover-server",
                "Region loss: geo-restore a lost server as a new server (its latest geo-backup, NOT a point in time) and re-point every tenant of it there, after one second person approves.")
            {
                server, reason, force, wait,
            };
            command.SetAction(async (parse, ct) =>
            {
                var api = new ApiClient(client(parse));
                var (status, body) = await api.SendAsync(HttpMethod.Post, "/api/server-recoveries", new
                {
                    server = parse.GetValue(server),
                    reason = parse.GetValue(reason),
                    force = parse.GetValue(force),
                }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    await FailAsync(status, body);
                    await PrintRefusalsAsync(body);
                    return 1;
                }

                var id = body.GetProperty("id").GetString()!;
                await output.WriteLineAsync($"started recovery {id}");
                await output.WriteLineAsync($"  status: {body.GetProperty("statusQueryGetUri").GetString()}");
                await output.WriteLineAsync($"  recovered server: {body.GetProperty("recoveredServer").GetString()} — {body.GetProperty("restorePoint").GetString()}");
                foreach (var tenant in body.GetProperty("tenants").EnumerateArray())
                {
                    await output.WriteLineAsync($"  tenant {tenant.GetString()}");
                }

                return parse.GetValue(wait) ? await FollowRecoveryAsync(api, id, ct) : 0;
            });
            return command;
        }

        private Command Recovery()
        {
            var command = new Command("recovery", "Server recoveries (region loss; start one with recover-server).");
            var id = new Argument<string>("id") { Description = "Recovery id" };
            var json = new Option<bool>("--json") { Description = "Print the raw status JSON" };
            var wait = new Option<bool>("--wait") { Description = "Follow the recovery until it ends" };
            var status = new Command("status", "Show a recovery: the recovered server, what it holds, and every tenant's line.") { id, json, wait };
            status.SetAction(async (parse, ct) =>
            {
                var api = new ApiClient(client(parse));
                if (parse.GetValue(wait))
                {
                    return await FollowRecoveryAsync(api, parse.GetValue(id)!, ct);
                }

                return await ShowAsync(api, $"/api/server-recoveries/{Uri.EscapeDataString(parse.GetValue(id)!)}", parse.GetValue(json), async body =>
                {
                    await PrintRecoveryAsync(body, new Dictionary<string, string>(StringComparer.Ordinal), everything: true);
                    if (body.TryGetProperty("output", out var result) && result.ValueKind == JsonValueKind.Object)
                    {
                        await output.WriteLineAsync($"  {result.GetProperty("outcome").GetString()}: {result.GetProperty("detail").GetString()}");
                    }
                }, ct);
            });
            command.Subcommands.Add(status);
            command.Subcommands.Add(RecoveryDecide("approve", "Approve the recovery (not as its requester): every checked tenant is re-pointed to the recovered server."));
            command.Subcommands.Add(RecoveryDecide("reject", "Reject the recovery: every tenant is unfrozen and left on the lost server; the recovered server is kept for an operator."));
            return command;
        }

        private Command RecoveryDecide(string verb, string description)
        {
            var id = new Argument<string>("id") { Description = "Recovery id" };
            var comment = new Option<string>("--comment") { Description = "Comment recorded with the decision" };
            var command = new Command(verb, description) { id, comment };
            command.SetAction(async (parse, ct) =>
            {
                var (status, body) = await new ApiClient(client(parse)).SendAsync(
                    HttpMethod.Post, $"/api/server-recoveries/{Uri.EscapeDataString(parse.GetValue(id)!)}/{verb}", new { comment = parse.GetValue(comment) }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    return await FailAsync(status, body);
                }

                await output.WriteLineAsync($"{body.GetProperty("decision").GetString()} by {body.GetProperty("by").GetString()}: {parse.GetValue(id)}");
                return 0;
            });
            return command;
        }

        private async Task<int> FollowRecoveryAsync(ApiClient api, string id, CancellationToken ct)
        {
            var shown = new Dictionary<string, string>(StringComparer.Ordinal);
            while (true)
            {
                var (status, body) = await api.SendAsync(HttpMethod.Get, $"/api/server-recoveries/{Uri.EscapeDataString(id)}", null, ct);
                if (status is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
                {
                    return await FailAsync(status, body);
                }

                await PrintRecoveryAsync(body, shown, everything: false);
                if (status == HttpStatusCode.OK)
                {
                    if (body.GetProperty("runtimeStatus").GetString() == "Completed" && body.TryGetProperty("output", out var result) && result.ValueKind == JsonValueKind.Object)
                    {
                        var outcome = result.GetProperty("outcome").GetString();
                        var line = $"{outcome}: {result.GetProperty("detail").GetString()}";
                        await (outcome == "Recovered" ? output : error).WriteLineAsync(line);
                        return outcome == "Recovered" ? 0 : 1;
                    }

                    await error.WriteLineAsync($"{body.GetProperty("runtimeStatus").GetString()}: see rcm-pitr recovery status {id} --json");
                    return 1;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }

        // Prints what changed since the last call (everything: all of it): the phase, the recovered server, each tenant's line.
        private async Task PrintRecoveryAsync(JsonElement body, Dictionary<string, string> shown, bool everything)
        {
            if (!body.TryGetProperty("customStatus", out var custom) || custom.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            var id = body.GetProperty("instanceId").GetString();
            var lines = new List<(string Key, string Line)>
            {
                ("phase", $"{id}  phase {Text(custom, "phase")}"),
                ("server", $"  recovered server {Text(custom, "recoveredServer")} for {Text(custom, "server")}: {Text(custom, "recoveredServerState")}"),
                ("point", $"  restore point: {Text(custom, "restorePoint")}"),
            };
            foreach (var tenant in custom.GetProperty("tenants").EnumerateArray())
            {
                var detail = Text(tenant, "detail");
                lines.Add(("tenant:" + Text(tenant, "tenant"),
                    $"  {Text(tenant, "tenant"),-24} {Text(tenant, "state"),-10} {Text(tenant, "step"),-36}{(detail == "-" ? string.Empty : $" — {OneLine(detail)}")}"));
            }

            if (custom.TryGetProperty("awaitingApproval", out var awaiting) && awaiting.ValueKind == JsonValueKind.True)
            {
                lines.Add(("approval", $"  awaiting a second person's decision: rcm-pitr recovery approve {id} (or reject)"));
            }

            foreach (var decision in custom.GetProperty("decisions").EnumerateArray())
            {
                lines.Add(("decision:" + Text(decision, "at"), $"  decision: {Text(decision, "decision")} by {Text(decision, "by")}{(decision.GetProperty("accepted").GetBoolean() ? string.Empty : " (refused)")} {Text(decision, "note")}"));
            }

            foreach (var name in new[] { "error", "operatorAction" })
            {
                if (Text(custom, name) is var text and not "-")
                {
                    lines.Add((name, $"  {name}: {text}"));
                }
            }

            foreach (var (key, line) in lines)
            {
                if (everything || !shown.TryGetValue(key, out var before) || before != line)
                {
                    shown[key] = line;
                    await output.WriteLineAsync(line);
                }
            }
        }
    }
}
