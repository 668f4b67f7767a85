namespace RcmPitr.Postgres.Changes;

/// <summary>How a primary-key column is ordered on the server and compared in the client (the two must agree exactly).</summary>
internal enum KeyKind
{
    /// <summary><c>smallint</c>, <c>integer</c>, <c>bigint</c>: ordered natively, read and compared as a 64-bit integer.</summary>
    Integer,

    /// <summary><c>uuid</c>: ordered natively (PostgreSQL compares the 16 bytes as unsigned bytes), compared the same way.</summary>
    Uuid,

    /// <summary>Anything else: ordered by its text in UTF-8 byte order (<c>COLLATE "C"</c>), compared by code point.</summary>
    Text,
}

/// <summary>One key column's value as read from the server.</summary>
internal struct KeyValue
{
    public long Integer;
    public Guid Uuid;
    public string? Text;
}

/// <summary>The client side of the key order: the exact order the server's <c>ORDER BY</c> produces for each <see cref="KeyKind"/>.</summary>
internal static class KeyOrder
{
    /// <summary>
    /// Orders two strings as their UTF-8 bytes order (which is code point order, and what <c>COLLATE "C"</c> sorts by in a
    /// UTF-8 database). UTF-16 ordinal order differs for characters above U+E000 against those outside the BMP, so the first
    /// differing code units are remapped before comparing: surrogates above every BMP character, U+E000–U+FFFF below them.
    /// </summary>
    public static int CompareUtf8(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var length = Math.Min(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            if (a[i] != b[i])
            {
                return CodePointRank(a[i]) - CodePointRank(b[i]);
            }
        }

        return a.Length - b.Length;
    }

    /// <summary>Orders two uuids as PostgreSQL does: their 16 bytes, big-endian, unsigned.</summary>
    public static int CompareUuid(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, bigEndian: true, out _);
        b.TryWriteBytes(y, bigEndian: true, out _);
        return x.SequenceCompareTo(y);
    }

    /// <summary>Orders two keys column by column.</summary>
    public static int Compare(ReadOnlySpan<KeyKind> kinds, ReadOnlySpan<KeyValue> a, ReadOnlySpan<KeyValue> b)
    {
        for (var i = 0; i < kinds.Length; i++)
        {
            var order = kinds[i] switch
            {
                KeyKind.Integer => a[i].Integer.CompareTo(b[i].Integer),
                KeyKind.Uuid => CompareUuid(a[i].Uuid, b[i].Uuid),
                _ => CompareUtf8(a[i].Text!, b[i].Text!),
            };
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }

    /// <summary>A key's values as PostgreSQL prints them (<c>col::text</c>).</summary>
    public static IReadOnlyList<string?> ToText(ReadOnlySpan<KeyKind> kinds, ReadOnlySpan<KeyValue> key)
    {
        var text = new string?[kinds.Length];
        for (var i = 0; i < kinds.Length; i++)
        {
            text[i] = kinds[i] switch
            {
                KeyKind.Integer => key[i].Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
                KeyKind.Uuid => key[i].Uuid.ToString("D"),
                _ => key[i].Text,
            };
        }

        return text;
    }

    private static int CodePointRank(char c) => c >= '\uE000' ? c - 0x800 : c >= '\uD800' ? c + 0x2000 : c;
}
