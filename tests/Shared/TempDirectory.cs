namespace Gatehouse.Testing;

/// <summary>
/// A fresh directory under the system temp path, deleted with everything in it on <see cref="Dispose"/>. Linked into
/// every test project (they share no support project). It converts to its path, so <c>Path.Combine(dir, "x")</c> reads
/// as it did with a string.
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    /// <param name="prefix">The start of the directory's name, to tell which test left it behind.</param>
    public TempDirectory(string prefix = "gatehouse-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    public static implicit operator string(TempDirectory directory) => directory.Path;

    /// <summary>The full path of <paramref name="name"/> inside the directory.</summary>
    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public override string ToString() => Path;

    /// <summary>Deletes the directory and its contents; one that is already gone is fine.</summary>
    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
