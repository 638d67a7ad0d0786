using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class ConfigArgumentsTests
{
    [Theory]
    [InlineData("-log-rotate-bytes=1048576", 1048576L)]
    [InlineData("-log-rotate-bytes=0x100000", 1048576L)]
    [InlineData("-log-rotate-bytes=0o4000000", 1048576L)]
    public void IntFlags_AreReadAsGosFlagPackageReadsThem(string flag, long expected)
    {
        var parsed = ConfigArguments.Parse(["-config=x.hcl", flag], out var error);

        Assert.True(parsed is not null, error);
        Assert.Equal(expected, parsed.Overrides.LogRotateBytes);
    }

    [Fact]
    public void LogRotateMaxFiles_InBase16_IsRead()
    {
        var parsed = ConfigArguments.Parse(["-config=x.hcl", "-log-rotate-max-files=0x10"], out var error);

        Assert.True(parsed is not null, error);
        Assert.Equal(16, parsed.Overrides.LogRotateMaxFiles);
    }
}
