using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using RcmPitr.Host;

namespace RcmPitr.Cli;

/// <summary>
/// The <c>rcm-pitr</c> command line. Exit codes: 0 success; 1 the run or request failed (one-line reason on
/// stderr); 2 bad usage; 3 the API could not be reached.
/// </summary>
public static partial class CliApp
{
    /// <summary>Environment variable with the API's base URL.</summary>
    public const string UrlVariable = "RCMPITR_URL";

    /// <summary>Environment variable with the API key (keys are never taken from argv, where other users could read them).</summary>
    public const string KeyVariable = "RCMPITR_KEY";

    /// <summary>The default API address of <c>serve</c>.</summary>
    public const string DefaultUrl = RcmPitrApp.DefaultUrl;

    /// <summary>
    /// Runs the command line. <paramref name="http"/> replaces the API connection (tests); <paramref name="environment"/>
    /// replaces the process environment (<see cref="KeyVariable"/>, <see cref="UrlVariable"/>).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, HttpClient? http, TextWriter output, TextWriter error, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var url = new Option<string>("--url") { Description = $"API base URL (default ${UrlVariable} or {DefaultUrl})" };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = $"File holding the API key (default: ${KeyVariable})" };
        var root = new RootCommand("RcmPitr: restore one tenant's PostgreSQL database to a chosen second, without touching its siblings.");
        root.Options.Add(url);
        root.Options.Add(keyFile);

