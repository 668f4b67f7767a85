namespace RcmPitr.Functions.Composition;

/// <summary>The quarterly dry run (section <c>DryRun</c>).</summary>
public sealed class DryRunOptions
{
    /// <summary>Comma-separated tenant slugs to dry-run each quarter.</summary>
    public string Tenants { get; set; } = string.Empty;

    /// <summary>How far in the past the dry run's restore point is (it must be inside retention).</summary>
    public TimeSpan RestorePointAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The slugs, trimmed.</summary>
    public IReadOnlyList<string> TenantList => Tenants.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
