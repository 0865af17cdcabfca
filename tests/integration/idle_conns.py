"""tests/integration/idle_conns.py SRC PORT N SECONDS [tls] - opens N idle
connections to 127.0.0.1:PORT from the local address SRC (with a TLS
handshake when "tls" is given), sends nothing, holds them SECONDS and prints
"open N", the seconds that took, how many TLS handshakes the server cut
off, then how many it closed after one second and at the end.
Used by 40_web_slow.sh for the per-address connection cap."""
import socket, sys, time, ssl
src, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
tls = len(sys.argv) > 5 and sys.argv[5] == "tls"
conns = []
refused = 0
# One context for all (building one loads the system's CA list: slow).
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t0 = time.monotonic()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    if tls:
        try:
            s = ctx.wrap_socket(s, server_hostname="localhost")
        except Exception:
            refused += 1
    conns.append(s)
print("open", len(conns), flush=True)
print("opened_in %.2f" % (time.monotonic() - t0), flush=True)
print("handshakes_refused", refused, flush=True)
def closed(s):
    # (a socket whose TLS handshake the server refused is already closed here)
    try:
        s.setblocking(False)
        d = s.recv(1)
        return d == b""
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    except Exception:
        return True
time.sleep(1)
print("closed_after_1s", sum(closed(s) for s in conns), flush=True)
time.sleep(max(0, secs - 1))
print("closed_at_end", sum(closed(s) for s in conns), flush=True)
