using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Gives a restored copy the live database's owners and privileges. The copy is loaded with the runbook's
/// <c>--no-owner --no-privileges</c>, so everything in it belongs to the admin; after the swap the tenant's application
/// role would lose what it owned or was granted and the customer could not sign in. Live is the reference (not the
/// server at T): roles and grants are the server's current access policy, not tenant data being rolled back.
/// Objects are matched by kind, schema, name and (functions) signature; owners are set first, then each ACL is made equal
/// to live's (grants and revokes), then database-level ACL and default privileges. Everything runs in one transaction
/// per database, so a failure leaves the copy unmarked and the step redoes it. A role live names that the server does not
/// have is refused by name before anything changes.
/// </summary>
public static class LiveOwnership
{
    private static readonly HashSet<string> Privileges =
        ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "EXECUTE", "USAGE", "CREATE", "CONNECT", "TEMPORARY", "MAINTAIN"];

    private const string SchemaFilter = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";

    private static readonly string ObjectsSql =
        $"""
        WITH objects AS (
          SELECT 'schema' AS kind, n.nspname AS schema, n.nspname AS name, '' AS signature, n.nspowner AS owner,
                 coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl, n.oid, 'pg_namespace'::regclass AS catalog, false AS linked
            FROM pg_namespace n WHERE {SchemaFilter}
          UNION ALL
          SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                WHEN 'f' THEN 'foreign table' ELSE 'table' END,
                 n.nspname, c.relname, '', c.relowner,
                 coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner)), c.oid, 'pg_class'::regclass,
                 EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {SchemaFilter}
          UNION ALL
          SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname, p.proname,
                 pg_get_function_identity_arguments(p.oid), p.proowner, coalesce(p.proacl, acldefault('f', p.proowner)), p.oid,
                 'pg_proc'::regclass, false
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.prokind IN ('f', 'p') AND {SchemaFilter}
          UNION ALL
          SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, n.nspname, t.typname, '', t.typowner,
                 coalesce(t.typacl, acldefault('T', t.typowner)), t.oid, 'pg_type'::regclass, false
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
             AND {SchemaFilter}
        )
        SELECT o.kind, o.schema, o.name, o.signature, r.rolname, o.owner::bigint, o.linked,
               array(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE g.rolname END FROM aclexplode(o.acl) a LEFT JOIN pg_roles g ON g.oid = a.grantee ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.grantee::bigint FROM aclexplode(o.acl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.privilege_type FROM aclexplode(o.acl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.is_grantable FROM aclexplode(o.acl) a ORDER BY a.grantee, a.privilege_type)
          FROM objects o LEFT JOIN pg_roles r ON r.oid = o.owner
         WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.catalog AND d.objid = o.oid AND d.deptype = 'e')
        """;

    private const string DatabaseSql =
        """
        SELECT 'database', '', d.datname, '', r.rolname, d.datdba::bigint, false,
               array(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE g.rolname END FROM aclexplode(x.acl) a LEFT JOIN pg_roles g ON g.oid = a.grantee ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.grantee::bigint FROM aclexplode(x.acl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.privilege_type FROM aclexplode(x.acl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.is_grantable FROM aclexplode(x.acl) a ORDER BY a.grantee, a.privilege_type)
          FROM pg_database d CROSS JOIN LATERAL (SELECT coalesce(d.datacl, acldefault('d', d.datdba)) AS acl) x
          LEFT JOIN pg_roles r ON r.oid = d.datdba
         WHERE d.datname = $1
        """;

    // kind = the object type keyword; schema = '' for the database-wide entry; name = its role; the baseline is what no
    // entry means (acldefault for database-wide entries, nothing in a schema).
    private const string DefaultsSql =
        """
        SELECT d.defaclobjtype::text, coalesce(n.nspname, ''), coalesce(r.rolname, ''), '', r.rolname, d.defaclrole::bigint, false,
               array(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE g.rolname END FROM aclexplode(d.defaclacl) a LEFT JOIN pg_roles g ON g.oid = a.grantee ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.grantee::bigint FROM aclexplode(d.defaclacl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.privilege_type FROM aclexplode(d.defaclacl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.is_grantable FROM aclexplode(d.defaclacl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE g.rolname END FROM aclexplode(b.acl) a LEFT JOIN pg_roles g ON g.oid = a.grantee ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.privilege_type FROM aclexplode(b.acl) a ORDER BY a.grantee, a.privilege_type),
               array(SELECT a.is_grantable FROM aclexplode(b.acl) a ORDER BY a.grantee, a.privilege_type)
          FROM pg_default_acl d
          LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
          LEFT JOIN pg_roles r ON r.oid = d.defaclrole
          CROSS JOIN LATERAL (SELECT CASE WHEN d.defaclnamespace = 0
                                          THEN acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END::"char", d.defaclrole)
                                          ELSE NULL::aclitem[] END AS acl) b
        """;

    /// <summary>
    /// Applies the owners and privileges of the tenant's live database — the first of <paramref name="candidates"/> that
    /// exists on <paramref name="server"/> — to <paramref name="copyDatabase"/>.
    /// </summary>
    public static async Task<OwnershipSummary> ApplyFromLiveAsync(
        PgConnector connector, DbServerInfo server, IEnumerable<string> candidates, string copyDatabase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(candidates);
        var names = candidates.Distinct(StringComparer.Ordinal).ToList();
        string? live = null;
        await using (var maintenance = await connector.OpenMaintenanceAsync(server, cancellationToken))
        {
            var catalog = new ServerCatalog(maintenance);
            foreach (var name in names)
            {
                if (await catalog.FindAsync(name, cancellationToken) is not null)
                {
                    live = name;
                    break;
                }
            }
        }

        return live is null
            ? throw new DatabaseStateConflictException(
                $"Cannot give the restored copy {copyDatabase} the tenant's owners and privileges: none of {string.Join(", ", names)} exists on {server.Name}.")
            : await ApplyAsync(connector, server, live, copyDatabase, cancellationToken);
    }

    /// <summary>Makes <paramref name="copyDatabase"/>'s owners and privileges those of <paramref name="liveDatabase"/> (same server).</summary>
    public static async Task<OwnershipSummary> ApplyAsync(
        PgConnector connector, DbServerInfo server, string liveDatabase, string copyDatabase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var owners = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var privileges = new SortedDictionary<string, int>(StringComparer.Ordinal);
        List<Entry> liveObjects, liveDefaults;
        Entry liveDatabaseEntry;
        await using (var live = await connector.OpenAsync(server, liveDatabase, cancellationToken))
        {
            liveObjects = await ReadAsync(live, ObjectsSql, null, cancellationToken);
            liveDefaults = await ReadAsync(live, DefaultsSql, null, cancellationToken);
            liveDatabaseEntry = (await ReadAsync(live, DatabaseSql, liveDatabase, cancellationToken)).Single();
        }

        await using var maintenance = await connector.OpenMaintenanceAsync(server, cancellationToken);
        await RequireRolesAsync(maintenance, liveDatabase, [.. liveObjects, .. liveDefaults, liveDatabaseEntry], cancellationToken);
        var missing = 0;
        var onlyInCopy = 0;
        await using (var copy = await connector.OpenAsync(server, copyDatabase, cancellationToken))
        await using (var transaction = await copy.BeginTransactionAsync(cancellationToken))
        {
            var before = (await ReadAsync(copy, ObjectsSql, null, cancellationToken)).ToDictionary(e => e.Key);
            var wanted = liveObjects.ToDictionary(e => e.Key);
            missing = wanted.Keys.Count(k => !before.ContainsKey(k));
            onlyInCopy = before.Keys.Count(k => !wanted.ContainsKey(k));
            var statements = new List<string>();
            // Relations before sequences: a table's new owner takes its identity and serial sequences with it.
            foreach (var entry in liveObjects.Where(e => before.ContainsKey(e.Key)).OrderBy(e => e.Kind == "sequence"))
            {
                var current = before[entry.Key];
                if (entry.Owner != current.Owner && !entry.Linked)
                {
                    statements.Add($"ALTER {Keyword(entry.Kind)} {Target(entry)} OWNER TO {PgQuote.Identifier(entry.Owner!)}");
                    Count(owners, entry.Kind);
                }
            }

            await ExecuteAsync(copy, statements, cancellationToken);
            statements.Clear();
            var after = (await ReadAsync(copy, ObjectsSql, null, cancellationToken)).ToDictionary(e => e.Key);
            foreach (var entry in liveObjects.Where(e => after.ContainsKey(e.Key)))
            {
                var changes = AclChanges($"{GrantKeyword(entry.Kind)} {Target(entry)}", after[entry.Key].Acl, entry.Acl);
                statements.AddRange(changes);
                Count(privileges, entry.Kind, changes.Count);
            }

            var copyDefaults = (await ReadAsync(copy, DefaultsSql, null, cancellationToken)).ToDictionary(e => e.Key);
            var liveDefaultKeys = liveDefaults.Select(d => d.Key).ToHashSet();
            foreach (var entry in liveDefaults.Concat(copyDefaults.Values.Where(d => !liveDefaultKeys.Contains(d.Key))))
            {
                var fromLive = liveDefaultKeys.Contains(entry.Key);
                var current = copyDefaults.TryGetValue(entry.Key, out var c) ? c.Acl : entry.Baseline!;
                var desired = fromLive ? entry.Acl : entry.Baseline!;
                var changes = AclChanges(DefaultsClause(entry), current, desired, defaults: true);
                statements.AddRange(changes);
                Count(privileges, "default privileges", changes.Count);
            }

            await ExecuteAsync(copy, statements, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await using (var transaction = await maintenance.BeginTransactionAsync(cancellationToken))
        {
            var copyEntry = (await ReadAsync(maintenance, DatabaseSql, copyDatabase, cancellationToken)).Single();
            var statements = new List<string>();
            if (copyEntry.Owner != liveDatabaseEntry.Owner)
            {
                statements.Add($"ALTER DATABASE {PgQuote.Identifier(copyDatabase)} OWNER TO {PgQuote.Identifier(liveDatabaseEntry.Owner!)}");
                Count(owners, "database");
            }

            await ExecuteAsync(maintenance, statements, cancellationToken);
            copyEntry = (await ReadAsync(maintenance, DatabaseSql, copyDatabase, cancellationToken)).Single();
            var changes = AclChanges($"DATABASE {PgQuote.Identifier(copyDatabase)}", copyEntry.Acl, liveDatabaseEntry.Acl);
            Count(privileges, "database", changes.Count);
            await ExecuteAsync(maintenance, changes, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return new OwnershipSummary(owners, privileges, missing, onlyInCopy);
    }

    /// <summary>
    /// What still differs between the owners and privileges of <paramref name="liveDatabase"/> and <paramref name="copyDatabase"/>
    /// (same server), for the change report: objects in both whose owner or ACL differs, the databases' own owner and ACL, and
    /// default privileges. After <see cref="ApplyAsync"/> the list is empty unless something changed since. Read-only; names
    /// roles and objects, never row data.
    /// </summary>
    public static async Task<PrivilegeComparison> CompareAsync(
        PgConnector connector, DbServerInfo server, string liveDatabase, string copyDatabase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        async Task<(List<Entry> Objects, List<Entry> Defaults, Entry Database)> ReadAllAsync(string database)
        {
            await using var connection = await connector.OpenAsync(server, database, cancellationToken);
            return (await ReadAsync(connection, ObjectsSql, null, cancellationToken),
                await ReadAsync(connection, DefaultsSql, null, cancellationToken),
                (await ReadAsync(connection, DatabaseSql, database, cancellationToken)).Single());
        }

        var live = await ReadAllAsync(liveDatabase);
        var copy = await ReadAllAsync(copyDatabase);
        var copyObjects = copy.Objects.ToDictionary(e => e.Key);
        var differences = new List<PrivilegeDifference>();
        foreach (var entry in live.Objects.Where(e => copyObjects.ContainsKey(e.Key)).OrderBy(e => e.Key))
        {
            Differ(differences, entry.Kind, Target(entry), entry, copyObjects[entry.Key], compareOwner: !entry.Linked);
        }

        Differ(differences, "database", "(the tenant database)", live.Database, copy.Database, compareOwner: true);
        var copyDefaults = copy.Defaults.ToDictionary(e => e.Key);
        var liveDefaults = live.Defaults.ToDictionary(e => e.Key);
        foreach (var key in liveDefaults.Keys.Union(copyDefaults.Keys).Order())
        {
            var liveAcl = liveDefaults.TryGetValue(key, out var l) ? l.Acl : copyDefaults[key].Baseline ?? [];
            var copyAcl = copyDefaults.TryGetValue(key, out var c) ? c.Acl : liveDefaults[key].Baseline ?? [];
            if (AclText(liveAcl) != AclText(copyAcl))
            {
                var entry = l ?? c!;
                differences.Add(new PrivilegeDifference("default privileges", $"{entry.Kind} of {entry.Name}{(entry.Schema.Length > 0 ? " in " + entry.Schema : string.Empty)}", null, null, AclText(liveAcl), AclText(copyAcl)));
            }
        }

        var liveKeys = live.Objects.Select(e => e.Key).ToHashSet();
        return new PrivilegeComparison(
            live.Objects.Count(e => copyObjects.ContainsKey(e.Key)),
            live.Objects.Count(e => !copyObjects.ContainsKey(e.Key)),
            copy.Objects.Count(e => !liveKeys.Contains(e.Key)),
            differences);
    }

    private static void Differ(List<PrivilegeDifference> differences, string kind, string target, Entry live, Entry copy, bool compareOwner)
    {
        var ownerDiffers = compareOwner && live.Owner != copy.Owner;
        var (liveAcl, copyAcl) = (AclText(live.Acl), AclText(copy.Acl));
        if (ownerDiffers || liveAcl != copyAcl)
        {
            differences.Add(new PrivilegeDifference(kind, target, ownerDiffers ? live.Owner : null, ownerDiffers ? copy.Owner : null, liveAcl == copyAcl ? null : liveAcl, liveAcl == copyAcl ? null : copyAcl));
        }
    }

    /// <summary>An ACL as sorted <c>grantee:PRIVILEGE</c> items (<c>*</c> for WITH GRANT OPTION, <c>PUBLIC</c> for everyone).</summary>
    private static string AclText(IReadOnlyList<Acl> acl) =>
        string.Join(", ", acl.Select(a => $"{(a.Grantee.Length == 0 ? "PUBLIC" : a.Grantee)}:{a.Privilege}{(a.Grantable ? "*" : string.Empty)}").Order(StringComparer.Ordinal));

    private static async Task RequireRolesAsync(NpgsqlConnection maintenance, string liveDatabase, IReadOnlyList<Entry> entries, CancellationToken cancellationToken)
    {
        var unresolved = entries.SelectMany(e => e.UnresolvedOids).Distinct().ToList();
        if (unresolved.Count > 0)
        {
            throw new DatabaseStateConflictException(
                $"Cannot give the restored copy {liveDatabase}'s owners and privileges: its catalog refers to role OIDs {string.Join(", ", unresolved)} that the server does not have. Nothing was applied.");
        }

        var names = entries.SelectMany(e => e.RoleNames).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        await using var command = new NpgsqlCommand("SELECT n FROM unnest($1::text[]) n WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = n) ORDER BY 1", maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = names });
        var absent = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                absent.Add(reader.GetString(0));
            }
        }

        if (absent.Count > 0)
        {
            throw new DatabaseStateConflictException(
                $"Cannot give the restored copy {liveDatabase}'s owners and privileges: role(s) {string.Join(", ", absent)} do not exist on the server. " +
                "Create them (or remove them from live's grants), then retry the step. Nothing was applied.");
        }
    }

    private static List<string> AclChanges(string on, IReadOnlyList<Acl> current, IReadOnlyList<Acl> desired, bool defaults = false)
    {
        var statements = new List<string>();
        var now = current.ToDictionary(a => (a.Grantee, a.Privilege), a => a.Grantable);
        var wanted = desired.ToDictionary(a => (a.Grantee, a.Privilege), a => a.Grantable);
        foreach (var ((grantee, privilege), grantable) in now.Where(n => !wanted.ContainsKey(n.Key)))
        {
            statements.Add(Revoke(on, privilege, grantee, grantOptionOnly: false, defaults));
        }

        foreach (var ((grantee, privilege), grantable) in wanted)
        {
            if (!now.TryGetValue((grantee, privilege), out var had) || (grantable && !had))
            {
                statements.Add(Grant(on, privilege, grantee, grantable, defaults));
            }
            else if (had && !grantable)
            {
                statements.Add(Revoke(on, privilege, grantee, grantOptionOnly: true, defaults));
            }
        }

        return statements;
    }

    private static string Grant(string on, string privilege, string grantee, bool grantable, bool defaults) =>
        defaults
            ? $"{Prefix(on)}GRANT {Privilege(privilege)} ON {Objects(on)} TO {Grantee(grantee)}{(grantable ? " WITH GRANT OPTION" : string.Empty)}"
            : $"GRANT {Privilege(privilege)} ON {on} TO {Grantee(grantee)}{(grantable ? " WITH GRANT OPTION" : string.Empty)}";

    private static string Revoke(string on, string privilege, string grantee, bool grantOptionOnly, bool defaults) =>
        defaults
            ? $"{Prefix(on)}REVOKE {(grantOptionOnly ? "GRANT OPTION FOR " : string.Empty)}{Privilege(privilege)} ON {Objects(on)} FROM {Grantee(grantee)}"
            : $"REVOKE {(grantOptionOnly ? "GRANT OPTION FOR " : string.Empty)}{Privilege(privilege)} ON {on} FROM {Grantee(grantee)}";

    // A default-privileges clause is "ALTER DEFAULT PRIVILEGES FOR ROLE r [IN SCHEMA s] <OBJECTS>": GRANT/REVOKE go between
    // the prefix and the object type word.
    private static string Prefix(string clause) => clause[..(clause.LastIndexOf(' ') + 1)];

    private static string Objects(string clause) => clause[(clause.LastIndexOf(' ') + 1)..];

    private static string DefaultsClause(Entry entry)
    {
        var objects = entry.Kind switch
        {
            "r" => "TABLES",
            "S" => "SEQUENCES",
            "f" => "FUNCTIONS",
            "T" => "TYPES",
            "n" => "SCHEMAS",
            _ => throw new DatabaseStateConflictException($"Unknown default-privilege object type '{entry.Kind}' in the live database."),
        };
        var schema = entry.Schema.Length == 0 ? string.Empty : $" IN SCHEMA {PgQuote.Identifier(entry.Schema)}";
        return $"ALTER DEFAULT PRIVILEGES FOR ROLE {PgQuote.Identifier(entry.Name)}{schema} {objects}";
    }

    private static string Privilege(string privilege) =>
        Privileges.Contains(privilege) ? privilege : throw new DatabaseStateConflictException($"Unknown privilege '{privilege}' in the live database's catalog.");

    private static string Grantee(string grantee) => grantee.Length == 0 ? "PUBLIC" : PgQuote.Identifier(grantee);

    private static string Keyword(string kind) => kind switch
    {
        "schema" => "SCHEMA",
        "table" => "TABLE",
        "sequence" => "SEQUENCE",
        "view" => "VIEW",
        "materialized view" => "MATERIALIZED VIEW",
        "foreign table" => "FOREIGN TABLE",
        "function" => "FUNCTION",
        "procedure" => "PROCEDURE",
        "domain" => "DOMAIN",
        "type" => "TYPE",
        _ => throw new InvalidOperationException($"unknown object kind {kind}"),
    };

    private static string GrantKeyword(string kind) => kind switch
    {
        "view" or "materialized view" or "foreign table" => "TABLE",
        "domain" => "DOMAIN",
        _ => Keyword(kind),
    };

    // Functions are named by their identity arguments as the server formats them (pg_get_function_identity_arguments),
    // read from the copy's own catalog: the same text pg_dump writes, its type names already quoted by the server.
    private static string Target(Entry entry) => entry.Kind switch
    {
        "schema" => PgQuote.Identifier(entry.Name),
        "function" or "procedure" => $"{PgQuote.Qualified(entry.Schema, entry.Name)}({entry.Signature})",
        _ => PgQuote.Qualified(entry.Schema, entry.Name),
    };

    private static void Count(SortedDictionary<string, int> counts, string kind, int n = 1)
    {
        if (n > 0)
        {
            counts[kind] = counts.GetValueOrDefault(kind) + n;
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, IReadOnlyList<string> statements, CancellationToken cancellationToken)
    {
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                // Not a passing fault: a retry would fail the same way. Where the admin is no superuser (Azure), it must be
                // able to act as every role that owns or grants the tenant's objects.
                throw new DatabaseStateConflictException(
                    $"The admin {connection.UserName} may not give the restored copy the tenant's owners and privileges ({e.SqlState}: {e.MessageText}). " +
                    $"Grant each role that owns the tenant's objects to the admin (GRANT <role> TO {connection.UserName}), then start the restore again.");
            }
        }
    }

    private static async Task<List<Entry>> ReadAsync(NpgsqlConnection connection, string sql, string? database, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (database is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = database });
        }

        var entries = new List<Entry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var unresolved = new List<long>();
            var owner = reader.IsDBNull(4) ? null : reader.GetString(4);
            if (owner is null)
            {
                unresolved.Add(reader.GetInt64(5));
            }

            var acl = Acls(reader, 7, 9, 10, reader.GetFieldValue<long[]>(8), unresolved);
            var baseline = reader.FieldCount > 11 ? Acls(reader, 11, 12, 13, null, unresolved) : null;
            entries.Add(new Entry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), owner, reader.GetBoolean(6), acl, baseline, unresolved));
        }

        return entries;
    }

    private static List<Acl> Acls(NpgsqlDataReader reader, int grantees, int privileges, int grantable, long[]? oids, List<long> unresolved)
    {
        var names = reader.GetFieldValue<string?[]>(grantees);
        var kinds = reader.GetFieldValue<string[]>(privileges);
        var options = reader.GetFieldValue<bool[]>(grantable);
        var acl = new List<Acl>(names.Length);
        for (var i = 0; i < names.Length; i++)
        {
            if (names[i] is null)
            {
                unresolved.Add(oids?[i] ?? 0);
                continue;
            }

            acl.Add(new Acl(names[i]!, kinds[i], options[i]));
        }

        return acl;
    }

    private sealed record Acl(string Grantee, string Privilege, bool Grantable);

    private sealed record Entry(
        string Kind, string Schema, string Name, string Signature, string? Owner, bool Linked, IReadOnlyList<Acl> Acl, IReadOnlyList<Acl>? Baseline, IReadOnlyList<long> UnresolvedOids)
    {
        public (string, string, string, string) Key => (Kind, Schema, Name, Signature);

        public IEnumerable<string> RoleNames => Acl.Select(a => a.Grantee).Append(Owner ?? string.Empty);
    }
}
