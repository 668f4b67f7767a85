using System.Text;
using RcmPitr.Postgres.Changes;

namespace RcmPitr.Postgres.Tests.Changes;

public sealed class KeyOrderTests
{
    private static readonly string[] Texts =
        ["", "a", "A", "B", "b", "ab", "a b", "É", "é", "e\u0301", "ß", "Ø", "日本", "\uE000", "\uFFFD", "\uFFFF", "😀", "𐍈", "a😀", "a\uFFFD", "Z"];

    [Fact]
    public void CompareUtf8_AnyTwoStrings_OrdersAsTheirUtf8Bytes()
    {
        foreach (var a in Texts)
        {
            foreach (var b in Texts)
            {
                var bytes = Math.Sign(Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b)));

                Assert.True(bytes == Math.Sign(KeyOrder.CompareUtf8(a, b)), $"'{a}' vs '{b}'");
            }
        }
    }

    [Fact]
    public void CompareUuid_FirstByteAboveTheSignBit_OrdersAsUnsignedBigEndianBytes()
    {
        var ordered = new[]
        {
            Guid.Parse("00000000-0000-0000-0000-000000000000"), Guid.Parse("00000000-0000-0000-8000-000000000000"), Guid.Parse("00000000-0001-0000-0000-000000000000"),
            Guid.Parse("7fffffff-ffff-ffff-ffff-ffffffffffff"), Guid.Parse("80000000-0000-0000-0000-000000000000"), Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"),
        };

        for (var i = 0; i < ordered.Length - 1; i++)
        {
            Assert.True(KeyOrder.CompareUuid(ordered[i], ordered[i + 1]) < 0, $"{ordered[i]} < {ordered[i + 1]}");
            Assert.True(KeyOrder.CompareUuid(ordered[i + 1], ordered[i]) > 0);
        }
    }

    [Fact]
    public void ToText_EachKind_PrintsAsPostgresDoes()
    {
        KeyValue[] key = [new() { Integer = -42 }, new() { Uuid = Guid.Parse("8f14e45f-ceea-167a-5a36-dedd4bea2543") }, new() { Text = "É" }];

        var text = KeyOrder.ToText([KeyKind.Integer, KeyKind.Uuid, KeyKind.Text], key);

        Assert.Equal(["-42", "8f14e45f-ceea-167a-5a36-dedd4bea2543", "É"], text);
    }
}
