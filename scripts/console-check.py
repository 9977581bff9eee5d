"""Drives the web console in a real headless Chromium against a running mesh (`mesh up --demo` first).

    python scripts/console-check.py STATE_DIR CONSOLE_PORT CERTIFICATES_DIR SCREENSHOT_DIR

Signs in as each role, approves the order the demo left pending and sees the ledger change, is refused
another county's enterprise, fails CSRF without the token, sees a wrong password get the generic message
and HTML typed into a field escaped, and saves a screenshot of each page. Exits 1 on any failed check.
Chromium trusts exactly the gateway's key (an SPKI pin): the mesh CA is not in the browser's store.
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.parse

from playwright.sync_api import sync_playwright

state, port, certificates, screenshots = sys.argv[1:5]
os.makedirs(screenshots, exist_ok=True)
base = f"https://localhost:{port}/console"
accounts = {}
for line in open(os.path.join(state, "console-accounts.txt"), encoding="utf-8").read().splitlines():
    if line.strip():
        user, password, party = line.split("\t")
        accounts[user] = (password, party)
failures = []
# The day the demo screened its sample enterprises (the seed documents were in force then, not today).
demo_day = json.load(open("Compose/demo/enterprises.json", encoding="utf-8"))["asOf"]
as_of = f"{demo_day['year']:04d}-{demo_day['month']:02d}-{demo_day['day']:02d}"


def check(condition, what):
    print(("  ok    " if condition else "  FAIL  ") + what)
    if not condition:
        failures.append(what)


def shot(page, name, full_page=True):
    """A screenshot of the whole page, or of what the window shows (a queue of hundreds of orders is tall)."""
    page.screenshot(path=os.path.join(screenshots, f"{name}.png"), full_page=full_page)


def sign_in(page, user, password):
    page.goto(f"{base}/sign-in")
    page.fill("#sign-in input[name=user]", user)
    page.fill("#sign-in input[name=password]", password)
    # Wait for the page the sign-in leads to: the checks after it read that page without waiting.
    with page.expect_navigation(wait_until="load"):
        page.click("#sign-in button[type=submit]")


def spki_pin(certificate_path):
    key = subprocess.run(["openssl", "x509", "-in", certificate_path, "-pubkey", "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=key, check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


# Playwright's own HTTP client (used for the forged post) runs in Node: it verifies against the mesh CA.
os.environ["NODE_EXTRA_CA_CERTS"] = os.path.join(certificates, "ca.pem")

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        args=["--no-sandbox", f"--ignore-certificate-errors-spki-list={spki_pin(os.path.join(certificates, 'gateway.pem'))}"],
    )

    print("sign-in")
    page = browser.new_context(locale="zh-CN").new_page()
    sign_in(page, "operator", "not-the-password")
    check("用户名或密码不正确" in page.inner_text("#error"), "a wrong password gets the generic message")
    check("not-the-password" not in page.content(), "the wrong password is not echoed")
    shot(page, "01-sign-in-refused")

    print("operator")
    operator = browser.new_context(locale="zh-CN").new_page()
    sign_in(operator, "operator", accounts["operator"][0])
    check(operator.url.endswith("/console/overview"), "the operator lands on the overview")
    funds_before = operator.inner_text("#funds")
    check(operator.locator("#payout-chart rect").count() > 0, "兑付率 is charted against its targets")
    check(operator.locator("#campaigns tr").count() > 0 and "已完成" in operator.locator("#campaigns").inner_text(),
          "the demo's campaign is listed, done, with its progress")
    check("SERVING" in operator.inner_text("#health"), "the services' replicas are listed with their health")
    shot(operator, "02-operator-overview")
    campaign_url = None
    campaign_link = operator.locator("#campaigns a").first
    if campaign_link.count() > 0:
        campaign_link.click()
        operator.wait_for_load_state()
        stages = operator.locator("#campaign-stages progress")
        check(stages.count() == 5, "a campaign's page draws a bar for each of its five stages")
        check(int(stages.first.get_attribute("value")) > 0, "its screening bar shows the enterprises screened")
        shot(operator, "02b-operator-campaign")
        campaign_url = operator.url
        operator.goto(operator.url.split("/console/")[0] + "/console/overview")
    else:
        check(False, "the overview links the demo's campaign to its page")

    # The same stages as metrics on the gateway's /metrics (published every few seconds).
    instances = json.load(open(os.path.join(state, "mesh-state.json"), encoding="utf-8"))["instances"]
    gateway_metrics = next((i.get("metricsPort") for i in instances if i["service"] == "gateway"), None)
    metrics = ""
    for _ in range(20):
        if gateway_metrics is None:
            break
        import time, urllib.request
        try:
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{gateway_metrics}/metrics", timeout=5).read().decode()
        except OSError:
            metrics = ""
        if "benefits_campaign_stage_done" in metrics:
            break
        time.sleep(1)
    check(any(line.startswith("benefits_campaign_stage_done") and 'stage="screened"' in line and not line.rstrip().endswith(" 0")
              for line in metrics.splitlines()),
          "the gateway's /metrics gives the campaign's stages (screened, done)")

    print("department")
    officer_page, order_id = None, None
    for user, (password, party) in accounts.items():
        if not party.startswith("department/"):
            continue
        candidate = browser.new_context(locale="zh-CN").new_page()
        sign_in(candidate, user, password)
        rows = candidate.locator("#orders tr[id^=order-]")
        if rows.count() > 0:
            officer_page, order_id = candidate, rows.first.get_attribute("id")[len("order-"):]
            print(f"  {user} has order {order_id} waiting")
            break
    check(officer_page is not None, "a department officer sees the order the demo left pending")
    if officer_page is not None:
        shot(officer_page, "03-department-queue", full_page=False)
        check(officer_page.locator(f"#order-{order_id} .quote").count() > 0, "the order shows the clause's own words")
        groups = officer_page.locator("#groups tr.group")
        check(groups.count() > 0 and "笔" in groups.first.inner_text(),
              "pending orders are counted and totalled by clause and county, each group with one bulk decision")
        explanation = officer_page.locator(f"#order-{order_id} .explanation")
        check(explanation.count() > 0 and "据市" in explanation.inner_text(),
              "the order names the department that vouched for each fact it rests on (据市经信局 …)")
        forged = officer_page.context.request.post(f"{base}/orders/{order_id}/approve", form={"reason": ""}, max_redirects=0)
        check(forged.status == 403, f"a post without the CSRF token is refused (got {forged.status})")
        officer_page.click(f"#order-{order_id} button.approve")
        check("已批准" in officer_page.inner_text("#flash"), "approving shows the decision")
        check(officer_page.locator(f"#order-{order_id}").count() == 0, "the approved order leaves the queue")
        shot(officer_page, "04-department-approved", full_page=False)

        # A whole group (one clause in one county) decided at once, with one reason recorded on every order.
        group = officer_page.locator("#groups tr.group").first
        check(group.count() > 0, "the campaign left groups of orders to decide in bulk")
        if group.count() > 0:
            counted = int(re.search(r"(\d+) 笔", group.inner_text()).group(1))
            clause = group.locator("input[name=clause]").get_attribute("value")
            county = group.locator("input[name=county]").get_attribute("value")
            groups_before = officer_page.locator("#groups tr.group").count()
            group.locator("input[name=reason]").fill("经审核，符合条款，批量批准")
            shot(officer_page, "04b-department-bulk-before", full_page=False)
            group.locator("button.approve").click()
            officer_page.wait_for_load_state()
            flash = officer_page.inner_text("#flash")
            print(f"  {clause} in {county}: {flash}")
            check(f"已批准 {counted} 笔" in flash, f"approving the group approves its {counted} orders at once ({flash})")
            check(officer_page.locator("#groups tr.group").count() == groups_before - 1, "the decided group leaves the summary")
            shot(officer_page, "04c-department-bulk-approved", full_page=False)
            if campaign_url:
                operator.goto(campaign_url)
                posted = operator.locator("#campaign-stages progress").nth(3)
                check(int(posted.get_attribute("value")) > 0, "the campaign's page shows its orders posted")
                shot(operator, "04d-operator-campaign-after-bulk")
                operator.goto(campaign_url.split("/console/")[0] + "/console/overview")
        operator.reload()
        check(operator.inner_text("#funds") != funds_before, "the ledger changed: the fund's paid and reserved amounts moved")
        shot(operator, "05-operator-after-approval")
        response = officer_page.goto(f"{base}/overview")
        check(response.status == 403, "a department officer may not open the operator's page")

    print("declared facts")
    applicant_page = None
    for user, (password, party) in accounts.items():
        if not party.startswith("department/"):
            continue
        candidate = browser.new_context(locale="zh-CN").new_page()
        sign_in(candidate, user, password)
        if candidate.locator("#applications tr[id^=application-]").count() > 0:
            applicant_page = candidate
            print(f"  {user} has an application waiting")
            break
    check(applicant_page is not None, "a department officer sees the application the demo filed")
    if applicant_page is not None:
        row = applicant_page.locator("#applications tr[id^=application-]").first
        check("企业申报，未经部门认定" in row.inner_text(),
              "a fact the enterprise declared is marked as not attested by any department")
        check("牵头承担国家重点研发计划" in row.inner_text() and "leadsNationalKeyRdProgramme" not in row.inner_text(),
              "the declared fact is named as the catalog names it, not by its id")
        check(row.locator("a[href*='/evidence/']").count() > 0, "the declared fact's evidence is linked for download")
        shot(applicant_page, "05b-department-application")

    print("county")
    counties = [(user, password, party) for user, (password, party) in accounts.items() if party.startswith("county/")]
    operator.goto(f"{base}/enterprises")
    everyone = [(row.locator("td").nth(1).inner_text(), row.locator("td").nth(2).inner_text()) for row in operator.locator("#enterprises tr").all()[1:]]
    if counties:
        user, password, party = counties[0]
        staff = browser.new_context(locale="zh-CN").new_page()
        sign_in(staff, user, password)
        own = [row.locator("td").nth(1).inner_text() for row in staff.locator("#enterprises tr").all()[1:]]
        check(len(own) > 0, f"{user} sees its county's registered enterprises")
        shot(staff, "06-county-enterprises")
        if own:
            staff.click(f"#enterprises a[href$='{own[0]}']")
            staff.goto(staff.url + f"?as_of={as_of}")
            check(staff.locator("#entitlements tr").count() > 1, f"an enterprise's page shows its entitlements as of {as_of}, each citing its clause")
            check(staff.locator("#orders tr").count() > 1, "and its payout history")
            shot(staff, "07-county-enterprise")
        others = [code for code, _ in everyone if code not in own]
        check(len(others) > 0, "the demo registered enterprises in more than one county")
        if others:
            response = staff.goto(f"{base}/enterprises/{others[0]}")
            check(response.status == 403 and "无权访问" in staff.content(), "another county's enterprise is refused")
            shot(staff, "08-county-refused")
        staff.goto(f"{base}/enterprises?q=" + urllib.parse.quote("<b>x</b>"))
        check(staff.locator("main b").count() == 0, "HTML typed into the search is escaped, not rendered")
        check(staff.input_value("#search input[name=q]") == "<b>x</b>", "what was typed is kept as text")
        staff.click("#sign-out")
        check(staff.url.endswith("/console/sign-in"), "signing out returns to the sign-in page")

    browser.close()

print(f"console checks: {len(failures)} failed; screenshots in {screenshots}")
sys.exit(1 if failures else 0)
