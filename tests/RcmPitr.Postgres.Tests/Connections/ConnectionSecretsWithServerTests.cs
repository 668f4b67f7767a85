using System.Text.Json;
using Npgsql;
using RcmPitr.Postgres.Connections;

namespace RcmPitr.Postgres.Tests.Connections;

public sealed class ConnectionSecretsWithServerTests
{
    [Fact]
    public void WithServer_ConnectionString_ReplacesHostAndPortOnly()
    {
        var rewritten = new NpgsqlConnectionStringBuilder(ConnectionSecrets.WithServer(
            "Host=pg-us-east-1.example;Port=5432;Database=tenant_acme;Username=app;Password='s3cr;et';SSL Mode=VerifyFull", "pg-us-east-1-geo.example", 6432));

        Assert.Equal(("pg-us-east-1-geo.example", 6432), (rewritten.Host, rewritten.Port));
        Assert.Equal(("tenant_acme", "app", "s3cr;et", SslMode.VerifyFull), (rewritten.Database, rewritten.Username, rewritten.Password, rewritten.SslMode));
    }

    [Fact]
    public void WithServer_Json_KeepsTheSpellingAndTheTypeOfThePort()
    {
        var asText = JsonDocument.Parse(ConnectionSecrets.WithServer("""{"Host":"old","PORT":"5432","database":"tenant_acme","password":"p"}""", "new.example", 6432)).RootElement;
        var asNumber = JsonDocument.Parse(ConnectionSecrets.WithServer("""{"host":"old","port":5432,"dbname":"tenant_acme"}""", "new.example", 6432)).RootElement;

        Assert.Equal(("new.example", "6432", "tenant_acme", "p"), (asText.GetProperty("Host").GetString(), asText.GetProperty("PORT").GetString(), asText.GetProperty("database").GetString(), asText.GetProperty("password").GetString()));
        Assert.Equal(("new.example", 6432), (asNumber.GetProperty("host").GetString(), asNumber.GetProperty("port").GetInt32()));
    }

    [Fact]
    public void WithServer_NotASecretItUnderstands_SaysSoWithoutQuotingIt()
    {
        var e = Assert.Throws<FormatException>(() => ConnectionSecrets.WithServer("{not json password=hunter2", "h", 1));

        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }
}
