namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// What a test emulator saw, in order: appended from request threads, read by the test as a snapshot. One lock,
/// written once, instead of a list and a locked copy in every emulator.
/// </summary>
internal sealed class Recorded<T>
{
    private readonly List<T> _items = [];

    public void Add(T item)
    {
        lock (_items)
        {
            _items.Add(item);
        }
    }

    /// <summary>A copy of everything recorded so far.</summary>
    public IReadOnlyList<T> Snapshot()
    {
        lock (_items)
        {
            return [.. _items];
        }
    }
}
