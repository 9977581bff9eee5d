"""Calls the gateway's HTTP face through a client generated from openapi.json (openapi-python-client), as a
county system written in Python would: screens an enterprise of its own county, and is refused another's.
Run by scripts/check-generated-client.sh against a running mesh."""
import ssl
import sys

certificates, port, package = sys.argv[1], sys.argv[2], sys.argv[3]
client_module = __import__(package)
from importlib import import_module

Client = client_module.Client
screen = import_module(f"{package}.api.default.screen")
screen_batch = import_module(f"{package}.api.default.screen_batch")
watch_inbox = import_module(f"{package}.api.default.watch_inbox")
models = import_module(f"{package}.models")

context = ssl.create_default_context(cafile=f"{certificates}/ca.pem")
context.load_cert_chain(f"{certificates}/nanhu.pem", f"{certificates}/nanhu-key.pem")
client = Client(base_url=f"https://localhost:{port}", verify_ssl=context)

def request(county):
    return models.ScreenRequest.from_dict({
        "asOf": {"year": 2023, "month": 9, "day": 1},
        "profile": {
            "creditCode": "91330402MA2JX00017", "name": "嘉兴绿能纺织有限公司", "county": county,
            "recognitions": [{"recognition": "greenFactory", "level": "national", "recognizedOn": {"year": 2023, "month": 3, "day": 15}}],
        },
    })

with client as http:
    result = screen.sync_detailed(client=http, body=request("NANHU"))
    assert result.status_code == 200, f"Screen: HTTP {result.status_code}: {result.content[:300]!r}"
    parsed = result.parsed
    assert isinstance(parsed, models.ScreeningResult), f"Screen: not a ScreeningResult: {parsed!r}"
    assert parsed.total_eligible_fen == "150000000", f"Screen: totalEligibleFen {parsed.total_eligible_fen!r}"
    eligible = [d for d in parsed.decisions if d.status == "ELIGIBLE"]
    assert eligible and eligible[0].citation.clause_id == "jzf-2023-3/3.19b", "Screen: the green-factory clause"
    print(f"generated client: Screen → {parsed.total_eligible_fen} fen under {eligible[0].citation.clause_id}")

    refused = screen.sync_detailed(client=http, body=request("HAINING"))
    assert refused.status_code == 403, f"another county's enterprise: HTTP {refused.status_code}"
    assert isinstance(refused.parsed, models.Error) and refused.parsed.code == "permissionDenied", f"{refused.parsed!r}"
    print(f"generated client: another county → HTTP 403 {refused.parsed.code}: {refused.parsed.message}")

    # ScreenBatch's JSON form (an array in, an array out): the generator keeps it now that NDJSON is in x-ndjson.
    batch = screen_batch.sync_detailed(client=http, body=[request("NANHU"), request("NANHU"), request("NANHU")])
    assert batch.status_code == 200, f"ScreenBatch: HTTP {batch.status_code}: {batch.content[:300]!r}"
    assert isinstance(batch.parsed, list) and len(batch.parsed) == 3, f"ScreenBatch: {batch.parsed!r}"
    assert all(r.total_eligible_fen == "150000000" for r in batch.parsed), "ScreenBatch: each result's amount"
    print(f"generated client: ScreenBatch of 3 → {[r.total_eligible_fen for r in batch.parsed]}")
    assert callable(watch_inbox.sync_detailed), "WatchInbox is in the generated client"
