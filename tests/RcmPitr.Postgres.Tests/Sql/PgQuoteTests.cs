using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Tests.Sql;

public sealed class PgQuoteTests
{
    [Theory]
    [InlineData("tenant_acme", "\"tenant_acme\"")]
    [InlineData("we\"ird", "\"we\"\"ird\"")]
    [InlineData("Mixed Case", "\"Mixed Case\"")]
    public void Identifier_QuotesAndDoublesQuotes(string name, string expected) => Assert.Equal(expected, PgQuote.Identifier(name));

    [Theory]
    [InlineData("C.UTF-8", "'C.UTF-8'")]
    [InlineData("it's", "'it''s'")]
    [InlineData(@"back\slash", @"'back\slash'")]
    public void Literal_QuotesAndDoublesQuotes(string value, string expected) => Assert.Equal(expected, PgQuote.Literal(value));

    [Fact]
    public void Identifier_Nul_Throws() => Assert.Throws<ArgumentException>(() => PgQuote.Identifier("a\0b"));

    [Fact]
    public void Identifier_Empty_Throws() => Assert.Throws<ArgumentException>(() => PgQuote.Identifier(""));
}
