using System.Text.Json.Serialization;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// One piece of a move, measured alone: a table's copy, an index build, a constraint attached to its index, another
/// constraint, or a foreign key. <paramref name="Table"/> is <c>schema.table</c>; a foreign key also names the table it
/// references and the unique index (by name, equal to its constraint's) it needs there.
/// </summary>
internal sealed record LimitItem(
    string Kind,
    string Name,
    string Table,
    double WallSeconds,
    double CpuSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? References = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReferencedKey = null)
{
    public const string Copy = "copy";
    public const string Index = "index";
    public const string Attach = "attach";
    public const string Constraint = "constraint";
    public const string ForeignKey = "foreign key";
}

/// <summary>One item on the critical path and its wall seconds.</summary>
internal sealed record CriticalStep(string Item, double Seconds);

/// <summary>
/// The computed limit of a move on <see cref="Cores"/> cores: no schedule of the measured items can finish before
/// <c>schema + max(critical path, work / cores)</c>; a greedy one finishes by <c>schema + work / cores + critical path</c>
/// (Graham's bound).
/// </summary>
internal sealed record TransferLimit(
    double LimitSeconds,
    double SchemaSeconds,
    double CriticalPathSeconds,
    IReadOnlyList<CriticalStep> CriticalPath,
    double WorkCpuSeconds,
    int Cores,
    double GrahamUpperSeconds)
{
    /// <summary>Work spread over every core: the other lower bound.</summary>
    public double WorkPerCoreSeconds => WorkCpuSeconds / Cores;

    /// <summary>
    /// Computes the limit from items measured alone. The dependencies, per table T:
    /// T's copy comes first; T's index builds follow it and may run side by side; attaches and other constraints on T
    /// follow every build on T, one at a time (they lock T exclusively); T's foreign keys follow all of that, one at a
    /// time, and each also waits for the index (and the attach or constraint) it references on the other table.
    /// The critical path is the longest path of that graph in wall seconds; the work is the sum of every item's CPU seconds.
    /// </summary>
    public static TransferLimit Compute(double schemaSeconds, int cores, IReadOnlyList<LimitItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        var end = new Dictionary<LimitItem, (double At, LimitItem? After)>(ReferenceEqualityComparer.Instance);
        var tableDone = new Dictionary<string, (double At, LimitItem? After)>(StringComparer.Ordinal);
        foreach (var table in items.Select(i => i.Table).Distinct(StringComparer.Ordinal))
        {
            var on = items.Where(i => i.Table == table).ToList();
            (double At, LimitItem? After) ready = (0, null);
            foreach (var copy in on.Where(i => i.Kind == LimitItem.Copy))
            {
                end[copy] = (ready.At + copy.WallSeconds, ready.After);
                ready = (end[copy].At, copy);
            }

            var built = ready;
            foreach (var index in on.Where(i => i.Kind == LimitItem.Index))
            {
                end[index] = (ready.At + index.WallSeconds, ready.After);
                if (end[index].At > built.At)
                {
                    built = (end[index].At, index);
                }
            }

            // Attaches first: a foreign key on another table may be waiting for one.
            foreach (var serial in on.Where(i => i.Kind == LimitItem.Attach).Concat(on.Where(i => i.Kind == LimitItem.Constraint)))
            {
                end[serial] = (built.At + serial.WallSeconds, built.After);
                built = (end[serial].At, serial);
            }

            tableDone[table] = built;
        }

        foreach (var (table, done) in tableDone)
        {
            // One at a time on the table; earliest-available first is the shortest such sequence.
            var keys = items.Where(i => i.Table == table && i.Kind == LimitItem.ForeignKey)
                .Select(fk => (Key: fk, Release: Referenced(fk)))
                .OrderBy(k => k.Release.At).ThenBy(k => k.Key.Name, StringComparer.Ordinal)
                .ToList();
            var at = done;
            foreach (var (fk, release) in keys)
            {
                var start = release.At > at.At ? release : at;
                end[fk] = (start.At + fk.WallSeconds, start.After);
                at = (end[fk].At, fk);
            }
        }

        (double At, LimitItem? After) Referenced(LimitItem fk)
        {
            (double At, LimitItem? After) latest = (0, null);
            foreach (var key in items.Where(i => i.Table == fk.References && i.Name == fk.ReferencedKey && i.Kind is LimitItem.Index or LimitItem.Attach or LimitItem.Constraint))
            {
                if (end[key].At >= latest.At)
                {
                    latest = (end[key].At, key);
                }
            }

            return latest;
        }

        var path = new List<CriticalStep>();
        var last = end.Count == 0 ? null : end.MaxBy(e => e.Value.At).Key;
        var critical = last is null ? 0 : end[last].At;
        for (var step = last; step is not null; step = end[step].After)
        {
            path.Add(new CriticalStep(Describe(step), step.WallSeconds));
        }

        path.Reverse();
        var work = items.Sum(i => i.CpuSeconds);
        return new TransferLimit(
            schemaSeconds + Math.Max(critical, work / cores), schemaSeconds, critical, path, work, cores, schemaSeconds + (work / cores) + critical);
    }

    /// <summary>
    /// Each item's median over several measuring passes (wall and CPU seconds taken separately), so that one slow or fast
    /// moment of the machine does not set the limit. Items are matched by kind, table and name; a copy by its table only
    /// (one pass may find one connection pair faster, another the page ranges), named as most passes named it.
    /// </summary>
    public static IReadOnlyList<LimitItem> Medians(IReadOnlyList<IReadOnlyList<LimitItem>> passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        if (passes.Count == 0)
        {
            return [];
        }

        return passes[0]
            .Select(first => passes.Select(pass => pass.Where(i => SameItem(i, first)).ToList()).ToList())
            .Select(found =>
            {
                if (found.Any(f => f.Count != 1))
                {
                    throw new InvalidOperationException("The measuring passes did not measure the same items.");
                }

                var samples = found.Select(f => f[0]).ToList();
                var name = samples.GroupBy(i => i.Name, StringComparer.Ordinal).OrderByDescending(g => g.Count()).First().Key;
                return samples[0] with { Name = name, WallSeconds = BenchStatistics.Median(samples.Select(i => i.WallSeconds)), CpuSeconds = BenchStatistics.Median(samples.Select(i => i.CpuSeconds)) };
            })
            .ToList();

        static bool SameItem(LimitItem a, LimitItem b) =>
            a.Kind == b.Kind && a.Table == b.Table && (a.Kind == LimitItem.Copy || a.Name == b.Name);
    }

    /// <summary>How an item reads on the critical path: <c>kind name</c>, or <c>copy name</c> for a copy.</summary>
    public static string Describe(LimitItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item.Kind == LimitItem.Copy ? $"copy {item.Name}" : $"{item.Kind} {item.Name} on {item.Table}";
    }
}
