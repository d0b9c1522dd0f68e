#!/usr/bin/python3
"""corrupt_proxy.py LISTEN_PORT PG_PORT: a TCP proxy in front of PostgreSQL that, once, rewrites the
message type of the first pgoutput Insert inside a replication CopyData ('d' -> 'w' -> 'I') to 'Z'.
Everything else is forwarded untouched. Used to prove corrupt wire bytes give an error and a reconnect."""
import socket
import struct
import sys
import threading

listen_port, pg_port = int(sys.argv[1]), int(sys.argv[2])
corrupted = threading.Event()


def close_both(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_plain(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    finally:
        close_both(src, dst)


def pump_server(src, dst):
    """Server -> client: parse typed messages (the startup reply is typed too) and corrupt once."""
    buf = b""
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            buf += b
            out = b""
            while len(buf) >= 5:
                typ = buf[0:1]
                (ln,) = struct.unpack("!I", buf[1:5])
                if len(buf) < 1 + ln:
                    break
                msg = bytearray(buf[: 1 + ln])
                buf = buf[1 + ln:]
                # CopyData 'd', XLogData 'w' (1+8+8+8 header), then the pgoutput type byte
                if (not corrupted.is_set() and typ == b"d" and len(msg) > 30 and msg[5:6] == b"w"
                        and msg[30:31] == b"I"):
                    msg[30] = ord("Z")
                    corrupted.set()
                out += bytes(msg)
            if out:
                dst.sendall(out)
    except OSError:
        pass
    finally:
        close_both(src, dst)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(16)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", pg_port))
    threading.Thread(target=pump_plain, args=(c, u), daemon=True).start()
    threading.Thread(target=pump_server, args=(u, c), daemon=True).start()
