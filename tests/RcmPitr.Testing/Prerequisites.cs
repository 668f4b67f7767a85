using Xunit;

namespace RcmPitr.Testing;

/// <summary>
/// A missing prerequisite (PostgreSQL binaries) skips a test on a developer machine but fails it on CI,
/// where a silent skip would hide a broken install step.
/// </summary>
public static class Prerequisites
{
    public static bool OnCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Missing(string what)
    {
        if (OnCi)
        {
            throw new InvalidOperationException($"CI=true and a test prerequisite is missing: {what}");
        }

        Assert.Skip($"Prerequisite missing: {what}");
    }
}
