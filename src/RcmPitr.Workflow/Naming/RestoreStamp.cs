using System.Globalization;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// The <c>yyyyMMddHHmm</c> (UTC) stamp the runbook puts into every name it derives from a restore time,
/// e.g. <c>202604221430</c> for 2026-04-22T14:30:xxZ. Two restores of one tenant to times within the same
/// minute share a stamp; the steps detect that through the marker they leave on the databases.
/// </summary>
public sealed record RestoreStamp
{
    /// <summary>The stamp's format.</summary>
    public const string Format = "yyyyMMddHHmm";

    private RestoreStamp(string value) => Value = value;

    /// <summary>The twelve digits.</summary>
    public string Value { get; }

    /// <summary>The stamp of a restore time (any offset, converted to UTC).</summary>
    public static RestoreStamp From(DateTimeOffset restoreTime) =>
        new(restoreTime.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));

    /// <summary>Parses twelve digits that form a real UTC minute, or throws <see cref="InvalidRestoreInputException"/>.</summary>
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
