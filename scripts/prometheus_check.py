"""Checks Prometheus scraping the Compose mesh: every target up, the expected number of replicas per service,
the key series present, and every query of Compose/grafana-dashboard.json answering with data.

    python3 scripts/prometheus_check.py http://127.0.0.1:9090 Compose/grafana-dashboard.json catalog=1 eligibility=4 ...
"""
import json
import sys
import time
import urllib.parse
import urllib.request

KEY_SERIES = [
    "mesh_rpc_server_calls_total",
    "mesh_rpc_server_call_duration_seconds_bucket",
    "process_resident_memory_bytes",
    "benefits_fund_available_fen",
    "benefits_webhook_backlog",
    "benefits_campaign_stage_done",
]


def get(base, path, **query):
    url = f"{base}{path}?{urllib.parse.urlencode(query)}" if query else f"{base}{path}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def main():
    base, dashboard_path, *expected_args = sys.argv[1:]
    expected = {name: int(count) for name, count in (arg.split("=") for arg in expected_args)}
    failures = []

    # Targets: up to 60 s for a replica added by --scale to be found and scraped.
    deadline = time.time() + 60
    while True:
        targets = get(base, "/api/v1/targets")["data"]["activeTargets"]
        per_job = {}
        for target in targets:
            per_job.setdefault(target["labels"]["job"], []).append(target)
        counts = {job: len(found) for job, found in per_job.items()}
        down = [t["scrapeUrl"] + " " + t["health"] + " " + t.get("lastError", "") for t in targets if t["health"] != "up"]
        if (counts == expected and not down) or time.time() > deadline:
            break
        time.sleep(2)
    print(f"  targets: {json.dumps(counts, sort_keys=True)}, {len(targets) - len(down)} of {len(targets)} up")
    if counts != expected:
        failures.append(f"targets per service {counts}, expected {expected}")
    failures += [f"target down: {line}" for line in down]

    for series in KEY_SERIES:
        result = get(base, "/api/v1/query", query=f"count({series})")["data"]["result"]
        if not result:
            failures.append(f"no series {series}")
        else:
            print(f"  {series}: {result[0]['value'][1]} series")

    dashboard = json.load(open(dashboard_path, encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            answer = get(base, "/api/v1/query", query=target["expr"])
            if answer.get("status") != "success" or not answer["data"]["result"]:
                failures.append(f"dashboard panel '{panel['title']}' has no data: {target['expr']}")
    print(f"  dashboard: {len(dashboard['panels'])} panels, each query answered with data" if not any(
        f.startswith("dashboard") for f in failures) else "  dashboard: some panels have no data")

    for failure in failures:
        print(f"  FAILED: {failure}")
    print(f"prometheus checks: {len(failures)} failed")
    sys.exit(1 if failures else 0)


main()
