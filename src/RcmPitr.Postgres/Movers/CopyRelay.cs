using System.Globalization;
using Npgsql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// How the streaming mode copies one piece of a table: binary <c>COPY … TO STDOUT</c> on the source, relayed unparsed,
/// binary <c>COPY … FROM STDIN</c> on the target. The benchmark's measuring pass times its copies with the same code, so
/// the limit is measured on the same work the mode does.
/// </summary>
public static class CopyRelay
{
    /// <summary>The relay buffer each copy needs.</summary>
    public const int BufferBytes = 1 << 20;

    /// <summary>
    /// The source's COPY of <paramref name="qualifiedTable"/>: all of it, or (when <paramref name="fromPage"/> or
    /// <paramref name="toPage"/> is given) only its own rows in heap pages [from, to) — PostgreSQL 14 and later scan a ctid
    /// range directly. <paramref name="qualifiedTable"/> and <paramref name="columns"/> must be quoted already.
    /// </summary>
    public static string ReadSql(string qualifiedTable, string columns, long? fromPage, long? toPage) =>
        fromPage is null && toPage is null
            ? $"COPY {qualifiedTable} ({columns}) TO STDOUT (FORMAT binary)"
            : string.Create(
                CultureInfo.InvariantCulture,
                $"COPY (SELECT {columns} FROM ONLY {qualifiedTable} WHERE ctid >= '({fromPage ?? 0},0)'::tid{(toPage is { } end ? $" AND ctid < '({end},0)'::tid" : string.Empty)}) TO STDOUT (FORMAT binary)");

    /// <summary>The target's COPY; <paramref name="freeze"/> only for a table emptied or created in the same transaction.</summary>
    public static string WriteSql(string qualifiedTable, string columns, bool freeze) =>
        $"COPY {qualifiedTable} ({columns}) FROM STDIN (FORMAT binary{(freeze ? ", FREEZE" : string.Empty)})";

    /// <summary>
    /// Relays <paramref name="read"/> into <paramref name="write"/> and returns the bytes moved, reporting each chunk to
    /// <paramref name="moved"/> (which may pause the relay). A relay cut short is failed on the target, never completed (a transaction cannot take part
    /// of it), and its cause stays the exception: not a COPY format error from ending the stream, nor a broken connection's.
    /// </summary>
    public static async Task<long> RunAsync(
        NpgsqlConnection source, string read, NpgsqlConnection target, string write, byte[] buffer, Func<int, ValueTask>? moved, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(buffer);
        var from = await source.BeginRawBinaryCopyAsync(read, ct);
        var to = await target.BeginRawBinaryCopyAsync(write, ct);
        long total = 0;
        try
        {
            int count;
            while ((count = await from.ReadAsync(buffer, ct)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, count), ct);
                total += count;
                if (moved is not null)
                {
                    await moved(count);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or NpgsqlException or IOException)
        {
            await QuietlyAsync(to.CancelAsync());
            await QuietlyAsync(from.DisposeAsync().AsTask());
            throw;
        }

        await from.DisposeAsync();
        await to.DisposeAsync();
        return total;
    }

    private static async Task QuietlyAsync(Task cleanup)
    {
        try
        {
            await cleanup;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or OperationCanceledException)
        {
            // The connections are dropped with the failed copy.
        }
    }
}
