"""Calls the gateway's standard gRPC port through stubs grpcio-tools generated from Shared/Protos, with a
county's certificate: a unary call, ScreenBatch streaming both ways, a WatchInbox stream cancelled, a deadline
exceeded, permission denied, and grpc.health.v1 Check and Watch. Then, with no stubs at all, learns the
methods by server reflection and calls one, and reads the descriptor set the HTTP face serves. Exits 1 on any
failed check. Run by scripts/grpc-check.sh against a running mesh."""
import ssl
import sys
import time
import urllib.request

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from jiaxing.benefits.v1 import eligibility_pb2, enterprise_pb2, gateway_pb2_grpc, notification_pb2, common_pb2

certificates, port, http_port = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(condition, what):
    print(("  ok    " if condition else "  FAIL  ") + what)
    if not condition:
        failures.append(what)


def read(name):
    return open(f"{certificates}/{name}", "rb").read()


def channel(party):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"), private_key=read(f"{party}-key.pem"), certificate_chain=read(f"{party}.pem"))
    return grpc.secure_channel(f"localhost:{port}", credentials)


def screen_request(county, request_id=""):
    profile = enterprise_pb2.EnterpriseProfile(credit_code="91330402MA2JX00017", name="嘉兴绿能纺织有限公司", county=county)
    profile.recognitions.add(recognition="greenFactory", level="national",
                             recognized_on=common_pb2.Date(year=2023, month=3, day=15))
    return eligibility_pb2.ScreenRequest(profile=profile, as_of=common_pb2.Date(year=2023, month=9, day=1),
                                         request_id=request_id)


def code_of(call):
    try:
        call()
    except grpc.RpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


nanhu = channel("nanhu")
gateway = gateway_pb2_grpc.GatewayStub(nanhu)

print("unary")
result = gateway.Screen(screen_request(common_pb2.NANHU), timeout=30)
eligible = [d for d in result.decisions if d.status == eligibility_pb2.Decision.ELIGIBLE]
check(result.total_eligible_fen == 150_000_000, f"Screen pays the national green factory 150万元 (got {result.total_eligible_fen} fen)")
check(bool(eligible) and eligible[0].citation.clause_id == "jzf-2023-3/3.19b", "under jzf-2023-3/3.19b")

print("permission denied")
code, details = code_of(lambda: gateway.Screen(screen_request(common_pb2.HAINING), timeout=30))
check(code == grpc.StatusCode.PERMISSION_DENIED, f"another county's enterprise is refused ({code.name}: {details})")

print("streaming both ways")
requests = [screen_request(common_pb2.NANHU, f"line-{i}") for i in range(50)]
results = list(gateway.ScreenBatch(iter(requests), timeout=60))
check([r.request_id for r in results] == [f"line-{i}" for i in range(50)], f"ScreenBatch answers 50 lines in order (got {len(results)})")
check(all(r.total_eligible_fen == 150_000_000 for r in results), "each with its amount")

print("a stream cancelled")
watch = gateway.WatchInbox(notification_pb2.WatchInboxRequest(audience="county/nanhu"))
time.sleep(1)
watch.cancel()
code, _ = code_of(lambda: next(watch))
check(code == grpc.StatusCode.CANCELLED, f"WatchInbox cancelled by the client ends as CANCELLED (got {code.name})")
check(gateway.Screen(screen_request(common_pb2.NANHU), timeout=30).total_eligible_fen == 150_000_000,
      "the gateway serves the next call")

print("deadline")
started = time.monotonic()
code, details = code_of(lambda: list(gateway.WatchInbox(notification_pb2.WatchInboxRequest(audience="county/nanhu"), timeout=1.0)))
elapsed = time.monotonic() - started
check(code == grpc.StatusCode.DEADLINE_EXCEEDED, f"a watch past its 1 s deadline ends as DEADLINE_EXCEEDED after {elapsed:.2f} s ({details})")

print("health")
health = health_pb2_grpc.HealthStub(nanhu)
for service in ["", "jiaxing.benefits.v1.Gateway"]:
    answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    check(answer.status == health_pb2.HealthCheckResponse.SERVING, f"Check({service!r}) is SERVING")
