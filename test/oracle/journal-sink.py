#!/usr/bin/python3
# A stand-in for journald inside the oracle's namespace: binds the journal's native socket
# (<dir>/socket) and its stdout stream socket (<dir>/stdout) and appends each entry as one line
# "<PRIORITY>IDENTIFIER[PID]: MESSAGE" to a file. The user manager then logs with
# --log-target=journal (its console target needs /dev/console to be a tty, and its kmsg target is
# rate limited to 200 lines per 5 s); services' stdout/stderr (StandardOutput=journal, the
# default) arrive on the stream socket, one line each.
#   journal-sink.py SOCKET LOGFILE
import array
import os
import socket
import struct
import sys
import threading

sock_path, log_path = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(sock_path), exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
out = open(log_path, "ab", buffering=0)
out_lock = threading.Lock()


def write(line):
    with out_lock:
        out.write(line + b"\n")


def stream_client(conn):
    # header: identifier, unit id, priority, level prefix, forward to syslog/kmsg/console
    f = conn.makefile("rb")
    header = [f.readline().rstrip(b"\n") for _ in range(7)]
    ident = header[0] or b"?"
    prio = header[2] or b"6"
    for raw in f:
        write(b"<" + prio + b">" + ident + b"[]: " + raw.rstrip(b"\n"))
    conn.close()


def stream_server(srv):
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=stream_client, args=(conn,), daemon=True).start()


# bound before the native socket, whose appearance tells the caller both are ready
stdout_srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
stdout_srv.bind(os.path.join(os.path.dirname(sock_path), "stdout"))
stdout_srv.listen(64)
threading.Thread(target=stream_server, args=(stdout_srv,), daemon=True).start()
s.bind(sock_path)


def fields(data):
    res = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            break
        line = data[i:nl]
        eq = line.find(b"=")
        if eq >= 0:
            res[line[:eq]] = line[eq + 1:]
            i = nl + 1
        else:
            (n,) = struct.unpack_from("<Q", data, nl + 1)
            res[line] = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
    return res


while True:
    fds = array.array("i")
    data, anc, _flags, _addr = s.recvmsg(256 * 1024, socket.CMSG_LEN(16 * fds.itemsize))
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
    for fd in fds:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while True:
                c = os.read(fd, 65536)
                if not c:
                    break
                chunks.append(c)
            data = b"".join(chunks)
        finally:
            os.close(fd)
    f = fields(data)
    ident = f.get(b"SYSLOG_IDENTIFIER", b"?")
    pid = f.get(b"SYSLOG_PID", f.get(b"_PID", b""))
    msg = f.get(b"MESSAGE", b"").replace(b"\n", b" ")
    write(b"<" + f.get(b"PRIORITY", b"6") + b">" + ident + b"[" + pid + b"]: " + msg)
