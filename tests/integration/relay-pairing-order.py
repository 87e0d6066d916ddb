#!/usr/bin/python3
# Part of relay_splices_and_checks_auth (called by srv-through-relay.sh): the relay pairs each
# side's sockets in the order it accepted them, even when a later socket finishes authenticating
# first. srv's multi mode relies on it: the i-th socket of the client meets the i-th socket of
# the daemon, and each pair carries its own keys. (A socket that has sent nothing at all does not
# hold the others back: srvd-relay-clients.py checks that a silent socket is simply dropped.)
# usage: relay-pairing-order.py PORT_A PORT_B AUTH_A_FILE AUTH_B_FILE
import socket, sys, time

port_a, port_b = int(sys.argv[1]), int(sys.argv[2])
auth_a, auth_b = (open(f).read().strip().encode() + b"\n" for f in sys.argv[3:5])

def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

a1 = connect(port_a)
a1.sendall(auth_a[:20])            # the first socket has started its auth line ...
time.sleep(0.1)
a2 = connect(port_a)
a2.sendall(auth_a + b"from-a2\n")  # ... the second one authenticates first ...
time.sleep(0.3)
b1 = connect(port_b); b1.sendall(auth_b)
time.sleep(0.1)
b2 = connect(port_b); b2.sendall(auth_b)
time.sleep(0.3)
a1.sendall(auth_a[20:] + b"from-a1\n")  # ... and the first one only now

def line(s):
    data = b""
    while not data.endswith(b"\n"):
        d = s.recv(64)
        if not d:
            break
        data += d
    return data.strip().decode(errors="replace")

got = (line(b1), line(b2))
ok = got == ("from-a1", "from-a2")
print(("ok   " if ok else "FAIL ") + "relay pairs sockets in accept order, not authentication order (B got %s, %s)" % got)
sys.exit(0 if ok else 1)
