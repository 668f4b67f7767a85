using RcmPitr.Postgres.Connections;

namespace RcmPitr.Postgres.Tests.Connections;

public sealed class LocalSecretStoreTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "rcm-secrets-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task SetThenGet_RoundTripsInAnOwnerOnlyFile()
    {
        var store = new LocalSecretStore(Path.Combine(_folder, "secrets.json"));

        await store.SetSecretAsync("pg-admin", "p:a\\ss'w\"d", CancellationToken.None);
        await store.SetSecretAsync("other", "x", CancellationToken.None);

        Assert.Equal("p:a\\ss'w\"d", await store.GetSecretAsync("pg-admin", CancellationToken.None));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
    }

    [Fact]
    public async Task Set_TemporaryFilePlantedUnderThePredictableName_StillLeavesAnOwnerOnlyStore()
    {
        Directory.CreateDirectory(_folder);
        var store = new LocalSecretStore(Path.Combine(_folder, "secrets.json"));
        var planted = store.Path + ".tmp-" + Environment.ProcessId;
        await File.WriteAllTextAsync(planted, "{}", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(planted, (UnixFileMode)0b110_110_110);

        await store.SetSecretAsync("pg-admin", "value", CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
        Assert.DoesNotContain(Directory.EnumerateFiles(_folder), f => f != store.Path && f != planted);
    }

    [Fact]
    public async Task Get_Missing_NamesTheReferenceOnly()
    {
        var store = new LocalSecretStore(Path.Combine(_folder, "secrets.json"));
        await store.SetSecretAsync("present", "value-that-must-not-leak", CancellationToken.None);

        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetSecretAsync("absent", CancellationToken.None));

        Assert.Contains("absent", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("value-that-must-not-leak", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentVariableFor_MapsTheReference() =>
        Assert.Equal("RCMPITR_SECRET_PG_US_EAST_1_ADMIN", LocalSecretStore.EnvironmentVariableFor("pg-us-east-1-admin"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
