#!/usr/bin/python3
"""corrupt_proxy.py LISTEN_PORT PG_PORT: a TCP proxy in front of PostgreSQL that, once, rewrites the
message type of the first pgoutput Insert inside a replication CopyData ('d' -> 'w' -> 'I') to 'Z'.
Everything else is forwarded untouched. Used to prove corrupt wire bytes give an error and a reconnect."""
import struct
import sys
import threading

from tcp_proxy import close_both, serve

listen_port, pg_port = int(sys.argv[1]), int(sys.argv[2])
corrupted = threading.Event()


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


serve(listen_port, pg_port, to_client=pump_server)
