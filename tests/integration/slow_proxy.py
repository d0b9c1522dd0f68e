#!/usr/bin/python3
"""slow_proxy.py LISTEN_PORT TARGET_PORT BYTES_PER_S: a TCP proxy on loopback whose replies (target ->
client) are paced to BYTES_PER_S in all, over all its connections together (a slow network). Requests go
through as they come. A test puts it in front of PostgreSQL to give a snapshot a duration that does not
depend on how fast the machine is: 200,000 rows of ~100 bytes at 2 MB/s take ~10 s however fast the
readers are, so a kill "in the middle" is in the middle. SIGUSR1 ends the pacing (the part of a test after
its kill need not wait), SIGUSR2 starts it again. Prints "ready" once it listens."""
import signal
import sys
import threading
import time

from tcp_proxy import pump_plain, serve

listen_port, target_port, paced_rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rate = paced_rate
lock = threading.Lock()
next_free = [time.monotonic()]  # when the shared pace allows the next byte


def unpace(*_):
    global rate
    rate = float("inf")


def repace(*_):
    global rate
    with lock:
        next_free[0] = time.monotonic()
    rate = paced_rate


signal.signal(signal.SIGUSR1, unpace)
signal.signal(signal.SIGUSR2, repace)


def pace(n):
    """Reserves n bytes of the shared budget and sleeps until they are due."""
    if rate == float("inf"):
        return
    with lock:
        now = time.monotonic()
        start = max(now, next_free[0])
        next_free[0] = start + n / rate
    if start > now:
        time.sleep(start - now)


serve(listen_port, target_port, to_client=lambda src, dst: pump_plain(src, dst, pace))
