using System.Text.Json.Nodes;

namespace Gatehouse.DevVault.Tests;

/// <summary>The transcript replay harness holds DevVault to the recordings only if the harness itself is strict.</summary>
public sealed class ReplayHarnessTests
{
    [Fact]
    public void Readme_LineCounts_ReadTheFilesTable()
    {
        var counts = TranscriptReadme.LineCounts("""
| File | Lines | What it covers |
|---|---|---|
| `00-setup.jsonl` | 23 | `sys/mounts`, ... |
| `06b-leases-renewable.jsonl` | 34 | From the ... |
""");
        Assert.Equal(new Dictionary<string, int> { ["00-setup"] = 23, ["06b-leases-renewable"] = 34 }, counts);
    }

    [Theory]
    [InlineData(0, "00-setup.jsonl has no exchanges (the README says 23)")]
    [InlineData(22, "00-setup.jsonl has 22 exchanges, fewer than the 23 the README lists")]
    [InlineData(23, null)]
    public void Readme_CheckCount_FailsAnEmptyOrShortFile(int exchanges, string? problem)
    {
        Assert.Equal(problem, TranscriptReadme.CheckCount("00-setup", exchanges, new Dictionary<string, int> { ["00-setup"] = 23 }));
    }

    [Fact]
    public void Readme_CheckCount_FailsAFileTheTableDoesNotList()
    {
        Assert.NotNull(TranscriptReadme.CheckCount("99-new", 5, new Dictionary<string, int> { ["00-setup"] = 23 }));
    }

    [Fact]
    public void Readme_ListsEveryRecordedFile_WithAtLeastOneLine()
    {
        var counts = TranscriptReadme.LineCounts();
        foreach (var file in Directory.GetFiles(TranscriptReadme.Directory, "*.jsonl").Select(Path.GetFileNameWithoutExtension))
        {
            Assert.True(counts.TryGetValue(file!, out var lines) && lines > 0, $"{file}.jsonl has no row in Transcripts/README.md");
        }
    }

    [Fact]
    public void Comparer_TokenRepeatedInTheRecording_MustBeTheValueLearnedFirst()
    {
        var shapes = new ShapeComparer();
        var diffs = new List<string>();
        shapes.LearnAndCompare(Auth("s.AAAAAAAAAAAAAAAAAAAAAAAA"), Auth("s.XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        Assert.Empty(diffs);

        // Later the recording shows the same token again; DevVault answered with another well-formed token.
        shapes.LearnAndCompare(Lookup("s.AAAAAAAAAAAAAAAAAAAAAAAA"), Lookup("s.YYYYYYYYYYYYYYYYYYYYYYYY"), diffs);
        Assert.Single(diffs);
        Assert.Contains("s.XXXXXXXXXXXXXXXXXXXXXXXX", diffs[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Comparer_TwoRecordedAccessors_MayNotBecomeOneDevVaultValue()
    {
        var shapes = new ShapeComparer();
        var diffs = new List<string>();
        shapes.LearnAndCompare(Accessor("AAAAAAAAAAAAAAAAAAAAAAAA"), Accessor("XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        shapes.LearnAndCompare(Accessor("BBBBBBBBBBBBBBBBBBBBBBBB"), Accessor("XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        Assert.Single(diffs);
    }

    [Fact]
    public void Comparer_TokenSeenOnceAndThenConsistently_Passes()
    {
        var shapes = new ShapeComparer();
        var diffs = new List<string>();
        shapes.LearnAndCompare(Auth("s.AAAAAAAAAAAAAAAAAAAAAAAA"), Auth("s.XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        shapes.LearnAndCompare(Lookup("s.AAAAAAAAAAAAAAAAAAAAAAAA"), Lookup("s.XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        Assert.Empty(diffs);
        Assert.Equal("/v1/x?t=s.XXXXXXXXXXXXXXXXXXXXXXXX", shapes.Substitute("/v1/x?t=s.AAAAAAAAAAAAAAAAAAAAAAAA"));
    }

    [Fact]
    public void Comparer_ListOfLeaseKeys_IsMatchedAsASet()
    {
        var shapes = new ShapeComparer();
        var diffs = new List<string>();
        shapes.LearnAndCompare(Accessor("AAAAAAAAAAAAAAAAAAAAAAAA"), Accessor("XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        shapes.LearnAndCompare(Keys("AAAAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBBBB"), Keys("CCCCCCCCCCCCCCCCCCCCCCCC", "XXXXXXXXXXXXXXXXXXXXXXXX"), diffs);
        Assert.Empty(diffs);
        Assert.Equal("CCCCCCCCCCCCCCCCCCCCCCCC", shapes.Map["BBBBBBBBBBBBBBBBBBBBBBBB"]);

        shapes.LearnAndCompare(Keys("AAAAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBBBB"), Keys("XXXXXXXXXXXXXXXXXXXXXXXX", "DDDDDDDDDDDDDDDDDDDDDDDD"), diffs);
        Assert.Contains(diffs, d => d.Contains("lacks \"CCCCCCCCCCCCCCCCCCCCCCCC\"", StringComparison.Ordinal));
    }

    private static JsonObject Keys(params string[] keys) => new() { ["data"] = new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k)]) } };

    private static JsonObject Auth(string token) => new() { ["auth"] = new JsonObject { ["client_token"] = token } };

    private static JsonObject Lookup(string token) => new() { ["data"] = new JsonObject { ["id"] = token } };

    private static JsonObject Accessor(string accessor) => new() { ["data"] = new JsonObject { ["accessor"] = accessor } };
}
