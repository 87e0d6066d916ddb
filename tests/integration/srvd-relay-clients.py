#!/usr/bin/python3
# Clients for srvd-relay.sh: drive one relay session (srvd-test-session) from both sides.
# usage: srvd-relay-clients.py HOST PORT_A PORT_B AUTH_A AUTH_B AUTH_EVIL
import hashlib, os, socket, sys, threading, time

host, port_a, port_b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
auth_a, auth_b, auth_evil = (open(f).read().strip().encode() + b"\n" for f in sys.argv[4:7])
failures = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)

def connect(port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def closed_by_relay(s, within):
    s.settimeout(within)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False

# 1. refusals: wrong signer, garbage, an over-long line; the session keeps serving
evil = connect(port_a); evil.sendall(auth_evil)
check(closed_by_relay(evil, 3), "socket signed by the wrong atSign is closed")
garbage = connect(port_b); garbage.sendall(b"hello relay\n")
check(closed_by_relay(garbage, 3), "garbage auth line is closed")
huge = connect(port_a); huge.sendall(b"{" + b"x" * 5000)
check(closed_by_relay(huge, 3), "auth line over 4096 bytes is closed")
silent = connect(port_b)
t0 = time.time()

# 2. a good pair; bytes right after the auth line are the first data
a = connect(port_a); a.sendall(auth_a + b"FIRST-A")
b = connect(port_b); b.sendall(auth_b)
b.settimeout(10)
got = b""
while len(got) < 7:
    d = b.recv(7 - len(got))
    if not d:  # closed by the relay: stop, the check below reports it
        break
    got += d
check(got == b"FIRST-A", "bytes after the auth line arrive as the first data")

# 3. a second pair in the same session (FIFO), while the first is open
a2 = connect(port_a); a2.sendall(auth_a)
b2 = connect(port_b); b2.sendall(auth_b + b"PING")
a2.settimeout(10)
check(a2.recv(4) == b"PING", "second connection of the session is joined")
a2.sendall(b"PONG"); b2.settimeout(10)
check(b2.recv(4) == b"PONG", "second connection works both ways")
# 4. large transfer both ways at once, checksummed; FIN passed on as half-close
SIZE_AB, SIZE_BA = 64 << 20, 24 << 20
def sender(sock, size, digest):
    h = hashlib.sha256(); left = size; chunk = os.urandom(1 << 16)
    while left:
        n = min(left, len(chunk)); blk = chunk[:n] if left % 3 else os.urandom(n)
        sock.sendall(blk); h.update(blk); left -= n
    sock.shutdown(socket.SHUT_WR); digest.append(h.hexdigest())
def receiver(sock, out):
    h = hashlib.sha256(); n = 0; sock.settimeout(60)
    while True:
        d = sock.recv(1 << 16)
        if not d:
            break
        h.update(d); n += len(d)
    out.append((n, h.hexdigest()))
sent_ab, sent_ba, recv_b, recv_a = [], [], [], []
threads = [threading.Thread(target=sender, args=(a, SIZE_AB, sent_ab)),
           threading.Thread(target=sender, args=(b, SIZE_BA, sent_ba)),
           threading.Thread(target=receiver, args=(b, recv_b)),
           threading.Thread(target=receiver, args=(a, recv_a))]
t1 = time.time()
for t in threads: t.start()
for t in threads: t.join(120)
dt = time.time() - t1
check(recv_b and recv_b[0] == (SIZE_AB, sent_ab[0]), "64 MiB A->B arrive intact (sha256)")
check(recv_a and recv_a[0] == (SIZE_BA, sent_ba[0]), "24 MiB B->A arrive intact (sha256)")
print(f"     {(SIZE_AB + SIZE_BA) / dt / 1e6:.0f} MB/s through the relay (both directions)")

# 5. the silent socket is dropped after the 5 s auth deadline
check(closed_by_relay(silent, max(0.5, 7 - (time.time() - t0))), "socket that never authenticates is dropped")

for s in (a, b, a2, b2):
    s.close()
sys.exit(1 if failures else 0)
