using System.Text;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>
/// A thread-safe text sink for captured log output that lets a test await a line instead of polling for it: log lines
/// may be written after the response that caused them has reached the client.
/// </summary>
internal sealed class CapturingWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly List<(string Fragment, int Occurrences, TaskCompletionSource Seen)> _waiters = [];

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => Append(value.ToString());

    public override void Write(string? value) => Append(value);

    public override void Write(char[] buffer, int index, int count) => Append(new string(buffer, index, count));

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }

    /// <summary>
    /// Completes when the captured text contains <paramref name="fragment"/> at least <paramref name="occurrences"/>
    /// times (at once if it already does).
    /// </summary>
    public Task WaitForAsync(string fragment, TimeSpan timeout, int occurrences = 1)
    {
        lock (_text)
        {
            if (Count(_text.ToString(), fragment) >= occurrences)
            {
                return Task.CompletedTask;
            }

            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((fragment, occurrences, seen));
            return seen.Task.WaitAsync(timeout);
        }
    }

    private static int Count(string text, string fragment)
    {
        var count = 0;
        for (var at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + fragment.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private void Append(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        lock (_text)
        {
            _text.Append(value);
            if (_waiters.Count == 0)
            {
                return;
            }

            var text = _text.ToString();
            _waiters.RemoveAll(w =>
            {
                if (Count(text, w.Fragment) < w.Occurrences)
                {
                    return false;
                }

                w.Seen.TrySetResult();
                return true;
            });
        }
    }
}
