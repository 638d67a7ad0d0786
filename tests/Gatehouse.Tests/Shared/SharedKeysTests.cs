using System.Collections.Immutable;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Shared;

namespace Gatehouse.Tests.Shared;

public sealed class SharedKeysTests
{
    private static readonly byte[] Material = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Derivation_IsDeterministic_AndEachPurposeHasItsOwnKey()
    {
        var a = SharedKeys.FromMaterial(Material);
        var b = SharedKeys.FromMaterial(Material);

        Assert.Equal(a.KeyIdText, b.KeyIdText);
        Assert.Equal(16, a.KeyIdText.Length);
        Assert.Equal(a.Name("token", "s.abc"), b.Name("token", "s.abc"));
        Assert.NotEqual(a.SealKey.ToArray(), Material);
        Assert.False(a.SealKey[..8].SequenceEqual(a.KeyId.Span), "the key id must not be a prefix of the sealing key");
    }

    [Fact]
    public void Names_HideTheValue_AndDependOnPurposeAndKey()
    {
        var keys = SharedKeys.FromMaterial(Material);
        var other = SharedKeys.FromMaterial([.. Material.Select(b => (byte)(b + 1))]);
        var token = "hvs.CAESIJ-not-a-real-token";

        var name = keys.Name("token", token);

        Assert.Matches("^[0-9a-f]{32}$", name);
        Assert.DoesNotContain("hvs", name, StringComparison.Ordinal);
        Assert.NotEqual(name, keys.Name("accessor", token));
        Assert.NotEqual(name, other.Name("token", token));
        Assert.NotEqual(name, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)))[..32]);
    }

    [Fact]
    public void ShortMaterial_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => SharedKeys.FromMaterial(new byte[31]));
    }

    [Fact]
    public void Load_ReadsTheFileOrTheVariable_AndSaysWhatIsWrong()
    {
        using var dir = new Gatehouse.Testing.TempDirectory();
        var file = dir.Combine("key");
        File.WriteAllText(file, Convert.ToBase64String(Material) + "\n");
        var fromFile = SharedKeys.Load(new SharedConfig { Type = "redis", KeyFile = file }, _ => null);
        var fromVariable = SharedKeys.Load(new SharedConfig { Type = "redis", KeyEnvVar = "K" }, v => v == "K" ? Convert.ToBase64String(Material) : null);

        Assert.Equal(SharedKeys.FromMaterial(Material).KeyIdText, fromFile.KeyIdText);
        Assert.Equal(fromFile.KeyIdText, fromVariable.KeyIdText);
        var unset = Assert.Throws<SharedStoreException>(() => SharedKeys.Load(new SharedConfig { Type = "redis", KeyEnvVar = "K" }, _ => null));
        Assert.Equal("cache.shared: the environment variable K (key_env_var) is not set", unset.Message);
        var missing = Assert.Throws<SharedStoreException>(() => SharedKeys.Load(new SharedConfig { Type = "redis", KeyFile = dir.Combine("none") }, _ => null));
        Assert.StartsWith($"cache.shared: cannot read key_file {dir.Combine("none")}", missing.Message, StringComparison.Ordinal);
    }
}

public sealed class FleetIdTests
{
    private static readonly SharedKeys Keys = SharedKeys.FromMaterial(new byte[32]);

    private static AuthMethodConfig Method(string type = "approle", string? mount = null, string? ns = null, params (string Key, HclNode Value)[] config) => new()
    {
        Type = type,
        MountPath = mount,
        Namespace = ns,
        Config = new ConfigMap(config.ToImmutableDictionary(c => c.Key, c => c.Value), default),
    };

    private static HclString S(string value) => new(value, default);

    [Fact]
    public void SameMethod_SameFleet_WhateverTheKeyOrder()
    {
        var a = Method(config: [("role_id_file_path", S("/r")), ("secret_id_file_path", S("/s"))]);
        var b = Method(config: [("secret_id_file_path", S("/s")), ("role_id_file_path", S("/r"))]);

        Assert.Equal(FleetId.Of(a, Keys), FleetId.Of(b, Keys));
        Assert.Equal(FleetId.Of(Method(mount: "auth/approle/"), Keys), FleetId.Of(Method(), Keys));
    }

    [Fact]
    public void AnyDifference_IsAnotherFleet()
    {
        var baseline = FleetId.Of(Method(config: [("role", S("app")), ("secret", S("one"))]), Keys);

        string[] others =
        [
            FleetId.Of(Method(config: [("role", S("app")), ("secret", S("two"))]), Keys),
            FleetId.Of(Method(config: [("role", S("app"))]), Keys),
            FleetId.Of(Method(type: "kubernetes", config: [("role", S("app")), ("secret", S("one"))]), Keys),
            FleetId.Of(Method(mount: "auth/other", config: [("role", S("app")), ("secret", S("one"))]), Keys),
            FleetId.Of(Method(ns: "team-a", config: [("role", S("app")), ("secret", S("one"))]), Keys),
            FleetId.Of(Method(config: [("role", S("app")), ("secret", new HclBool(true, default))]), Keys),
            FleetId.Of(Method(config: [("role", S("app")), ("secret", S("one"))]), SharedKeys.FromMaterial(Enumerable.Repeat((byte)7, 32).ToArray())),
        ];

        Assert.DoesNotContain(baseline, others);
        Assert.Equal(others.Length, others.Distinct().Count());
        Assert.DoesNotContain("one", baseline, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesCannotRunIntoEachOther()
    {
        // Without length prefixes "a" + "b=c" and "a=b" + "c" could write the same text.
        var one = FleetId.Of(Method(config: [("a", S("b;c"))]), Keys);
        var two = FleetId.Of(Method(config: [("a", S("b")), ("c", S(""))]), Keys);

        Assert.NotEqual(one, two);
    }
}