code, _ = code_of(lambda: health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10))
check(code == grpc.StatusCode.NOT_FOUND, f"Check of an unknown service is NOT_FOUND (got {code.name})")
watching = health.Watch(health_pb2.HealthCheckRequest(service=""))
first = next(watching)
check(first.status == health_pb2.HealthCheckResponse.SERVING, "Watch sends SERVING at once")
watching.cancel()

print("no certificate")
plain = grpc.secure_channel(f"localhost:{port}", grpc.ssl_channel_credentials(root_certificates=read("ca.pem")))
code, _ = code_of(lambda: health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=10))
check(code == grpc.StatusCode.UNAVAILABLE, f"a caller without a certificate is refused at the handshake ({code.name})")

print("reflection")
database = ProtoReflectionDescriptorDatabase(channel("nanhu"))
services = set(database.get_services())
check({"jiaxing.benefits.v1.Gateway", "grpc.health.v1.Health"} <= services, f"reflection lists the services ({len(services)})")
pool = descriptor_pool.DescriptorPool(database)
method = pool.FindMethodByName("jiaxing.benefits.v1.Gateway.Screen")
Request = message_factory.GetMessageClass(method.input_type)
Response = message_factory.GetMessageClass(method.output_type)
request = Request()
request.ParseFromString(screen_request(common_pb2.NANHU).SerializeToString())
call = channel("nanhu").unary_unary("/jiaxing.benefits.v1.Gateway/Screen",
                                    request_serializer=Request.SerializeToString, response_deserializer=Response.FromString)
answer = call(request, timeout=30)
check(answer.total_eligible_fen == 150_000_000, "a client with no .proto files calls Screen from what reflection told it")

print("every method")
# Each of the Gateway service's methods, learned by reflection, called with an empty request (an empty stream for
# streaming ones) as a county: each answers with a status of its own (a refusal naming what is missing, say),
# never UNIMPLEMENTED, UNKNOWN or INTERNAL.
gateway_service = pool.FindServiceByName("jiaxing.benefits.v1.Gateway")
bad = []
answered = {}
county_channel = channel("nanhu")
for method in gateway_service.methods:
    Request = message_factory.GetMessageClass(method.input_type)
    Response = message_factory.GetMessageClass(method.output_type)
    path = f"/jiaxing.benefits.v1.Gateway/{method.name}"
    kinds = {(False, False): county_channel.unary_unary, (False, True): county_channel.unary_stream,
             (True, False): county_channel.stream_unary, (True, True): county_channel.stream_stream}
    call = kinds[(method.client_streaming, method.server_streaming)](
        path, request_serializer=Request.SerializeToString, response_deserializer=Response.FromString)
    request = iter([]) if method.client_streaming else Request()
    def invoke():
        result = call(request, timeout=5)
        if method.server_streaming:
            list(result)
    code, details = code_of(invoke)
    answered[method.name] = code.name
    if code in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL):
        bad.append(f"{method.name}: {code.name} {details}")
check(len(gateway_service.methods) >= 40 and not bad,
      f"all {len(gateway_service.methods)} Gateway methods answer an empty request with a status of their own"
      + (f"; not: {bad}" if bad else ""))
print("    " + ", ".join(f"{name} {code}" for name, code in sorted(answered.items())))

print("descriptor set")
context = ssl.create_default_context(cafile=f"{certificates}/ca.pem")
context.load_cert_chain(f"{certificates}/nanhu.pem", f"{certificates}/nanhu-key.pem")
body = urllib.request.urlopen(f"https://localhost:{http_port}/v1/descriptors", context=context, timeout=30).read()
files = descriptor_pb2.FileDescriptorSet.FromString(body).file
check("jiaxing/benefits/v1/gateway.proto" in [f.name for f in files], f"GET /v1/descriptors serves the .proto files ({len(files)})")

print(f"grpc checks: {len(failures)} failed")
sys.exit(1 if failures else 0)
