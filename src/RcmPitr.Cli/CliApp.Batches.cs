using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>The batch commands: <c>restore --tenants / --server</c> and <c>batch status|list|approve|reject|cancel</c>.</summary>
public static partial class CliApp
{
    private sealed partial class Commands
    {
        private async Task<int> StartBatchAsync(
            ParseResult parse, string? tenantList, string? server, string to, string? mode, string? strategy, string? transfer, string reason, int? parallelism, bool wait, CancellationToken ct)
        {
            var tenants = tenantList?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (tenants is { Length: 0 })
            {
                throw new CliUsageException("--tenants needs at least one tenant slug, e.g. --tenants acme,globex-health");
            }

            var api = new ApiClient(client(parse));
            var (status, body) = await api.SendAsync(HttpMethod.Post, "/api/restore-batches", new
            {
                tenants,
                server,
                restoreTime = to,
                mode,
                strategy,
                transfer,
                reason,
                parallelism,
            }, ct);
            if (status != HttpStatusCode.Accepted)
            {
                await FailAsync(status, body);
                await PrintRefusalsAsync(body);
                return 1;
            }

            var id = body.GetProperty("id").GetString()!;
            await output.WriteLineAsync($"started batch {id}");
            await output.WriteLineAsync($"  status: {body.GetProperty("statusQueryGetUri").GetString()}");
            foreach (var member in body.GetProperty("members").EnumerateArray())
            {
                await output.WriteLineAsync($"  {member.GetProperty("tenant").GetString(),-24} {member.GetProperty("runId").GetString()}");
            }

            foreach (var skipped in body.GetProperty("skipped").EnumerateArray())
            {
                await output.WriteLineAsync($"  skipped {skipped.GetProperty("tenant").GetString()}: {skipped.GetProperty("reason").GetString()}");
            }

            return wait ? await FollowBatchAsync(api, id, ct) : 0;
        }

        private Command Batch()
        {
            var command = new Command("batch", "Batches: many tenants restored to one time with one restored server per source server (start one with restore --tenants or --server).");
            command.Subcommands.Add(BatchStatus());
            command.Subcommands.Add(BatchList());
            command.Subcommands.Add(BatchDecide("approve", "Approve every member of a batch awaiting approval (not as its requester); taken once every member still going awaits it."));
            command.Subcommands.Add(BatchDecide("reject", "Reject every member of a batch awaiting approval; each undoes what it did."));
            command.Subcommands.Add(BatchCancel());
            return command;
        }

        private Command BatchStatus()
        {
            var id = new Argument<string>("id") { Description = "Batch id" };
            var json = new Option<bool>("--json") { Description = "Print the raw status JSON" };
            var wait = new Option<bool>("--wait") { Description = "Follow the batch until it ends" };
            var command = new Command("status", "Show a batch: every tenant's state, step, parity and outcome, and the restored servers it holds.") { id, json, wait };
            command.SetAction(async (parse, ct) =>
            {
                var api = new ApiClient(client(parse));
                if (parse.GetValue(wait))
                {
                    return await FollowBatchAsync(api, parse.GetValue(id)!, ct);
                }

                return await ShowAsync(api, $"/api/restore-batches/{Uri.EscapeDataString(parse.GetValue(id)!)}", parse.GetValue(json), PrintBatchAsync, ct);
            });
            return command;
        }

        private Command BatchList() => ListCommand(
            "List batches, newest first.",
            "/api/restore-batches",
            $"{"id",-34} {"mode",-8} {"restore time",-20} {"status",-10} {"outcome",-16} {"tenants",-8} started",
            batch =>
            {
                var count = batch.TryGetProperty("tenants", out var t) && t.ValueKind == JsonValueKind.Array ? t.GetArrayLength().ToString(CultureInfo.InvariantCulture) : "-";
                return $"{batch.GetProperty("instanceId").GetString(),-34} {Text(batch, "mode"),-8} {UtcText(batch, "restoreTime"),-20} {batch.GetProperty("runtimeStatus").GetString(),-10} " +
                       $"{Text(batch, "outcome"),-16} {count,-8} {UtcText(batch, "createdTime")}";
            });

