using System.Text;
using Xunit.Abstractions;

namespace Gatehouse.Hcl.Tests.Differential;

/// <summary>
/// Differential tests against HashiCorp's own HCL1 parser (Go, hashicorp/hcl 1.0.0 from Debian), the parser Vault
/// reads these files with: every fixture, and a seeded set of mutants and generated documents, go through both; they
/// must accept and reject the same inputs, build the same trees (keys, values, positions) and put errors on the same
/// line, unless a named entry of <see cref="KnownDifferences"/> explains the difference. See docs/testing.md.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    internal const int Mutants = 4000;
    internal const int GeneratedHcl = 1500;
    internal const int GeneratedJson = 500;

    [Fact]
    public void Corpus_EveryFixture_GoAndGatehouseAgree()
    {
        var inputs = Fixtures.ValidFiles().Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        var report = DifferentialRun.Compare(inputs);
        AssertNoUnexplained(report);
    }

    [Fact]
    public void Fuzz_SeededMutantsAndGeneratedDocuments_GoAndGatehouseAgree()
    {
        var corpus = Fixtures.ValidFiles().Select(f => (Path.GetFileName(f), File.ReadAllText(f))).ToList();
        var inputs = new List<(string Name, byte[] Bytes)>(Mutants + GeneratedHcl + GeneratedJson);
        for (var seed = 0; seed < Mutants; seed++)
        {
            inputs.Add(DifferentialInputs.Mutant(seed, corpus));
        }

        for (var seed = 0; seed < GeneratedHcl; seed++)
        {
            inputs.Add(DifferentialInputs.GeneratedHcl(seed));
        }

        for (var seed = 0; seed < GeneratedJson; seed++)
        {
            inputs.Add(DifferentialInputs.GeneratedJson(seed));
        }

        var report = DifferentialRun.Compare(inputs);
        AssertNoUnexplained(report);

        // A fuzz set that mostly fails to parse would compare few trees: a third at least must be accepted by both.
        Assert.True(report.BothAccepted >= inputs.Count / 3, report.Summary());
    }

    private void AssertNoUnexplained(DifferentialReport report)
    {
        output.WriteLine(report.Summary());
        if (report.Unexplained.Count == 0)
        {
            return;
        }

        // GATEHOUSE_HCL_DIFF_DUMP=/tmp/diff.txt writes every unexplained difference, not only the first few.
        var dump = Environment.GetEnvironmentVariable("GATEHOUSE_HCL_DIFF_DUMP");
        if (!string.IsNullOrEmpty(dump))
        {
            File.AppendAllLines(dump, report.Unexplained.Select(d => new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = d.Name,
                ["kind"] = d.Kind.ToString(),
                ["mode"] = d.Mode,
                ["input"] = d.Text,
                ["go"] = d.Go.DeepClone(),
                ["ours"] = d.OurError?.Message,
                ["ourTree"] = d.OurTree?.DeepClone(),
            }.ToJsonString()));
        }

        var sb = new StringBuilder(report.Summary()).Append('\n');
        foreach (var group in report.Unexplained.GroupBy(d => d.Kind))
        {
            sb.Append($"\n{group.Count()} × {group.Key}; the first few:\n");
            foreach (var difference in group.Take(8))
            {
                sb.Append(difference.Describe()).Append("\n\n");
            }
        }

        Assert.Fail(sb.ToString());
    }
}
