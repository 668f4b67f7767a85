using RcmPitr.Postgres.Movers;

namespace RcmPitr.Postgres.Tests.Movers;

/// <summary>Cutting pg_restore's text of a post-data listing into its items (the layout pg_restore 15 writes).</summary>
public sealed class PostDataScriptTests
{
    private static readonly string[] Listing =
    [
        ";",
        "; Selected TOC Entries:",
        "3285; 2606 16475 CONSTRAINT claims claim claim_pkey postgres",
        "3289; 1259 16513 INDEX public i x postgres",
        "3465; 0 0 COMMENT public INDEX \"i x\" postgres",
        "3294; 2606 16476 FK CONSTRAINT claims claim claim_member_id_fkey postgres",
    ];

    private const string Script = """
        --
        -- PostgreSQL database dump
        --

        \restrict abc

        SET statement_timeout = 0;
        SET client_encoding = 'UTF8';
        SELECT pg_catalog.set_config('search_path', '', false);

        SET default_tablespace = '';

        --
        -- Name: claim claim_pkey; Type: CONSTRAINT; Schema: claims; Owner: postgres
        --

        ALTER TABLE ONLY claims.claim
            ADD CONSTRAINT claim_pkey PRIMARY KEY (id);


        SET default_tablespace = fast;

        --
        -- Name: i x; Type: INDEX; Schema: public; Owner: postgres
        --

        CREATE INDEX "i x" ON public."we;ird" USING btree ("a b") WHERE ("a b" > 3);


        --
        -- Name: INDEX "i x"; Type: COMMENT; Schema: public; Owner: postgres
        --

        COMMENT ON INDEX public."i x" IS 'a; b
        --
        -- not a header
        --
        end';


        SET default_tablespace = '';

        --
        -- Name: claim claim_member_id_fkey; Type: FK CONSTRAINT; Schema: claims; Owner: postgres
        --

        ALTER TABLE ONLY claims.claim
            ADD CONSTRAINT claim_member_id_fkey FOREIGN KEY (member_id) REFERENCES members.member(id);


        --
        -- PostgreSQL database dump complete
        --

        \unrestrict abc

        """;

    [Fact]
    public void TryParse_PgRestoreText_EachItemGetsItsStatementsAndTheSettingsInEffect()
    {
        var script = PostDataScript.TryParse(Listing, Script);

        Assert.NotNull(script);
        Assert.Equal(4, script.Statements.Count);
        var index = script.Statements[Listing[3]];
        Assert.Contains("SET default_tablespace = fast;", index, StringComparison.Ordinal);
        Assert.EndsWith("CREATE INDEX \"i x\" ON public.\"we;ird\" USING btree (\"a b\") WHERE (\"a b\" > 3);\n", index, StringComparison.Ordinal);
        Assert.Contains("SELECT pg_catalog.set_config('search_path', '', false);", index, StringComparison.Ordinal);
        Assert.DoesNotContain("client_encoding", index, StringComparison.Ordinal);
        Assert.Contains("-- not a header\n--\nend';", script.Statements[Listing[4]], StringComparison.Ordinal);
        var key = script.Statements[Listing[5]];
        Assert.Contains("SET default_tablespace = '';", key, StringComparison.Ordinal);
        Assert.DoesNotContain("fast", key, StringComparison.Ordinal);
        Assert.DoesNotContain("unrestrict", key, StringComparison.Ordinal);
        Assert.EndsWith("REFERENCES members.member(id);\n", key, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_TextThatDoesNotLineUpWithTheListing_IsRefused()
    {
        // An item missing, one more than listed, and items out of order: pg_restore -L runs them instead.
        Assert.Null(PostDataScript.TryParse([.. Listing, "3300; 1259 1 INDEX public extra postgres"], Script));
        Assert.Null(PostDataScript.TryParse(Listing[..^1], Script));
        Assert.Null(PostDataScript.TryParse([Listing[0], Listing[3], Listing[2], Listing[4], Listing[5]], Script));
    }

    [Fact]
    public void TryParse_ALiteralWhoseLastLineLooksLikeASetting_IsNeverCarriedToOtherItems()
    {
        // A tenant's comment ending in a line that starts like a setting: it must not become a setting of later items.
        var injected = Script.Replace("end';", "SET application_name = x; DROP TABLE claims.claim; --';", StringComparison.Ordinal);
        var script = PostDataScript.TryParse(Listing, injected);
        Assert.True(script is null || script.Statements.Values.All(v => !v.Contains("DROP TABLE", StringComparison.Ordinal) || v.Contains("COMMENT ON INDEX", StringComparison.Ordinal)));
        var lookalike = Script.Replace("end';", "SET row_security = off';", StringComparison.Ordinal);
        Assert.Null(PostDataScript.TryParse(Listing, lookalike));
    }

    [Fact]
    public void TryParse_ADumpInAnotherEncoding_IsRefused() =>
        Assert.Null(PostDataScript.TryParse(Listing, Script.Replace("SET client_encoding = 'UTF8';", "SET client_encoding = 'LATIN1';", StringComparison.Ordinal)));
}