        /// <summary>A <c>list</c> command: GETs <paramref name="path"/> and prints <paramref name="header"/>, then a line per item.</summary>
        private Command ListCommand(string description, string path, string header, Func<JsonElement, string> line)
        {
            var command = new Command("list", description);
            command.SetAction(async (parse, ct) =>
            {
                var (status, body) = await new ApiClient(client(parse)).SendAsync(HttpMethod.Get, path, null, ct);
                if (status != HttpStatusCode.OK)
                {
                    return await FailAsync(status, body);
                }

                await output.WriteLineAsync(header);
                foreach (var item in body.EnumerateArray())
                {
                    await output.WriteLineAsync(line(item));
                }

                return 0;
            });
            return command;
        }

        /// <summary>A time field as <c>yyyy-MM-dd HH:mm:ssZ</c> (UTC), or <c>-</c>.</summary>
        private static string UtcText(JsonElement item, string name) =>
            item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var time)
                ? time.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)
                : "-";

        private Command BatchDecide(string verb, string description)
        {
            var id = new Argument<string>("id") { Description = "Batch id" };
            var comment = new Option<string>("--comment") { Description = "Comment recorded with each member's decision" };
            var command = new Command(verb, description) { id, comment };
            command.SetAction(async (parse, ct) =>
            {
                var (status, body) = await new ApiClient(client(parse)).SendAsync(
                    HttpMethod.Post, $"/api/restore-batches/{Uri.EscapeDataString(parse.GetValue(id)!)}/{verb}", new { comment = parse.GetValue(comment) }, ct);
                if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("members", out var members))
                {
                    foreach (var member in members.EnumerateArray())
                    {
                        var decided = member.TryGetProperty("decision", out var d) && d.ValueKind == JsonValueKind.String;
                        await (decided ? output : error).WriteLineAsync(
                            $"  {member.GetProperty("tenant").GetString(),-24} {(decided ? d.GetString() : "refused")}{(decided ? string.Empty : ": " + Text(member, "detail"))}");
                    }
                }

                if (status != HttpStatusCode.Accepted)
                {
                    await FailAsync(status, body);
                    await PrintRefusalsAsync(body);
                    return 1;
                }

                await output.WriteLineAsync($"{body.GetProperty("decision").GetString()} by {body.GetProperty("by").GetString()}: {body.GetProperty("accepted").GetInt32()} member(s) of {parse.GetValue(id)}");
                return 0;
            });
            return command;
        }

        private Command BatchCancel()
        {
            var id = new Argument<string>("id") { Description = "Batch id" };
            var reason = new Option<string>("--reason") { Description = "Recorded with the request" };
            var command = new Command("cancel", "Cancel a batch: members not started do not start, running ones stop and undo what they did.") { id, reason };
            command.SetAction(async (parse, ct) =>
            {
                var (status, body) = await new ApiClient(client(parse)).SendAsync(
                    HttpMethod.Post, $"/api/restore-batches/{Uri.EscapeDataString(parse.GetValue(id)!)}/cancel", new { reason = parse.GetValue(reason) }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    return await FailAsync(status, body);
                }

                await output.WriteLineAsync(body.GetProperty("message").GetString());
                return 0;
            });
            return command;
        }

        private async Task<int> FollowBatchAsync(ApiClient api, string id, CancellationToken ct)
        {
            var shown = new Dictionary<string, string>(StringComparer.Ordinal);
            var toldApproval = false;
            while (true)
            {
                var (status, body) = await api.SendAsync(HttpMethod.Get, $"/api/restore-batches/{Uri.EscapeDataString(id)}", null, ct);
                if (status is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
                {
                    return await FailAsync(status, body);
                }

                if (body.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object)
                {
                    foreach (var member in custom.GetProperty("members").EnumerateArray())
                    {
                        var line = MemberLine(member);
                        var runId = member.GetProperty("runId").GetString()!;
                        if (!shown.TryGetValue(runId, out var before) || before != line)
                        {
                            shown[runId] = line;
                            await output.WriteLineAsync(line);
                        }
                    }

                    var waiting = custom.GetProperty("counts").GetProperty("awaitingApproval").GetInt32();
                    var running = custom.GetProperty("counts").GetProperty("running").GetInt32() + custom.GetProperty("counts").GetProperty("waiting").GetInt32();
                    if (waiting > 0 && running == 0 && !toldApproval)
                    {
                        toldApproval = true;
                        await output.WriteLineAsync($"  {waiting} member(s) await a second person's decision: rcm-pitr batch approve {id} (or approve members one by one)");
                    }
                }

                if (status == HttpStatusCode.OK)
                {
                    return await ConcludeBatchAsync(body);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }

        private async Task<int> ConcludeBatchAsync(JsonElement body)
        {
            if (body.GetProperty("runtimeStatus").GetString() == "Completed" && body.TryGetProperty("output", out var result) && result.ValueKind == JsonValueKind.Object)
            {
                var outcome = result.GetProperty("outcome").GetString();
                var line = $"{outcome}: {result.GetProperty("detail").GetString()}";
                if (outcome == "Succeeded")
                {
                    await output.WriteLineAsync(line);
                    return 0;
                }

                await error.WriteLineAsync(line);
                return 1;
            }

            await error.WriteLineAsync($"{body.GetProperty("runtimeStatus").GetString()}: see rcm-pitr batch status --json");
            return 1;
        }

        private async Task PrintBatchAsync(JsonElement body)
        {
            await output.WriteLineAsync($"{body.GetProperty("instanceId").GetString()}  {body.GetProperty("runtimeStatus").GetString()}");
            if (body.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object)
            {
                await output.WriteLineAsync($"  {custom.GetProperty("mode").GetString()} to {custom.GetProperty("stamp").GetString()} ({custom.GetProperty("selector").GetString()}), " +
                                            $"phase {custom.GetProperty("phase").GetString()}, parallelism {custom.GetProperty("parallelism").GetInt32()}");
                foreach (var server in custom.GetProperty("servers").EnumerateArray())
                {
                    await output.WriteLineAsync($"  server {server.GetProperty("restoredServer").GetString()} for {server.GetProperty("source").GetString()}: {server.GetProperty("state").GetString()}" +
                                                (Text(server, "detail") is var detail and not "-" ? $" ({detail})" : string.Empty));
                }

                foreach (var member in custom.GetProperty("members").EnumerateArray())
                {
                    await output.WriteLineAsync(MemberLine(member));
                }

                foreach (var name in new[] { "error", "operatorAction" })
                {
                    if (Text(custom, name) is var text and not "-")
                    {
                        await output.WriteLineAsync($"  {name}: {text}");
                    }
                }
            }

            if (body.TryGetProperty("output", out var result) && result.ValueKind == JsonValueKind.Object)
            {
                await output.WriteLineAsync($"  {result.GetProperty("outcome").GetString()}: {result.GetProperty("detail").GetString()}");
            }
        }

        private static string MemberLine(JsonElement member)
        {
            var detail = Text(member, "detail");
            return $"  {member.GetProperty("tenant").GetString(),-24} {member.GetProperty("state").GetString(),-18} {Text(member, "step"),-28} parity {Text(member, "parity"),-5} " +
                   $"{Text(member, "outcome")}{(detail == "-" ? string.Empty : $" — {OneLine(detail)}")}";
        }

        private async Task PrintRefusalsAsync(JsonElement body)
        {
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("tenants", out var tenants) && tenants.ValueKind == JsonValueKind.Array)
            {
                foreach (var tenant in tenants.EnumerateArray())
                {
                    var detail = Text(tenant, "detail");
                    await error.WriteLineAsync($"  {Text(tenant, "tenant")}: {(detail == "-" ? Text(tenant, "state") + " " + Text(tenant, "step") : detail)}");
                }
            }
        }
    }
}
