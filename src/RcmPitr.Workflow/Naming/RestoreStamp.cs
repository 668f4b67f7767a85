using System.Globalization;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// The <c>yyyyMMddHHmmss</c> (UTC) stamp RcmPitr puts into every name it derives from a restore time,
/// e.g. <c>20260422143010</c> for 2026-04-22T14:30:10Z. The runbook stamps names by the minute; RcmPitr
/// keeps the second, the granularity of a point-in-time restore, so restores to different seconds of one
/// minute never share a restored server or a database name (derived database names also carry the run,
/// see <see cref="TenantDatabaseNames"/>).
/// </summary>
public sealed record RestoreStamp
{
    /// <summary>The stamp's format.</summary>
    public const string Format = "yyyyMMddHHmmss";

    private RestoreStamp(string value) => Value = value;

    /// <summary>The fourteen digits.</summary>
    public string Value { get; }

    /// <summary>
    /// <paramref name="restoreTime"/> in UTC without its fraction of a second: restored servers and names are per second,
    /// and the earlier edge of the second never brings back a write made after the time asked for.
    /// </summary>
    public static DateTimeOffset WholeSecond(DateTimeOffset restoreTime) =>
        new(restoreTime.UtcTicks - (restoreTime.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>The stamp of a restore time (any offset, converted to UTC).</summary>
    public static RestoreStamp From(DateTimeOffset restoreTime) =>
        new(restoreTime.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));

    /// <summary>Parses fourteen digits that form a real UTC second, or throws <see cref="InvalidRestoreInputException"/>.</summary>
    public static RestoreStamp Parse(string? value, string field = "stamp")
    {
        if (value is null || value.Length != Format.Length || !value.All(char.IsAsciiDigit) ||
            !DateTime.TryParseExact(value, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            throw new InvalidRestoreInputException(field, $"'{value}' is not a {Format} restore stamp");
        }

        return new RestoreStamp(value);
    }

    /// <inheritdoc />
    public override string ToString() => Value;
}
