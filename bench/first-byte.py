#!/usr/bin/python3
# bench/first-byte.py CMD [ARGS...]: runs CMD and prints the milliseconds from its start to the
# first byte on its stdout (then drains it and waits). Exit 1 if nothing came or CMD failed.
import os, subprocess, sys, time

t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
first = p.stdout.read(1)
t1 = time.monotonic()
rest = p.stdout.read()
rc = p.wait()
if not first or rc != 0:
    sys.stderr.write("first-byte: %s gave %r, exit %d\n" % (os.path.basename(sys.argv[1]), first + rest, rc))
    sys.exit(1)
print("%.1f" % ((t1 - t0) * 1000))
