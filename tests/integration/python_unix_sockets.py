"""Real-program check of unix sockets: Python's socket, asyncio (epoll +
its socketpair self-pipe) and fd passing, run natively or in the sandbox.
Prints "unix sockets ok" and exits 0 on success."""
import array
import asyncio
import os
import socket
import tempfile
import threading

# socketpair: both directions.
a, b = socket.socketpair()
a.sendall(b"ping")
assert b.recv(16) == b"ping"
b.sendall(b"pong")
assert a.recv(16) == b"pong"

# A pathname server in a thread, a client here.
d = tempfile.mkdtemp()
path = os.path.join(d, "srv.sock")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen()


def serve():
    conn, _ = srv.accept()
    with conn:
        data = b""
        while not data.endswith(b"\n"):
            data += conn.recv(1024)
        conn.sendall(data.upper())


t = threading.Thread(target=serve)
t.start()
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(path)
c.sendall(b"hello over a path\n")
reply = b""
while not reply.endswith(b"\n"):
    reply += c.recv(1024)
assert reply == b"HELLO OVER A PATH\n", reply
t.join()
c.close()
srv.close()

# SCM_RIGHTS: pass a pipe's write end, write through it.
r, w = os.pipe()
socket.send_fds(a, [b"fd"], [w])
os.close(w)
msg, fds, flags, _ = socket.recv_fds(b, 16, 4)
assert msg == b"fd" and len(fds) == 1, (msg, fds)
os.write(fds[0], b"through the passed fd")
os.close(fds[0])
assert os.read(r, 64) == b"through the passed fd"

# asyncio: a unix server and client on the event loop (epoll).
apath = os.path.join(d, "asyncio.sock")


async def main():
    async def handle(reader, writer):
        line = await reader.readline()
        writer.write(line[::-1])
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(handle, apath)
    reader, writer = await asyncio.open_unix_connection(apath)
    writer.write(b"abc\n")
    await writer.drain()
    got = await reader.read()
    writer.close()
    server.close()
    await server.wait_closed()
    return got


assert asyncio.run(main()) == b"\ncba"

# AF_INET is not available in the sandbox (no network stack).
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
except OSError as e:
    assert e.errno == 97, e  # EAFNOSUPPORT
print("unix sockets ok")
