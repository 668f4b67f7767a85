using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Activities.Notifications;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Host.Tests;

/// <summary>The notification outbox against a real master database and a real loopback HTTP receiver.</summary>
public sealed class NotificationTests(HostClusterFixture fx)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The dispatcher's serializer settings: what a receiver gets.</summary>
    private static readonly JsonSerializerOptions Sent = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task DispatchDueAsync_WebhookAndTextTargets_EachReceivesItsJsonOnce()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook), ("chat", NotificationPayloadKind.Text)));

        await env.NotifyAsync("run-a", NotificationEvents.Restored);
        await env.NotifyAsync("run-a", NotificationEvents.Restored); // a redelivered Notify step
        var attempts = await env.Dispatcher.DispatchDueAsync(CancellationToken.None);

        Assert.Equal(2, attempts);
        Assert.Equal(2, env.Receiver.Requests.Count);
        using var hook = JsonDocument.Parse(env.Receiver.Requests.Single(r => r.Path.EndsWith("/hook", StringComparison.Ordinal)).Body);
        Assert.Equal("restored", hook.RootElement.GetProperty("event").GetString());
        Assert.Equal("run-a", hook.RootElement.GetProperty("runId").GetString());
        Assert.Equal("acme", hook.RootElement.GetProperty("tenant").GetString());
        Assert.Equal("Tenant acme restored", hook.RootElement.GetProperty("subject").GetString());
        Assert.Equal("tenant_acme is live; approved by bob.", hook.RootElement.GetProperty("body").GetString());
        Assert.Equal(1, hook.RootElement.GetProperty("attempt").GetInt32());
        using var chat = JsonDocument.Parse(env.Receiver.Requests.Single(r => r.Path.EndsWith("/chat", StringComparison.Ordinal)).Body);
        Assert.Equal("Tenant acme restored\ntenant_acme is live; approved by bob.", chat.RootElement.GetProperty("text").GetString());
        Assert.Single(chat.RootElement.EnumerateObject());
        Assert.Equal(2L, await env.ScalarAsync<long>("SELECT count(*) FROM rcm_pitr.notification_outbox WHERE state = 'sent' AND attempts = 1"));
        Assert.Equal(0, await env.Dispatcher.DispatchDueAsync(CancellationToken.None));
    }

    [Fact]
    public void Payload_AwaitingApproval_LinksTheRunPageStatusAndDecisionsUnderThePublicAddress()
    {
        var message = new OutboxMessage("restore-acme--20260422143015-abcd1234", NotificationEvents.AwaitingApproval, "hook", "acme", "Restore awaits approval", "body", 0, DateTimeOffset.UnixEpoch);

        var webhook = JsonSerializer.SerializeToElement(NotificationDispatcher.Payload(NotificationPayloadKind.Webhook, message, "https://pitr.example.com"), Sent);
        var text = JsonSerializer.SerializeToElement(NotificationDispatcher.Payload(NotificationPayloadKind.Text, message, "https://pitr.example.com"), Sent).GetProperty("text").GetString();

        var links = webhook.GetProperty("links");
        Assert.Equal("https://pitr.example.com/runs/restore-acme--20260422143015-abcd1234", links.GetProperty("page").GetString());
        Assert.Equal("https://pitr.example.com/api/restores/restore-acme--20260422143015-abcd1234", links.GetProperty("status").GetString());
        Assert.Equal("https://pitr.example.com/api/restores/restore-acme--20260422143015-abcd1234/approve", links.GetProperty("approve").GetString());
        Assert.Equal("https://pitr.example.com/api/restores/restore-acme--20260422143015-abcd1234/reject", links.GetProperty("reject").GetString());
        Assert.Equal(
            "Restore awaits approval\nbody\nRun page: https://pitr.example.com/runs/restore-acme--20260422143015-abcd1234\n" +
            "Status: https://pitr.example.com/api/restores/restore-acme--20260422143015-abcd1234\n" +
            "Approve (POST): https://pitr.example.com/api/restores/restore-acme--20260422143015-abcd1234/approve\n" +
            "Reject (POST): https://pitr.example.com/api/restores/restore-acme--20260422143015-abcd1234/reject",
            text);
    }

    [Fact]
    public void Payload_AnEndedRun_LinksNoDecisionAndNoAddressMeansNoLinks()
    {
        var message = new OutboxMessage("run-1", NotificationEvents.Restored, "hook", "acme", "Restored", "body", 0, DateTimeOffset.UnixEpoch);

        var linked = JsonSerializer.SerializeToElement(NotificationDispatcher.Payload(NotificationPayloadKind.Webhook, message, "http://127.0.0.1:7171"), Sent).GetProperty("links");
        var unlinked = JsonSerializer.SerializeToElement(NotificationDispatcher.Payload(NotificationPayloadKind.Webhook, message), Sent);

        Assert.Equal("http://127.0.0.1:7171/runs/run-1", linked.GetProperty("page").GetString());
        Assert.Equal(JsonValueKind.Null, linked.GetProperty("approve").ValueKind);
        Assert.Equal(JsonValueKind.Null, unlinked.GetProperty("links").ValueKind);
    }

    [Fact]
    public async Task DispatchDueAsync_ReceiverFailingTwice_DeliveredOnTheThirdAttemptAfterDoublingWaits()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook)));
        env.Receiver.Fail(HttpStatusCode.ServiceUnavailable, HttpStatusCode.InternalServerError);
        await env.NotifyAsync("run-b", NotificationEvents.Failed);

        Assert.Equal(1, await env.Dispatcher.DispatchDueAsync(CancellationToken.None));
        Assert.Equal(0, await env.Dispatcher.DispatchDueAsync(CancellationToken.None)); // not due before its backoff
        env.Clock.Now += TimeSpan.FromSeconds(10);
        Assert.Equal(1, await env.Dispatcher.DispatchDueAsync(CancellationToken.None));
        env.Clock.Now += TimeSpan.FromSeconds(19);
        Assert.Equal(0, await env.Dispatcher.DispatchDueAsync(CancellationToken.None)); // the second wait is twice the first
        env.Clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(1, await env.Dispatcher.DispatchDueAsync(CancellationToken.None));

        Assert.Equal(3, env.Receiver.Requests.Count);
        Assert.Equal([1, 2, 3], env.Receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("attempt").GetInt32()));
        Assert.Equal("sent/3/HTTP 500", await env.ScalarAsync<string>("SELECT state || '/' || attempts || '/' || last_error FROM rcm_pitr.notification_outbox"));
    }

    [Fact]
    public async Task DispatchDueAsync_ReceiverAlwaysFailing_MarkedDeadAfterMaxAttemptsWithTheStatusOnly()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook)), maxAttempts: 3);
        env.Receiver.Fail(Enumerable.Repeat(HttpStatusCode.BadGateway, 10).ToArray());
        await env.NotifyAsync("run-c", NotificationEvents.RolledBack);

        for (var i = 0; i < 6; i++)
        {
            await env.Dispatcher.DispatchDueAsync(CancellationToken.None);
            env.Clock.Now += TimeSpan.FromMinutes(1);
        }

        Assert.Equal(3, env.Receiver.Requests.Count);
        Assert.Equal("dead/3/HTTP 502", await env.ScalarAsync<string>("SELECT state || '/' || attempts || '/' || last_error FROM rcm_pitr.notification_outbox"));
    }

    [Fact]
    public async Task DispatchDueAsync_TwoDispatchersAtOnce_TheMessageIsSentOnce()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook)));
        await using var otherHost = await env.OtherMasterAsync();
        using var second = env.NewDispatcher(otherHost);
        await env.NotifyAsync("run-d", NotificationEvents.Restored);
        var gate = env.Receiver.HoldNext();

        var first = env.Dispatcher.DispatchDueAsync(CancellationToken.None);
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var secondAttempts = await second.DispatchDueAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        gate.Release.TrySetResult();
        var firstAttempts = await first.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(0, secondAttempts);
        Assert.Equal(1, firstAttempts);
        Assert.Single(env.Receiver.Requests);
        Assert.Equal(0, await second.DispatchDueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DispatchDueAsync_WriterGoneBeforeDeliveryAndDispatcherGoneMidSend_NextDispatcherDelivers()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook)));
        await using (var writerHost = await env.OtherMasterAsync())
        {
            await new OutboxNotifier(new NotificationOutbox(writerHost, env.Clock), env.Options, new RecordingLogger<OutboxNotifier>())
                .NotifyAsync(NotificationEvents.Failed, Message("run-e"), CancellationToken.None);
        }

        // A host that claims the message and dies while sending (its connection goes with it).
        var gate = env.Receiver.HoldNext();
        var dyingHost = await env.OtherMasterAsync();
        using var dying = env.NewDispatcher(dyingHost);
        using var kill = new CancellationTokenSource();
        var dyingRound = dying.DispatchDueAsync(kill.Token);
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await kill.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dyingRound.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        await dyingHost.DisposeAsync();
        gate.Release.TrySetResult();

        Assert.Equal("pending/0", await env.ScalarAsync<string>("SELECT state || '/' || attempts FROM rcm_pitr.notification_outbox"));
        Assert.Equal(1, await env.Dispatcher.DispatchDueAsync(CancellationToken.None));
        Assert.Equal("sent", await env.ScalarAsync<string>("SELECT state FROM rcm_pitr.notification_outbox"));
        Assert.Equal(2, env.Receiver.Requests.Count); // at least once: the dead host's request may have arrived too
    }

    [Fact]
    public async Task DispatchDueAsync_UnreachableAndWorkingTargets_TheUrlsNeverReachLogsOrTheOutbox()
    {
        var closedPort = ClosedPort();
        await using var env = await NotificationEnv.StartAsync(
            fx,
            Targets(("hook", NotificationPayloadKind.Webhook), ("gone", NotificationPayloadKind.Text)),
            urlFor: (receiver, name) => name == "gone" ? new Uri($"http://127.0.0.1:{closedPort}/{receiver.Token}/gone") : receiver.Url(name));

        await env.NotifyAsync("run-f", NotificationEvents.Failed);
        await env.Dispatcher.DispatchDueAsync(CancellationToken.None);

        Assert.Single(env.Receiver.Requests);
        Assert.Equal("pending/HttpRequestException", await env.ScalarAsync<string>(
            "SELECT state || '/' || last_error FROM rcm_pitr.notification_outbox WHERE target = 'gone'"));
        var outbox = await env.ScalarAsync<string>("SELECT string_agg(row_to_json(o)::text, ' ') FROM rcm_pitr.notification_outbox o");
        Assert.DoesNotContain(env.Receiver.Token, outbox, StringComparison.Ordinal);
        Assert.DoesNotContain(closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), outbox, StringComparison.Ordinal);
        Assert.NotEmpty(env.Logs.Entries);
        Assert.Contains(env.Logs.Entries, e => e.Contains("HttpRequestException", StringComparison.Ordinal));
        Assert.All(env.Logs.Entries, e => Assert.DoesNotContain(env.Receiver.Token, e, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAudit_RunFailedAndRedelivered_QueuesOneFailedMessageNamingTheTenantAndStep()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook)));
        var (activities, tenantId) = await AuditActivitiesAsync(env);
        var failed = new WriteAuditInput("run-g", tenantId, AuditEvents.PitrFailed, "alice", "wrong invoice batch",
            new Dictionary<string, string> { ["failedStep"] = "move", ["reason"] = "pg_restore exited 1", ["operatorAction"] = string.Empty });

        await activities.WriteAudit(failed, CancellationToken.None);
        await activities.WriteAudit(failed, CancellationToken.None); // a redelivered audit step
        await activities.WriteAudit(failed with { RunId = "run-h", Event = AuditEvents.PitrDryRun }, CancellationToken.None);
        await env.Dispatcher.DispatchDueAsync(CancellationToken.None);

        var messages = env.Receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["drill_report_ready", "failed"], messages.Select(m => m.GetProperty("event").GetString()).Order());
        var message = JsonDocument.Parse(env.Receiver.Requests.Single(r => r.Body.Contains("\"failed\"", StringComparison.Ordinal)).Body);
        Assert.Equal("failed", message.RootElement.GetProperty("event").GetString());
        Assert.Equal("acme", message.RootElement.GetProperty("tenant").GetString());
        Assert.Equal("Restore run-g failed", message.RootElement.GetProperty("subject").GetString());
        Assert.Equal("Step move: pg_restore exited 1 Requested by alice.", message.RootElement.GetProperty("body").GetString());
        Assert.Equal(2L, await env.ScalarAsync<long>("SELECT count(*) FROM rcm_pitr.notification_outbox"));
    }

    [Fact]
    public async Task WriteAudit_DryRunEnded_QueuesTheDrillReportWithParityAndChanges()
    {
        await using var env = await NotificationEnv.StartAsync(fx, Targets(("hook", NotificationPayloadKind.Webhook)));
        var (activities, tenantId) = await AuditActivitiesAsync(env);

        await activities.WriteAudit(new WriteAuditInput("run-d", tenantId, AuditEvents.PitrDryRun, "rcm-pitr-quarterly-drill", "quarterly drill",
            new Dictionary<string, string> { ["parityVerdict"] = "Pass", ["changes"] = "no differences in 12 tables" }), CancellationToken.None);
        await env.Dispatcher.DispatchDueAsync(CancellationToken.None);

        using var message = JsonDocument.Parse(Assert.Single(env.Receiver.Requests).Body);
        Assert.Equal("drill_report_ready", message.RootElement.GetProperty("event").GetString());
        Assert.Equal("Restore run-d drill report ready", message.RootElement.GetProperty("subject").GetString());
        Assert.Equal("Parity Pass. Changes: no differences in 12 tables. Requested by rcm-pitr-quarterly-drill.", message.RootElement.GetProperty("body").GetString());
    }

    /// <summary>The audit activity over the env's master and outbox, for tenant <c>acme</c> (every other operation unused).</summary>
    private static async Task<(Activities.RestoreActivities Activities, Guid TenantId)> AuditActivitiesAsync(NotificationEnv env)
    {
        var tenantId = Guid.NewGuid();
        await env.ExecAsync("INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ('pg-live', 'localhost', 5432, 'a', 'r', 15)");
        await env.ExecAsync($"INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES ('{tenantId}', 'acme', 'pg-live', 'ref')");
        var activities = new Activities.RestoreActivities(
            resolver: null!, status: null!, provisioner: null!, restoredServers: null!, preflight: null!, dumper: null!, loader: null!, transfer: null!,
            parity: null!, parityReports: null!, changes: null!, swap: null!, flip: null!, cache: null!, audit: new Postgres.Operations.AuditWriter(env.Master), dropper: null!,
            notifier: new OutboxNotifier(new NotificationOutbox(env.Master, env.Clock), env.Options, new RecordingLogger<OutboxNotifier>()),
            orchestrations: null!, terminator: null!, starts: null!);
        return (activities, tenantId);
    }

    private static NotifyInput Message(string runId) => new(runId, "acme", "Tenant acme restored", "tenant_acme is live; approved by bob.");

    private static List<NotificationTarget> Targets(params (string Name, NotificationPayloadKind Kind)[] targets) =>
        targets.Select(t => new NotificationTarget { Name = t.Name, Kind = t.Kind, UrlSecretRef = "notify-" + t.Name }).ToList();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A master database of its own, a receiver, a clock and a dispatcher; all removed at the end.</summary>
    private sealed class NotificationEnv : IAsyncDisposable
    {
        private readonly HostClusterFixture _fx;
        private readonly string _database;
        private readonly NpgsqlConnectionStringBuilder _connection;

        private NotificationEnv(HostClusterFixture fx, string database, NpgsqlConnectionStringBuilder connection, LoopbackReceiver receiver, NotificationOptions options, ISecretStore secrets)
        {
            _fx = fx;
            _database = database;
            _connection = connection;
            Receiver = receiver;
            Options = options;
            Secrets = secrets;
            Master = new ControlPlaneDatabase(NpgsqlDataSource.Create(connection));
            Dispatcher = NewDispatcher(Master);
        }

        public LoopbackReceiver Receiver { get; }

        public NotificationOptions Options { get; }

        public ISecretStore Secrets { get; }

        public ManualClock Clock { get; } = new(Start);

        public ControlPlaneDatabase Master { get; }

        public NotificationDispatcher Dispatcher { get; }

        public RecordingLogger<NotificationDispatcher> Logs { get; } = new();

        public static async Task<NotificationEnv> StartAsync(
            HostClusterFixture fx, List<NotificationTarget> targets, int maxAttempts = 5, Func<LoopbackReceiver, string, Uri>? urlFor = null)
        {
            fx.RequirePostgres();
            var database = "notify_" + Guid.NewGuid().ToString("N")[..10];
            await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {database}");
            var connection = new NpgsqlConnectionStringBuilder
            {
                Host = fx.LiveServer.Fqdn,
                Port = fx.LiveServer.Port,
                Database = database,
                Username = fx.LiveServer.AdminUser,
                Password = await fx.Secrets.GetSecretAsync(HostClusterFixture.LiveSecretRef, CancellationToken.None),
                Pooling = false,
            };
            var receiver = await LoopbackReceiver.StartAsync();
            var secrets = new LocalSecretStore(Path.Combine(Path.GetTempPath(), $"rcm-notify-{Guid.NewGuid():N}.json"));
            foreach (var target in targets)
            {
                await secrets.SetSecretAsync(target.UrlSecretRef, (urlFor ?? ((r, name) => r.Url(name)))(receiver, target.Name).ToString(), CancellationToken.None);
            }

            var options = new NotificationOptions
            {
                Targets = targets, MaxAttempts = maxAttempts, FirstRetryDelay = TimeSpan.FromSeconds(10), MaxRetryDelay = TimeSpan.FromMinutes(10),
                SendTimeout = TimeSpan.FromSeconds(20),
            };
            var env = new NotificationEnv(fx, database, connection, receiver, options, secrets);
            await env.Master.MigrateAsync(CancellationToken.None);
            return env;
        }

        public NotificationDispatcher NewDispatcher(ControlPlaneDatabase master) =>
            new(new NotificationOutbox(master, Clock), Options, Secrets, Logs);

        /// <summary>Another host's connection to the same master.</summary>
        public Task<ControlPlaneDatabase> OtherMasterAsync() => Task.FromResult(new ControlPlaneDatabase(NpgsqlDataSource.Create(_connection)));

        public Task NotifyAsync(string runId, string notificationEvent) =>
            new OutboxNotifier(new NotificationOutbox(Master, Clock), Options, new RecordingLogger<OutboxNotifier>())
                .NotifyAsync(notificationEvent, Message(runId), CancellationToken.None);

        public Task ExecAsync(string sql) => _fx.ExecAsync(_fx.LiveServer, _database, sql);

        public Task<T> ScalarAsync<T>(string sql) => _fx.ScalarAsync<T>(_fx.LiveServer, _database, sql);

        public async ValueTask DisposeAsync()
        {
            Dispatcher.Dispose();
            await Master.DisposeAsync();
            await Receiver.DisposeAsync();
            if (Secrets is LocalSecretStore local)
            {
                File.Delete(local.Path);
            }

            await using var maintenance = await _fx.Connector.OpenMaintenanceAsync(_fx.LiveServer, CancellationToken.None);
            await new ServerCatalog(maintenance).DropIfExistsAsync(_database, CancellationToken.None);
        }
    }

    /// <summary>A real HTTP receiver on loopback: records each request, answers with scripted failures, can hold a request.</summary>
    private sealed class LoopbackReceiver : IAsyncDisposable
    {
        private readonly ConcurrentQueue<HttpStatusCode> _failures = new();
        private readonly ConcurrentQueue<(string Path, string Body)> _requests = new();
        private WebApplication _app = null!;
        private Gate? _hold;
        private Gate? _lastHold;

        /// <summary>A secret-looking path segment that must never leave the secret store.</summary>
        public string Token { get; } = "s3cret" + Guid.NewGuid().ToString("N");

        public IReadOnlyList<(string Path, string Body)> Requests => _requests.ToArray();

        public static async Task<LoopbackReceiver> StartAsync()
        {
            var receiver = new LoopbackReceiver();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            receiver._app = builder.Build();
            receiver._app.MapPost("/{token}/{target}", receiver.HandleAsync);
            await receiver._app.StartAsync(TestContext.Current.CancellationToken);
            return receiver;
        }

        public Uri Url(string target) => new($"{_app.Urls.Single()}/{Token}/{target}");

        public void Fail(params HttpStatusCode[] statuses)
        {
            foreach (var status in statuses)
            {
                _failures.Enqueue(status);
            }
        }

        public Gate HoldNext() => _hold = _lastHold = new Gate();

        public ValueTask DisposeAsync()
        {
            _lastHold?.Release.TrySetResult(); // a failed test must not leave a request held (the app would wait for it)
            return _app.DisposeAsync();
        }

        private async Task HandleAsync(HttpContext context)
        {
            using var reader = new StreamReader(context.Request.Body);
            _requests.Enqueue((context.Request.Path.Value!, await reader.ReadToEndAsync()));
            if (Interlocked.Exchange(ref _hold, null) is { } hold)
            {
                hold.Entered.SetResult();
                await hold.Release.Task;
            }

            context.Response.StatusCode = _failures.TryDequeue(out var status) ? (int)status : StatusCodes.Status200OK;
        }
    }

    private sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Keeps every formatted entry, with its exception, as text.</summary>
    private sealed class RecordingLogger<T> : ILogger<T>
    {
        private readonly ConcurrentQueue<string> _entries = new();

        public IReadOnlyList<string> Entries => _entries.ToArray();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue($"{formatter(state, exception)} {exception} {string.Join(' ', (state as IEnumerable<KeyValuePair<string, object?>>)?.Select(p => $"{p.Key}={p.Value}") ?? [])}");
    }
}