        var commands = new Commands(output, error, parse => http ?? CreateClient(parse.GetValue(url), parse.GetValue(keyFile), environment));
        root.Subcommands.Add(Serve(output));
        root.Subcommands.Add(Local.LocalCommands.Create(output));
        root.Subcommands.Add(Demo.DemoCommand.Create(output, error));
        root.Subcommands.Add(Bench.BenchCommand.Create(output));
        foreach (var command in commands.All())
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync(parseError.Message);
            }

            return 2;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"cannot reach the RcmPitr API: {e.Message}");
            return 3;
        }
        catch (CliUsageException e)
        {
            await error.WriteLineAsync(e.Message);
            return 2;
        }
        catch (Exception e) when (e is InvalidOperationException or RcmPitr.Workflow.Errors.RcmPitrException or Npgsql.NpgsqlException or IOException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }

    private static Command Serve(TextWriter output)
    {
        var config = new Option<FileInfo?>("--config") { Description = "JSON configuration file (see README: embedded host configuration)" };
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default: the configuration's Urls, else {DefaultUrl})" };
        var command = new Command("serve", "Run the embedded host: the HTTP API over the embedded durable engine.") { config, urls };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(config);
            if (file is { Exists: false })
            {
                throw new CliUsageException($"configuration file {file.FullName} does not exist");
            }

            string[] hostArgs = parse.GetValue(urls) is { } listen ? ["--urls", listen] : [];
            await using var app = RcmPitrApp.Build(hostArgs, file?.FullName);
            await app.StartAsync(ct);
            await output.WriteLineAsync($"RcmPitr embedded host listening on {string.Join(", ", app.Urls)}");
            await output.WriteLineAsync($"Web page: {app.Urls.First().TrimEnd('/')}/ (sign in with your API key)");
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }

    private static HttpClient CreateClient(string? url, FileInfo? keyFile, Func<string, string?> environment)
    {
        var key = keyFile is not null
            ? File.ReadAllText(keyFile.FullName).Trim()
            : environment(KeyVariable);
        if (string.IsNullOrEmpty(key))
        {
            throw new CliUsageException($"no API key: set ${KeyVariable} or pass --key-file");
        }

        var baseUrl = url ?? environment(UrlVariable) ?? DefaultUrl;
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != Uri.UriSchemeHttps && baseUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new CliUsageException($"'{baseUrl}' is not an http(s) URL");
        }

        // The key goes with every request: in clear text only to this machine.
        if (baseUri.Scheme != Uri.UriSchemeHttps && !baseUri.IsLoopback)
        {
            throw new CliUsageException($"'{baseUrl}' is plain http to another machine, which would send the API key in clear text; use https");
        }

        // No redirects: the key header would follow one to wherever it points (only Authorization is dropped on redirect).
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        var client = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    }

    /// <summary>The client commands.</summary>
    private sealed partial class Commands(TextWriter output, TextWriter error, Func<ParseResult, HttpClient> client)
    {
        public IEnumerable<Command> All()
        {
            yield return Restore();
            yield return Status();
            yield return Changes();
            yield return Decide("approve", "Approve the cutover of a run awaiting approval (not as its requester).");
            yield return Decide("reject", "Reject the cutover of a run awaiting approval; the run undoes what it did.");
            yield return Simple("cancel", "Cancel a run; it stops at its next step and undoes what it did.", "/cancel", "reason");
            yield return Rollback();
            yield return List();
            yield return Batch();
            yield return Drill();
            foreach (var recovery in Recoveries()) { yield return recovery; }
        }

        private Command Restore()
        {
            var tenant = new Option<string>("--tenant") { Description = "Tenant slug, e.g. acme" };
            var tenantList = new Option<string>("--tenants") { Description = "Several tenants restored to the same time as one batch, comma-separated (one restored server per source server)" };
            var server = new Option<string>("--server") { Description = "Every tenant of this server, as one batch (a restore takes its active tenants)" };
            var to = new Option<string>("--to") { Description = "Restore time, ISO-8601 with zone, e.g. 2026-04-22T14:30:00Z", Required = true };
            var mode = new Option<string>("--mode") { Description = "restore (default), dry-run or snapshot" };
            var strategy = new Option<string>("--strategy") { Description = "swap-and-keep (default) or flip-the-ref" };
            var transfer = new Option<string>("--transfer") { Description = "How the database is moved: streaming (default, no dump file), parallel, or runbook (the runbook's pg_dump -Fc -Z 6 / pg_restore)" };
            var reason = new Option<string>("--reason") { Description = "Why (recorded in the audit trail)", Required = true };
            var parallelism = new Option<int?>("--parallelism") { Description = "Batches: members moving their database at once (1-16; default: the host's Batch:Parallelism)" };
            var wait = new Option<bool>("--wait") { Description = "Follow the run (or the batch) until it ends" };
            var command = new Command("restore", "Start a restore (or dry run, or snapshot) of one tenant (--tenant), or of several to the same time as one batch (--tenants, --server).")
            {
                tenant, tenantList, server, to, mode, strategy, transfer, reason, parallelism, wait,
            };
            command.SetAction(async (parse, ct) =>
            {
                var chosen = new[] { parse.GetValue(tenant), parse.GetValue(tenantList), parse.GetValue(server) }.Count(v => v is not null);
                if (chosen != 1)
                {
                    throw new CliUsageException("give exactly one of --tenant, --tenants or --server");
                }

                if (parse.GetValue(tenant) is null)
                {
                    return await StartBatchAsync(parse, parse.GetValue(tenantList), parse.GetValue(server), parse.GetValue(to)!, parse.GetValue(mode), parse.GetValue(strategy),
                        parse.GetValue(transfer), parse.GetValue(reason)!, parse.GetValue(parallelism), parse.GetValue(wait), ct);
                }

                if (parse.GetValue(parallelism) is not null)
                {
                    throw new CliUsageException("--parallelism is for batches (--tenants, --server)");
                }

                var api = new ApiClient(client(parse));
                var (status, body) = await api.SendAsync(HttpMethod.Post, "/api/restores", new
                {
                    tenant = parse.GetValue(tenant),
                    restoreTime = parse.GetValue(to),
                    mode = parse.GetValue(mode),
                    strategy = parse.GetValue(strategy),
                    transfer = parse.GetValue(transfer),
                    reason = parse.GetValue(reason),
                }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    return await FailAsync(status, body);
                }

                var id = body.GetProperty("id").GetString()!;
                await output.WriteLineAsync($"started {id}");
                await output.WriteLineAsync($"  status: {body.GetProperty("statusQueryGetUri").GetString()}");
                return parse.GetValue(wait) ? await FollowAsync(api, id, ct) : 0;
            });
            return command;
        }

        private Command Status()
        {
            var id = new Argument<string>("id") { Description = "Run id" };
            var json = new Option<bool>("--json") { Description = "Print the raw status JSON" };
            var wait = new Option<bool>("--wait") { Description = "Follow the run until it ends" };
            var command = new Command("status", "Show a run's status and timeline.") { id, json, wait };
            command.SetAction(async (parse, ct) =>
            {
                var api = new ApiClient(client(parse));
                if (parse.GetValue(wait))
                {
                    return await FollowAsync(api, parse.GetValue(id)!, ct);
                }

                return await ShowAsync(api, $"/api/restores/{Uri.EscapeDataString(parse.GetValue(id)!)}", parse.GetValue(json), PrintAsync, ct);
            });
            return command;
        }

        private Command Changes()
        {
            var id = new Argument<string>("id") { Description = "Run id" };
            var csv = new Option<bool>("--csv") { Description = "Print the sampled primary keys as CSV (table, category, key columns, key values)" };
            var json = new Option<bool>("--json") { Description = "Print the raw report JSON" };
            var samples = new Option<int>("--samples") { Description = "Sampled keys shown per table and category (default 5)", DefaultValueFactory = _ => 5 };
            var command = new Command("changes", "Show what a run's cutover changes (or changed), table by table: rows written after the restore time, rows that come back, rows that differ.") { id, csv, json, samples };
            command.SetAction(async (parse, ct) =>
            {
                var api = new ApiClient(client(parse));
                var path = $"/api/restores/{Uri.EscapeDataString(parse.GetValue(id)!)}/changes";
                if (parse.GetValue(csv))
                {
                    var (csvStatus, text, problem) = await api.GetTextAsync(path + ".csv", ct);
                    if (text is null)
                    {
                        return await FailAsync(csvStatus, problem);
                    }

                    await output.WriteAsync(text);
                    return 0;
                }

                var (status, body) = await api.SendAsync(HttpMethod.Get, path, null, ct);
                if (status != HttpStatusCode.OK)
                {
                    return await FailAsync(status, body);
                }

                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(body, Indented));
                    return 0;
                }

                ChangesView.Print(output, body, Math.Max(0, parse.GetValue(samples)));
                return 0;
            });
            return command;
        }

        private Command Decide(string verb, string description)
        {
            var id = new Argument<string>("id") { Description = "Run id" };
            var comment = new Option<string>("--comment") { Description = "Comment recorded with the decision" };
            var command = new Command(verb, description) { id, comment };
            command.SetAction(async (parse, ct) =>
            {
                var (status, body) = await new ApiClient(client(parse)).SendAsync(
                    HttpMethod.Post, $"/api/restores/{Uri.EscapeDataString(parse.GetValue(id)!)}/{verb}", new { comment = parse.GetValue(comment) }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    return await FailAsync(status, body);
                }

                await output.WriteLineAsync($"{body.GetProperty("decision").GetString()} by {body.GetProperty("by").GetString()}: {parse.GetValue(id)}");
                return 0;
            });
            return command;
        }

        private Command Simple(string name, string description, string suffix, string field)
        {
            var id = new Argument<string>("id") { Description = "Run id" };
            var text = new Option<string>($"--{field}") { Description = "Recorded with the request" };
            var command = new Command(name, description) { id, text };
            command.SetAction(async (parse, ct) =>
            {
                var (status, body) = await new ApiClient(client(parse)).SendAsync(
                    HttpMethod.Post, $"/api/restores/{Uri.EscapeDataString(parse.GetValue(id)!)}{suffix}", new Dictionary<string, string?> { [field] = parse.GetValue(text) }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    return await FailAsync(status, body);
                }

                await output.WriteLineAsync(body.TryGetProperty("message", out var message) ? message.GetString() : $"{name}: accepted");
                return 0;
            });
            return command;
        }

        private Command Rollback()
        {
            var id = new Argument<string>("id") { Description = "Id of the restore run to roll back (completed, or failed after its cutover)" };
            var reason = new Option<string>("--reason") { Description = "Why (recorded in the audit trail)" };
            var wait = new Option<bool>("--wait") { Description = "Follow the rollback until it ends" };
            var overriding = new Option<bool>("--override") { Description = "Operators only: roll back without a second person's approval (audited as an override)" };
            var command = new Command(
                "rollback",
                "Put the restore's previous database back (swap-and-keep: swap the kept database back; flip-the-ref: point the reference back). " +
                "The rollback waits for a second person's approval: rcm-pitr approve <id>-rollback.") { id, reason, wait, overriding };
            command.SetAction(async (parse, ct) =>
            {
                var api = new ApiClient(client(parse));
                var (status, body) = await api.SendAsync(HttpMethod.Post, $"/api/restores/{Uri.EscapeDataString(parse.GetValue(id)!)}/rollback", new { reason = parse.GetValue(reason), @override = parse.GetValue(overriding) ? true : (bool?)null }, ct);
                if (status != HttpStatusCode.Accepted)
                {
                    return await FailAsync(status, body);
                }

                var rollbackId = body.GetProperty("id").GetString()!;
                await output.WriteLineAsync($"started {rollbackId}");
                if (!parse.GetValue(overriding) && !parse.GetValue(wait))
                {
                    await output.WriteLineAsync($"  it needs a second person's approval once it shows awaiting approval: rcm-pitr approve {rollbackId}");
                }
                return parse.GetValue(wait) ? await FollowAsync(api, rollbackId, ct) : 0;
            });
            return command;
        }

        private Command List()
        {
            var tenant = new Option<string>("--tenant") { Description = "Only this tenant's runs" };
            var state = new Option<string>("--status") { Description = "Pending, Running, Completed, Failed or Terminated" };
            var kind = new Option<string>("--kind") { Description = "restore, dry-run, snapshot, rollback, retention (the drop timers of kept databases) or all; default: every kind but retention" };
            var command = new Command("list", "List runs, newest first.") { tenant, state, kind };
            command.SetAction(async (parse, ct) =>
            {
                var query = new List<string>();
                if (parse.GetValue(tenant) is { } t)
                {
                    query.Add("tenant=" + Uri.EscapeDataString(t));
                }

                if (parse.GetValue(state) is { } s)
                {
                    query.Add("status=" + Uri.EscapeDataString(s));
                }

                if (parse.GetValue(kind) is { } k)
                {
                    query.Add("kind=" + Uri.EscapeDataString(k));
                }

                var (status, body) = await new ApiClient(client(parse)).SendAsync(HttpMethod.Get, "/api/restores" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty), null, ct);
                if (status != HttpStatusCode.OK)
                {
                    return await FailAsync(status, body);
                }

                await output.WriteLineAsync($"{"id",-52} {"tenant",-20} {"kind",-9} {"restore time",-20} {"status",-10} {"outcome",-16} started");
                foreach (var run in body.EnumerateArray())
                {
                    var restoreTime = run.TryGetProperty("restoreTime", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetDateTimeOffset().UtcDateTime.ToString("u", CultureInfo.InvariantCulture) : "-";
                    await output.WriteLineAsync(
                        $"{run.GetProperty("instanceId").GetString(),-52} {Text(run, "tenant"),-20} {Text(run, "kind"),-9} {restoreTime,-20} " +
                        $"{run.GetProperty("runtimeStatus").GetString(),-10} {Text(run, "outcome"),-16} {run.GetProperty("createdTime").GetDateTime().ToString("u", CultureInfo.InvariantCulture)}");
                }

                return 0;
            });
            return command;
        }

        private static string Text(JsonElement row, string name) =>
            row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";

        private async Task<int> FollowAsync(ApiClient api, string id, CancellationToken ct)
        {
            var view = new TimelineView(output);
            while (true)
            {
                var (status, body) = await api.SendAsync(HttpMethod.Get, $"/api/restores/{Uri.EscapeDataString(id)}", null, ct);
                if (status is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
                {
                    return await FailAsync(status, body);
                }

                view.Render(id, body);
                if (status == HttpStatusCode.OK)
                {
                    return await ConcludeAsync(body);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }

        private async Task<int> ConcludeAsync(JsonElement body)
        {
            var runtime = body.GetProperty("runtimeStatus").GetString();
            var result = body.TryGetProperty("output", out var o) ? o : default;
            if (runtime == "Completed" && result.ValueKind == JsonValueKind.Object)
            {
                var outcome = result.GetProperty("outcome").GetString();
                var line = $"{outcome}: {OneLine(result.TryGetProperty("detail", out var d) ? d.GetString() : null)}";
                if (outcome is "Restored" or "DryRunCompleted" or "SnapshotCreated" or "RolledBack")
                {
                    await output.WriteLineAsync(line);
                    return 0;
                }

                // A run that ended without doing its job failed: its one-line reason goes where failures go.
                await error.WriteLineAsync(line);
                return 1;
            }

            await error.WriteLineAsync($"{runtime}: {(result.ValueKind == JsonValueKind.String ? OneLine(result.GetString()) : "see rcm-pitr status --json")}");
            return 1;
        }

        private static string OneLine(string? text) => string.Join(' ', (text ?? string.Empty).Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        private async Task PrintAsync(JsonElement body)
        {
            await output.WriteLineAsync($"{body.GetProperty("instanceId").GetString()}  {body.GetProperty("runtimeStatus").GetString()}  ({body.GetProperty("name").GetString()})");
            new TimelineView(output).Render(body.GetProperty("instanceId").GetString()!, body);
            if (body.TryGetProperty("output", out var result) && result.ValueKind != JsonValueKind.Null)
            {
                await output.WriteLineAsync($"  output: {(result.ValueKind == JsonValueKind.String ? result.GetString() : JsonSerializer.Serialize(result))}");
            }
        }

        /// <summary>GETs a status or report: its raw JSON with <paramref name="json"/>, else what <paramref name="print"/> makes of it.</summary>
        private async Task<int> ShowAsync(ApiClient api, string path, bool json, Func<JsonElement, Task> print, CancellationToken ct)
        {
            var (status, body) = await api.SendAsync(HttpMethod.Get, path, null, ct);
            if (status is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
            {
                return await FailAsync(status, body);
            }

            if (json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(body, Indented));
                return 0;
            }

            await print(body);
            return 0;
        }

        private async Task<int> FailAsync(HttpStatusCode status, JsonElement body)
        {
            await error.WriteLineAsync($"error: {ApiClient.Describe(status, body)}");
            return 1;
        }

        private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    }
}

/// <summary>Bad usage detected after parsing (missing key, bad URL).</summary>
internal sealed class CliUsageException(string message) : Exception(message);
