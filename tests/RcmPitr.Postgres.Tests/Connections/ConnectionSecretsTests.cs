using System.Text.Json;
using Npgsql;
using RcmPitr.Postgres.Connections;

namespace RcmPitr.Postgres.Tests.Connections;

public sealed class ConnectionSecretsTests
{
    [Fact]
    public void WithDatabase_ConnectionString_ReplacesOnlyTheDatabase()
    {
        var rewritten = new NpgsqlConnectionStringBuilder(ConnectionSecrets.WithDatabase(
            "Host=pg.example;Port=6432;Database=tenant_acme;Username=app;Password='s3cr;et'", "tenant_acme_restore_202604221430"));

        Assert.Equal("tenant_acme_restore_202604221430", rewritten.Database);
        Assert.Equal("pg.example", rewritten.Host);
        Assert.Equal(6432, rewritten.Port);
        Assert.Equal("app", rewritten.Username);
    }

    [Fact]
    public void WithDatabase_Json_ReplacesOnlyTheDatabase()
    {
        var rewritten = JsonDocument.Parse(ConnectionSecrets.WithDatabase(
            """{"host":"pg.example","dbname":"tenant_acme","user":"app","password":"p"}""", "tenant_acme_restore_202604221430")).RootElement;

        Assert.Equal("tenant_acme_restore_202604221430", rewritten.GetProperty("dbname").GetString());
        Assert.Equal("p", rewritten.GetProperty("password").GetString());
    }

    [Fact]
    public void WithDatabase_JsonWithoutDatabase_ThrowsWithoutEchoingTheSecret()
    {
        var error = Assert.Throws<FormatException>(() => ConnectionSecrets.WithDatabase("""{"password":"hunter2"}""", "x"));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithDatabase_Garbage_ThrowsWithoutEchoingTheSecret()
    {
        var error = Assert.Throws<FormatException>(() => ConnectionSecrets.WithDatabase("hunter2 is=not=valid;;==", "x"));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
