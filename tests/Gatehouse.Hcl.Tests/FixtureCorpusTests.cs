namespace Gatehouse.Hcl.Tests;

/// <summary>The configuration examples of the Vault Agent, Vault Proxy and OpenBao documentation, as fixture files.</summary>
public sealed class FixtureCorpusTests
{
    public static TheoryData<string> ValidFixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in Fixtures.ValidFiles())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void Corpus_HasAtLeastTwelveFixturesIncludingJson()
    {
        var names = Fixtures.ValidFiles().Select(Path.GetFileName).ToList();
        Assert.True(names.Count >= 12, $"only {names.Count} fixtures");
        Assert.True(names.Count(n => n!.EndsWith(".json", StringComparison.Ordinal)) >= 3);
    }

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Corpus_EveryDocumentedExample_Parses(string name)
    {
        var tree = HclFile.Load(Fixtures.ValidPath(name));
        Assert.NotEmpty(tree.Items);
    }

    [Fact]
    public void Corpus_AgentExample_HasTheDocumentedShape()
    {
        var path = Fixtures.ValidPath("agent-example.hcl");
        var tree = HclFile.Load(path);
        Assert.Equal(
            ["pid_file", "vault", "auto_auth", "cache", "api_proxy", "listener", "listener", "template", "template"],
            tree.Items.Select(i => i.Name));

        var autoAuth = Assert.IsType<HclObject>(tree.Items[2].Value);
        var method = autoAuth.Items[0];
        Assert.Equal(["method", "aws"], method.Keys.Select(k => k.Name));
        Assert.False(method.Assigned);
        Assert.Equal(new SourcePosition(path, 12, 3), method.Position);
        Assert.Equal(new SourcePosition(path, 12, 10), method.Keys[1].Position);

        var config = Assert.IsType<HclObject>(Assert.IsType<HclObject>(method.Value).Items[1].Value);
        Assert.Equal("{type=\"iam\" role=\"foobar\"}", TreeDump.Dump(config));
        Assert.True(Assert.IsType<HclObject>(method.Value).Items[1].Assigned);

        var sinks = autoAuth.Items.Where(i => i.Name == "sink").ToList();
        Assert.Equal(2, sinks.Count);
        Assert.All(sinks, s => Assert.Equal("file", s.Keys[1].Name));

        Assert.Empty(Assert.IsType<HclObject>(tree.Items[3].Value).Items);
        Assert.Equal(["unix", "tcp"], tree.Items.Where(i => i.Name == "listener").Select(i => i.Keys[1].Name));
        Assert.Equal(
            "{address=\"127.0.0.1:8100\" tls_disable=true}",
            TreeDump.Dump(tree.Items[6].Value));
    }

    [Fact]
    public void Corpus_ApproleSink_ReadsOctalModeAndBools()
    {
        var tree = HclFile.Load(Fixtures.ValidPath("approle-sink.hcl"));
        var sink = Assert.IsType<HclObject>(tree.Items[1].Value).Items[1];
        var config = Assert.IsType<HclObject>(Assert.IsType<HclObject>(sink.Value).Items[0].Value);
        var mode = Assert.IsType<HclNumber>(config.Items.Single(i => i.Name == "mode").Value);
        Assert.Equal(("0640", 416L), (mode.Text, mode.Integer));
        var method = Assert.IsType<HclObject>(Assert.IsType<HclObject>(tree.Items[1].Value).Items[0].Value);
        var methodConfig = Assert.IsType<HclObject>(method.Items[1].Value);
        Assert.False(Assert.IsType<HclBool>(methodConfig.Items[2].Value).Value);
    }

    [Fact]
    public void Corpus_KubernetesTemplate_HeredocKeepsContentsVerbatim()
    {
        var tree = HclFile.Load(Fixtures.ValidPath("kubernetes-auth.hcl"));
        var template = Assert.IsType<HclObject>(tree.Items.Single(i => i.Name == "template").Value);
        var contents = Assert.IsType<HclString>(template.Items.Single(i => i.Name == "contents").Value).Value;
        Assert.StartsWith("  <html>\n  <body>\n", contents, StringComparison.Ordinal);
        Assert.Contains("{{- with secret \"secret/data/myapp/config\" }}", contents, StringComparison.Ordinal);

        // The closing "  EOT" is indented, and HCL1 (so Vault) keeps that indentation at the end of a <<EOT value.
        Assert.EndsWith("  </html>\n  ", contents, StringComparison.Ordinal);
    }

    [Fact]
    public void Corpus_TemplateConfig_ReadsListsFloatsAndEscapedQuotes()
    {
        var tree = HclFile.Load(Fixtures.ValidPath("template-config.hcl"));
        var templates = tree.Items.Where(i => i.Name == "template").Select(i => Assert.IsType<HclObject>(i.Value)).ToList();
        Assert.Equal(
            "[\"/bin/sh\",\"-c\",\"systemctl reload nginx\"]",
            TreeDump.Dump(templates[0].Items.Single(i => i.Name == "command").Value));
        Assert.Equal(
            "{{ with secret \"secret/my-secret\" }}{{ .Data.data.foo }}{{ end }}",
            Assert.IsType<HclString>(templates[1].Items[0].Value).Value);
        var threshold = Assert.IsType<HclNumber>(Assert.IsType<HclObject>(tree.Items[2].Value).Items[3].Value);
        Assert.Equal((0.75, (long?)null), (threshold.Value, threshold.Integer));
    }

    [Fact]
    public void Corpus_ProxyListenersJson_KeepsListsOfObjectsAndPositions()
    {
        var path = Fixtures.ValidPath("proxy-listeners.json");
        var tree = HclFile.Load(path);
        var listeners = Assert.IsType<HclList>(tree.Items.Single(i => i.Name == "listener").Value);
        Assert.Equal(2, listeners.Items.Count);
        Assert.Equal(new SourcePosition(path, 29, 5), listeners.Items[0].Position);
        var second = Assert.IsType<HclObject>(listeners.Items[1]);
        Assert.Equal("{\"type\"=\"unix\" \"address\"=\"/var/run/proxy.sock\" \"tls_disable\"=true}", TreeDump.Dump(second));
        var telemetry = Assert.IsType<HclObject>(tree.Items.Single(i => i.Name == "telemetry").Value);
        Assert.IsType<HclNull>(telemetry.Items[2].Value);
        Assert.Equal(new SourcePosition(path, 44, 30), telemetry.Items[2].Value.Position);
    }

    public static TheoryData<string, string> EquivalentPairs => new()
    {
        {
            "vault {\n  address = \"https://127.0.0.1:8200\"\n}\nauto_auth {\n  method \"approle\" {\n    mount_path = \"auth/approle\"\n    config = {\n      role_id_file_path = \"/r\"\n    }\n  }\n}\n",
            "{\"vault\": {\"address\": \"https://127.0.0.1:8200\"}, \"auto_auth\": {\"method\": {\"approle\": {\"mount_path\": \"auth/approle\", \"config\": {\"role_id_file_path\": \"/r\"}}}}}"
        },
        {
            "listener \"tcp\" {\n  address = \"127.0.0.1:8100\"\n  tls_disable = true\n}\ncache {}\napi_proxy { use_auto_auth_token = \"force\" }\n",
            "{\"listener\": {\"tcp\": {\"address\": \"127.0.0.1:8100\", \"tls_disable\": true}}, \"cache\": {}, \"api_proxy\": {\"use_auto_auth_token\": \"force\"}}"
        },
        {
            "template {\n  destination = \"/d\"\n  command = [\"a\", \"b\"]\n  contents = <<EOF\nline\nEOF\n}\nsink \"file\" { config = { mode = 0640 } }\ntemplate_config { lease_renewal_threshold = 0.5 }\n",
            "{\"template\": {\"destination\": \"/d\", \"command\": [\"a\", \"b\"], \"contents\": \"line\\n\"}, \"sink\": {\"file\": {\"config\": {\"mode\": 416}}}, \"template_config\": {\"lease_renewal_threshold\": 0.5}}"
        },
    };

    [Theory]
    [MemberData(nameof(EquivalentPairs))]
    public void Corpus_HclAndEquivalentJson_ProduceEquivalentTrees(string hcl, string json)
    {
        Assert.Equal(
            TreeDump.Canonical(HclParser.Parse(hcl, "a.hcl")),
            TreeDump.Canonical(HclJsonParser.Parse(json, "a.json")));
    }

    [Fact]
    public void Corpus_AgentExampleHclAndJson_AgreeOnTheSharedParts()
    {
        var hcl = HclFile.Load(Fixtures.ValidPath("agent-example.hcl"));
        var json = HclFile.Load(Fixtures.ValidPath("agent-example.json"));
        string Section(HclObject tree, string name) => TreeDump.Canonical(tree.Items.First(i => i.Name == name).Value);
        Assert.Equal(Section(hcl, "vault"), Section(json, "vault"));
        Assert.Equal(Section(hcl, "api_proxy"), Section(json, "api_proxy"));
        Assert.Equal(Section(hcl, "pid_file"), Section(json, "pid_file"));
    }
}
