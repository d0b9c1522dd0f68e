"""tcp_proxy.py: the loopback TCP proxy the test proxies share (corrupt_proxy.py, slow_proxy.py): accepts on
LISTEN_PORT, connects each client to TARGET_PORT and runs two pumps, client -> target and target -> client,
in threads. Prints "ready" once it listens; a connection the target refuses is closed. Ends on SIGINT (the
test's cleanup sends it; a script's background job starts with SIGINT ignored, so it is set here)."""
import os
import signal
import socket
import threading


def close_both(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_plain(src, dst, before_send=None):
    """Forwards everything as it comes until either side ends; before_send(n) is called with the size of
    each piece before it goes (slow_proxy.py paces there)."""
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if before_send:
                before_send(len(b))
            dst.sendall(b)
    except OSError:
        pass
    finally:
        close_both(src, dst)


def serve(listen_port, target_port, to_target=pump_plain, to_client=pump_plain):
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    print("ready", flush=True)
    while True:
        c, _ = srv.accept()
        try:
            u = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            c.close()
            continue
        threading.Thread(target=to_target, args=(c, u), daemon=True).start()
        threading.Thread(target=to_client, args=(u, c), daemon=True).start()
