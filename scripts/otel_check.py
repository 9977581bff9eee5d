#!/usr/bin/env python3
"""The OTLP/HTTP (JSON) receiver and the checks of scripts/otel-check.sh.

    otel_check.py serve SPANS PORTFILE   receive POST /v1/traces on 127.0.0.1 (a free port, written to PORTFILE),
                                         each request's spans appended to SPANS as JSON lines
    otel_check.py check SPANS TRACE PARENT
                                         what the mesh exported: one trace for the request sent with
                                         traceparent 00-TRACE-PARENT-01, and the ledger's batches
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(spans_path, port_path):
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path != "/v1/traces" or "json" not in self.headers.get("content-type", ""):
                self.send_response(415)
                self.end_headers()
                return
            request = json.loads(body)
            with open(spans_path, "a") as out:
                for resource in request.get("resourceSpans", []):
                    attributes = {a["key"]: a["value"].get("stringValue") for a in resource.get("resource", {}).get("attributes", [])}
                    for scope in resource.get("scopeSpans", []):
                        for span in scope.get("spans", []):
                            span["service"] = attributes.get("service.name")
                            out.write(json.dumps(span) + "\n")
            answer = b"{}"
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    with open(port_path, "w") as out:
        out.write(str(server.server_address[1]))
    server.serve_forever()


def hex_id(value, length):
    """An id as lowercase hex: OTLP/JSON writes hex, a plain protobuf JSON mapping base64."""
    if value and len(value) == length and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    return base64.b64decode(value).hex() if value else ""


def check(spans_path, trace, parent):
    spans = [json.loads(line) for line in open(spans_path)]
    for span in spans:
        span["traceId"] = hex_id(span.get("traceId"), 32)
        span["spanId"] = hex_id(span.get("spanId"), 16)
        span["parentSpanId"] = hex_id(span.get("parentSpanId"), 16)
    failures = []

    def expect(ok, what):
        print(("  ok: " if ok else "  FAILED: ") + what)
        if not ok:
            failures.append(what)

    services = sorted({s["service"] for s in spans})
    expect({"catalog", "eligibility", "disbursement", "notification", "gateway"} <= set(services),
           f"every service exported spans ({len(spans)} from {', '.join(services)})")
    ours = [s for s in spans if s["traceId"].lower() == trace]
    by_id = {s["spanId"].lower(): s for s in ours}
    http = [s for s in ours if s["service"] == "gateway" and s.get("parentSpanId", "").lower() == parent]
    expect(len(http) == 1, f"the HTTP request's span is the child of the caller's ({len(http)} found)")

    def ancestors(span):
        chain = []
        while span is not None:
            chain.append(span)
            span = by_id.get(span.get("parentSpanId", "").lower())
        return chain

    listing = [s for s in ours if s["name"].endswith("Gateway/ListReplicas") and s["kind"] in (2, "SPAN_KIND_SERVER")]
    expect(len(listing) == 1 and http and ancestors(listing[0])[-1] is http[0],
           "the gateway's ListReplicas server span descends from the HTTP request's span")
    checks = [s for s in ours if s["name"] == "mesh.rpc.v1.Health/Check" and s["kind"] in (2, "SPAN_KIND_SERVER")]
    reached = sorted({s["service"] for s in checks})
    expect({"catalog", "eligibility", "disbursement", "notification"} <= set(reached),
           f"each replica's health check is a server span of this trace, in its own service ({', '.join(reached)})")
    rooted = all(listing and listing[0] in ancestors(s) for s in checks)
    expect(bool(checks) and rooted, "each of them descends from the ListReplicas span, through a gateway client span")
    clients = [by_id.get(s.get("parentSpanId", "").lower()) for s in checks]
    expect(all(c is not None and c["service"] == "gateway" and c["kind"] in (3, "SPAN_KIND_CLIENT") for c in clients),
           "each health check's parent is the gateway's client span")
    batches = [s for s in spans if s["name"] == "ledger.batch" and s["service"] == "disbursement"]
    linked = [s for s in batches if s.get("links")]
    expect(len(batches) > 0 and len(linked) > 0,
           f"the ledger's batches are spans, linked to their callers' ({len(batches)} batches, {len(linked)} with links)")
    refused = [s for s in spans if s.get("status", {}).get("code") in (2, "STATUS_CODE_ERROR")]
    print(f"  ({len(refused)} spans with an error status)")
    print(f"otel checks: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3].lower(), sys.argv[4].lower()))
