"""Bad input on the gateway's standard gRPC port, from outside Swift: a content-type other than
application/grpc, a message compressed with an encoding the port does not support, a malformed grpc-timeout,
a certificate from another CA, a client capped at TLS 1.2, and a burst of streams opened and reset at once (HTTP/2 rapid reset). Each gets
the standard answer, and the port serves a well-formed call after each. Exits 1 on any failed check.
Run by scripts/grpc-check.sh against a running mesh."""
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile

import h2.config
import h2.connection
import h2.events
import h2.exceptions

certificates, port = sys.argv[1], int(sys.argv[2])
failures = []


def check(condition, what):
    print(("  ok    " if condition else "  FAIL  ") + what)
    if not condition:
        failures.append(what)


def tls(cert="nanhu.pem", key="nanhu-key.pem", directory=certificates):
    context = ssl.create_default_context(cafile=f"{certificates}/ca.pem")
    context.load_cert_chain(f"{directory}/{cert}", f"{directory}/{key}")
    context.set_alpn_protocols(["h2"])
    return context


def exchange(headers, body=b"", context=None):
    """One request on a new HTTP/2 connection: the response's headers and trailers as one dict, and its data."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection = (context or tls()).wrap_socket(raw, server_hostname="localhost")
    h2c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    h2c.initiate_connection()
    stream = h2c.get_next_available_stream_id()
    h2c.send_headers(stream, headers, end_stream=not body)
    if body:
        h2c.send_data(stream, body, end_stream=True)
    connection.sendall(h2c.data_to_send())
    answer, data, done = {}, b"", False
    while not done:
        chunk = connection.recv(65536)
        if not chunk:
            break
        for event in h2c.receive_data(chunk):
            if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                answer.update({k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                               for k, v in event.headers})
            elif isinstance(event, h2.events.DataReceived):
                data += event.data
                h2c.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                done = True
        connection.sendall(h2c.data_to_send())
    connection.close()
    return answer, data


def grpc_headers(method="/grpc.health.v1.Health/Check", **extra):
    headers = [(":method", "POST"), (":scheme", "https"), (":path", method), (":authority", "localhost"),
               ("content-type", "application/grpc"), ("te", "trailers")]
    return headers + [(k.replace("_", "-"), v) for k, v in extra.items()]


def frame(payload, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(payload)) + payload


def serves():
    answer, data = exchange(grpc_headers(), frame(b""))
    return answer.get("grpc-status") == "0" and len(data) >= 5


check(serves(), "a well-formed health check over raw HTTP/2 answers grpc-status 0")

print("content-type")
answer, _ = exchange([(k, "text/plain" if k == "content-type" else v) for k, v in grpc_headers()], frame(b""))
status = answer.get(":status")
check(status == "415" or answer.get("grpc-status") not in (None, "0"),
      f"content-type text/plain is refused (HTTP {status}, grpc-status {answer.get('grpc-status')})")
check(serves(), "the port serves after it")

print("compression")
answer, _ = exchange(grpc_headers(grpc_encoding="snappy"), frame(b"\x0a\x00", compressed=True))
check(answer.get("grpc-status") == "12",
      f"a message compressed with snappy is UNIMPLEMENTED (grpc-status {answer.get('grpc-status')}: {answer.get('grpc-message')})")
check(serves(), "the port serves after it")

print("grpc-timeout")
answer, data = exchange(grpc_headers(grpc_timeout="soon"), frame(b""))
check(answer.get("grpc-status") == "0", f"a malformed grpc-timeout is ignored: the call answers (grpc-status {answer.get('grpc-status')})")

print("another CA")
with tempfile.TemporaryDirectory() as directory:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", f"{directory}/stranger-key.pem", "-out", f"{directory}/stranger.pem", "-days", "1",
                    "-subj", "/CN=nanhu/OU=county"], check=True, capture_output=True)
    try:
        exchange(grpc_headers(), frame(b""), context=tls("stranger.pem", "stranger-key.pem", directory))
        refused = False
    except (ssl.SSLError, ConnectionError, OSError):
        refused = True
    check(refused, "a certificate from another CA is refused at the handshake")
check(serves(), "the port serves after it")

print("TLS 1.2")
old_tls = tls()
old_tls.maximum_version = ssl.TLSVersion.TLSv1_2
try:
    exchange(grpc_headers(), frame(b""), context=old_tls)
    refused = False
except (ssl.SSLError, ConnectionError, OSError):
    refused = True
check(refused, "a client that speaks at most TLS 1.2 is refused at the handshake (the port speaks TLS 1.3 only)")
check(serves(), "the port serves after it")

print("rapid reset")
raw = socket.create_connection(("127.0.0.1", port), timeout=10)
connection = tls().wrap_socket(raw, server_hostname="localhost")
h2c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
h2c.initiate_connection()
connection.sendall(h2c.data_to_send())
sent, goaway, ended = 0, None, None
try:
    for _ in range(2000):
        stream = h2c.get_next_available_stream_id()
        h2c.send_headers(stream, grpc_headers(), end_stream=False)
        h2c.reset_stream(stream)
        sent += 1
        if sent % 100 == 0:
            connection.sendall(h2c.data_to_send())
    connection.sendall(h2c.data_to_send())
    connection.settimeout(5)
    while ended is None:
        chunk = connection.recv(65536)
        if not chunk:
            ended = "closed"
            break
        for event in h2c.receive_data(chunk):
            if isinstance(event, h2.events.ConnectionTerminated):
                goaway = event.error_code
                ended = f"GOAWAY {goaway!r}"
except TimeoutError:
    ended = None  # the server kept the connection open and silent: the burst was not refused
except (ConnectionError, OSError, h2.exceptions.ProtocolError) as error:
    # The server closed the connection while the burst was still arriving: the GOAWAY before it may be lost to
    # the TCP reset that the rest of the burst provokes.
    ended = ended or f"reset ({type(error).__name__})"
connection.close()
check(ended is not None,
      f"2,000 streams opened and reset at once: the connection is ended ({ended} after {sent} streams sent)")
check(serves(), "the port serves a new connection after it")

print(f"grpc bad input: {len(failures)} failed")
sys.exit(1 if failures else 0)
