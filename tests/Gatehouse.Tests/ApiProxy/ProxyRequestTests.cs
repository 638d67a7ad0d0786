using Gatehouse.ApiProxy;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.ApiProxy;

public sealed class ProxyRequestTests
{
    private static (ProxyRequest Request, byte[] Body) Chunked(int size)
    {
        var body = new byte[size];
        new Random(size).NextBytes(body);
        var context = new DefaultHttpContext();
        context.Request.Headers.TransferEncoding = "chunked";
        context.Request.Body = new MemoryStream(body);
        return (new ProxyRequest(context), body);
    }

    [Fact]
    public async Task AChunkedBodyWithinTheLimit_IsReadWhole_AndReplays()
    {
        var (request, body) = Chunked(300_000);

        Assert.True(await request.BufferBodyAsync(1024 * 1024, evenChunked: true, CancellationToken.None));
        request.RewindBody();

        Assert.Equal(body, request.Body!.Value.ToArray());
        Assert.True(request.IsReplayable);
    }

    [Fact]
    public async Task AChunkedBodyOverTheLimit_IsNotHeld_AndStillArrivesWhole()
    {
        var (request, body) = Chunked(3 * 1024 * 1024);

        Assert.False(await request.BufferBodyAsync(1024 * 1024, evenChunked: true, CancellationToken.None));
        Assert.False(await request.BufferBodyAsync(1024 * 1024, evenChunked: true, CancellationToken.None));

        Assert.Null(request.Body);
        Assert.False(request.IsReplayable);
        using var copy = new MemoryStream();
        await request.Context.Request.Body.CopyToAsync(copy);
        Assert.Equal(body, copy.ToArray());
    }

    [Fact]
    public async Task ADeclaredLengthOverTheLimit_IsNotRead()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = 2 * 1024 * 1024;
        context.Request.Body = new MemoryStream(new byte[2 * 1024 * 1024]);
        var request = new ProxyRequest(context);

        Assert.False(await request.BufferBodyAsync(1024 * 1024, evenChunked: true, CancellationToken.None));
        Assert.Equal(0, context.Request.Body.Position);
    }
}
