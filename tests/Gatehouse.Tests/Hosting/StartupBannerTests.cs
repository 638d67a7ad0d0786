using Gatehouse.Configuration;
using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

public sealed class StartupBannerTests
{
    [Fact]
    public void Banner_ListsEveryListenerVersionAndLevel_LikeVault()
    {
        string banner = StartupBanner.Render("Proxy", ["http://127.0.0.1:8100", "unix:///run/gatehouse.sock"], "info", "0.1.0");

        Assert.Equal(
            "==> Gatehouse Proxy configuration:\n"
            + "\n"
            + "           Api Address 1: http://127.0.0.1:8100\n"
            + "           Api Address 2: unix:///run/gatehouse.sock\n"
            + "               Log Level: info\n"
            + "                 Version: Gatehouse v0.1.0\n"
            + "\n"
            + "==> Gatehouse Proxy started! Log data will stream in below:\n"
            + "\n",
            banner);
    }
}
