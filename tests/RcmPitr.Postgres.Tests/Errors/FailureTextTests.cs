using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Errors;

/// <summary>The redaction of failure text, on what PostgreSQL 15's tools and server print.</summary>
public sealed class FailureTextTests
{
    private const string Marker = "MRN-0042-SECRET";

    [Fact]
    public void Redact_UniqueViolationWithDetailAndCommand_KeepsTheIndexDropsTheKeyAndTheStatement()
    {
        const string stderr = """
            pg_restore: error: could not execute query: ERROR:  could not create unique index "patient_mrn_key"
            DETAIL:  Key (phi.mrn_key(mrn))=(MRN-0042-SECRET) is duplicated.
            Command was: CREATE UNIQUE INDEX patient_mrn_key
                ON phi.patient USING btree (phi.mrn_key(mrn))
                WHERE mrn <> 'MRN-0042-SECRET';
            """;

        var text = FailureText.Redact(stderr);

        Assert.Equal("pg_restore: error: could not execute query: ERROR:  could not create unique index \"patient_mrn_key\"", text);
    }

    [Fact]
    public void Redact_CheckViolationDuringCopy_DropsTheFailingRowAndTheCopyLine()
    {
        const string stderr = """
            pg_restore: error: COPY failed for table "patient": ERROR:  new row for relation "patient" violates check constraint "patient_mrn_check"
            DETAIL:  Failing row contains (1, MRN-0042-SECRET).
            CONTEXT:  COPY patient, line 1: "1	MRN-0042-SECRET"
            """;

        var text = FailureText.Redact(stderr);

        Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
        Assert.Contains("violates check constraint \"patient_mrn_check\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_ErrorRaisedByAFunction_WithholdsItsMessage()
    {
        const string stderr = """
            pg_restore: error: COPY failed for table "patient": ERROR:  mrn MRN-0042-SECRET is not accepted here
            CONTEXT:  PL/pgSQL function phi.mrn_ok(text) line 4 at RAISE
            COPY patient, line 1: "1	MRN-0042-SECRET"
            """;

        var text = FailureText.Redact(stderr);

        Assert.Equal("pg_restore: error: COPY failed for table \"patient\": ERROR:  " + FailureText.WithheldRaise, text);
    }

    [Fact]
    public void Redact_PgDumpDetailLines_KeepsTheServerErrorWithoutItsValueDropsTheCommand()
    {
        const string stderr = """
            pg_dump: error: Dumping the contents of table "patient" failed: PQgetResult() failed.
            pg_dump: detail: Error message from server: ERROR:  invalid input syntax for type integer: "MRN-0042-SECRET"
            pg_dump: detail: Command was: COPY phi.patient (id, mrn) TO stdout WHERE mrn = 'MRN-0042-SECRET';
            """;

        var text = FailureText.Redact(stderr);

        Assert.Equal(
            """
            pg_dump: error: Dumping the contents of table "patient" failed: PQgetResult() failed.
            pg_dump: detail: Error message from server: ERROR:  invalid input syntax for type integer: "…"
            """.ReplaceLineEndings("\n"),
            text);
    }

    [Theory]
    [InlineData("ERROR:  invalid byte sequence for encoding \"UTF8\": 0x4d 0x52", "0x…")]
    [InlineData("ERROR:  value \"MRN-0042-SECRET\" is out of range for type integer", "value \"…\" is out of range")]
    [InlineData("ERROR:  duplicate key value violates unique constraint \"u\" Key (mrn)=(MRN-0042-SECRET) already exists.", "constraint \"u\"")]
    [InlineData("ERROR:  date/time field value out of range: \"MRN-0042-SECRET\"", "out of range: \"…\"")]
    public void Redact_ValuesInline_AreElided(string message, string kept)
    {
        var text = FailureText.Redact(message);

        Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
        Assert.DoesNotContain("4d 0x52", text, StringComparison.Ordinal);
        Assert.Contains(kept, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_ObjectNamedRightAfterTheSeverity_IsKept()
    {
        Assert.Equal("ERROR:  \"patient\" is not a view", FailureText.Redact("ERROR:  \"patient\" is not a view"));
    }

    [Fact]
    public void Redact_DetailOnTheFirstLineWithAContinuation_DropsBoth()
    {
        var text = FailureText.Redact("DETAIL:  Failing row contains (1,\nMRN-0042-SECRET).\npg_restore: error: could not execute query");

        Assert.Equal("pg_restore: error: could not execute query", text);
    }

    [Fact]
    public void Redact_LongOutput_IsBoundedAndKeepsTheLastError()
    {
        var lines = Enumerable.Range(1, 500).Select(i => $"pg_restore: warning: errors ignored on restore: {i}").Append("pg_restore: error: the last one");

        var text = FailureText.Redact(string.Join('\n', lines), 500);

        Assert.True(text.Length <= 500, $"{text.Length} chars");
        Assert.EndsWith("pg_restore: error: the last one", text, StringComparison.Ordinal);
        Assert.StartsWith(FailureText.Elided, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_AppliedTwice_ChangesNothingMore()
    {
        const string stderr = """
            pg_restore: error: COPY failed for table "patient": ERROR:  invalid input syntax for type integer: "MRN-0042-SECRET"
            CONTEXT:  COPY patient, line 1, column mrn: "MRN-0042-SECRET"
            pg_restore: error: could not execute query: ERROR:  mrn MRN-0042-SECRET rejected
            CONTEXT:  PL/pgSQL function phi.mrn_ok(text) line 4 at RAISE
            """;

        var once = FailureText.Redact(stderr);

        Assert.Equal(once, FailureText.Redact(once));
        Assert.DoesNotContain(Marker, once, StringComparison.Ordinal);
    }
}
