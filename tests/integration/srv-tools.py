#!/usr/bin/python3
# Helpers for srv-through-relay.sh:
#   srv-tools.py echo PORTFILE                 echo server on 127.0.0.1 (port written to PORTFILE)
#   srv-tools.py tap LISTEN_PORTFILE TARGET_PORT CAPTURE   records every byte towards the relay
#   srv-tools.py client PORT MB [CONNS]        sends a marker + MB of data per connection, checks the echo
import hashlib, os, socket, sys, threading

MARKER = b"NOPORTS-PLAINTEXT-MARKER-4f1c"

def serve(portfile, handler):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0)); ls.listen(16)
    open(portfile + ".tmp", "w").write(str(ls.getsockname()[1])); os.rename(portfile + ".tmp", portfile)
    while True:
        c, _ = ls.accept()
        # prepare runs in the accept loop: the tap must keep the order of connections, since
        # the relay pairs sockets first-in-first-out
        args = handler.prepare(c) if hasattr(handler, "prepare") else (c,)
        threading.Thread(target=handler, args=args, daemon=True).start()

def echo(c):
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        c.sendall(d)
    c.close()

def tap(target, capture):
    lock = threading.Lock()
    def handler(c, u):
        def pump(src, dst):
            while True:
                d = src.recv(1 << 16)
                if not d:
                    break
                with lock:
                    with open(capture, "ab") as f:
                        f.write(d)
                dst.sendall(d)
            try: dst.shutdown(socket.SHUT_WR)
            except OSError: pass
        t = threading.Thread(target=pump, args=(u, c), daemon=True); t.start()
        pump(c, u); t.join()
    handler.prepare = lambda c: (c, socket.create_connection(("127.0.0.1", target)))
    return handler

def client(port, mb, conns):
    results = []
    def one(i):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        data = (MARKER * 64 + os.urandom(1 << 16)) * (mb * 16)
        want = hashlib.sha256(data).hexdigest()
        got = hashlib.sha256(); n = 0
        def rx():
            nonlocal n
            while n < len(data):
                d = s.recv(1 << 16)
                if not d:
                    break
                got.update(d); n += len(d)
        t = threading.Thread(target=rx); t.start()
        s.sendall(data); t.join(60); s.close()
        results.append(n == len(data) and got.hexdigest() == want)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in ts: t.start()
    for t in ts: t.join(90)
    sys.exit(0 if len(results) == conns and all(results) else 1)

if __name__ == "__main__":
    if sys.argv[1] == "echo":
        serve(sys.argv[2], echo)
    elif sys.argv[1] == "tap":
        serve(sys.argv[2], tap(int(sys.argv[3]), sys.argv[4]))
    elif sys.argv[1] == "client":
        client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
