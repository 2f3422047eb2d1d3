#!/usr/bin/python3
"""Drives the controller's approvals page (/ui) in headless Chromium, over TLS, and checks its security rules.

Usage: /usr/bin/python3 scripts/ui-browser-check.py CONFIG.json   (ControllerUITests in SetpointProxmoxTests runs it)

CONFIG: {"url": "https://127.0.0.1:PORT", "ca": CA.pem, "pin": "sha256//BASE64" (the server key's SPKI hash, which
Chromium is told to trust), "plan": "p-…" (pending, authored by alice), "tokens": {"alice": FILE, "bob": FILE,
"vic": FILE, "carol": FILE, "dave": FILE}, "daveExpires": UNIX-SECONDS, "screenshots": DIR}

alice and bob are approvers (alice authored the plan; four-eyes is on), vic is a viewer, carol's token has expired,
dave's expires at daveExpires. Tokens are read from files: never on a command line. Needs Debian's chromium,
chromium-driver and python3-selenium. Prints one JSON object of what it saw; exits 1 with the failed check.
"""
import http.client, json, os, re, ssl, sys, tempfile, time, urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

cfg = json.load(open(sys.argv[1]))
URL = cfg["url"].rstrip("/")
HOSTPORT = urllib.parse.urlsplit(URL).netloc
TOKENS = {who: open(path).read().strip() for who, path in cfg["tokens"].items()}
PLAN = cfg["plan"]
SHOTS = cfg["screenshots"]
os.makedirs(SHOTS, exist_ok=True)
CONTEXT = ssl.create_default_context(cafile=cfg["ca"])
seen = {}


def check(ok, what):
    if not ok:
        print(json.dumps(seen, indent=1), flush=True)
        sys.exit("check failed: " + what)


# --- plain HTTPS requests, for what a browser hides (headers, cookies, forged posts) -----------------------------


def request(method, path, body=None, cookies=None):
    conn = http.client.HTTPSConnection(HOSTPORT, context=CONTEXT, timeout=20)
    headers = {}
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    jar = {}
    for h in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = h.partition("=")
        jar[name] = (rest.split(";")[0], h)
    return r.status, r.headers, text, jar


def sign_in(who):
    """Signs in over plain HTTPS: the session cookie's value and its Set-Cookie line, the page's CSRF token."""
    status, _, _, jar = request("GET", "/ui/login")
    check(status == 200, f"GET /ui/login answers {status}")
    login = jar["setpoint_login"][0]
    status, headers, text, jar = request(
        "POST", "/ui/login", {"token": TOKENS[who], "csrf": login}, {"setpoint_login": login}
    )
    if status != 303:
        return status, None, None, text
    session = jar["setpoint_session"][0]
    status, _, page, _ = request("GET", "/ui/plans", cookies={"setpoint_session": session})
    check(status == 200, f"{who}'s session opens /ui/plans: {status}")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    return 303, (session, jar["setpoint_session"][1]), csrf, text


# dave first: his token expires at daveExpires, and his session must end with it.
status, dave, _, text = sign_in("dave")
check(status == 303, f"dave signs in before his token expires: {status} {text[:300]}")
seen["daveCookie"] = dave[1]

# --- the browser -------------------------------------------------------------------------------------------------


def browser(javascript):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,860",
        "--user-data-dir=" + tempfile.mkdtemp(prefix="setpoint-chromium-"),
        # Trust the controller's key (its SPKI hash), as an operator's browser trusts their CA: still TLS, verified.
        "--ignore-certificate-errors-spki-list=" + cfg["pin"].removeprefix("sha256//"),
    ]:
        o.add_argument(a)
    if not javascript:
        o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(30)
    return d


def settle(condition, seconds=15):
    """Waits for a page a click started to load (a click returns before the form's navigation ends)."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            if condition():
                return True
        except Exception:
            pass
        time.sleep(0.1)
    return False


def shot(d, name):
    d.save_screenshot(os.path.join(SHOTS, f"ui-{name}.png"))


def browser_sign_in(d, who, screenshot=None):
    d.get(URL + "/ui/login")
    d.find_element(By.ID, "token").send_keys(TOKENS[who])
    if screenshot:
        shot(d, screenshot)
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    settle(lambda: d.current_url.endswith("/ui/plans"))
    notice = re.search(r'<p class="notice[^>]*>(.*?)</p>', d.page_source, re.S)
    check(d.current_url.endswith("/ui/plans"),
          f"{who} lands on the plans page: {d.current_url} ({notice.group(1) if notice else d.page_source[:400]})")


alice = browser(javascript=True)
bob = browser(javascript=False)
try:
    # JavaScript really is off in bob's browser: an inline script on a page of its own does not run.
    bob.get("data:text/html,<title>before</title><script>document.title='ran'</script>")
    check(bob.title == "before", f"JavaScript is off in bob's browser (title {bob.title!r})")

    browser_sign_in(alice, "alice", screenshot="sign-in")
    check(PLAN in alice.page_source, "alice sees the pending plan on the plans page")
    shot(alice, "plans")
    alice.find_element(By.LINK_TEXT, PLAN).click()
    settle(lambda: alice.current_url.endswith("/ui/plans/" + PLAN))
    page = alice.page_source
    check("pending" in page and "VirtualMachine/web-1" in page, "the plan page shows the pending plan and its action")
    shot(alice, "plan")
    # Four-eyes: alice authored the plan; her approval is refused with 403 and nothing changes.
    alice.find_element(By.ID, "approve").click()
    settle(lambda: "four-eyes" in alice.page_source)
    page = alice.page_source
    check("four-eyes" in page and "another approver must approve it" in page, "alice's self-approval is refused")
    seen["selfApproval"] = re.search(r'<p class="notice error"[^>]*>(.*?)</p>', page, re.S).group(1)
    shot(alice, "four-eyes")
    status, _, _, _ = request("GET", "/ui/plans/" + PLAN)  # no cookie: to the sign-in form
    check(status == 303, f"a page without a session goes to the sign-in form: {status}")

    # bob approves, with JavaScript off: plain forms do it all.
    browser_sign_in(bob, "bob")
    bob.get(URL + "/ui/plans/" + PLAN)
    bob.find_element(By.ID, "approve-reason").send_keys("reviewed: 4 cores for the sale")
    bob.find_element(By.ID, "approve").click()
    settle(lambda: f"Plan {PLAN} approved" in bob.page_source)
    check(f"Plan {PLAN} approved" in bob.page_source, "bob's approval is confirmed")
    shot(bob, "approved")

    # The leading controller applies it in its next pass: the plan turns applied.
    for _ in range(60):
        bob.get(URL + "/ui/plans/" + PLAN)
        if 'badge applied">applied' in bob.page_source:
            break
        time.sleep(0.5)
    check('badge applied">applied' in bob.page_source, "the approved plan is applied within 30 s")
    seen["applied"] = True
    # Operations: an approver may ask for a pass now; commands are an admin's (bob is an approver).
    bob.get(URL + "/ui/operations")
    check("need the admin role" in bob.page_source, "operator commands are offered to admins only")
    bob.find_element(By.ID, "pass").click()
    settle(lambda: "makes a pass now" in bob.page_source)
    check("makes a pass now" in bob.page_source, "a pass asked from the page")
    shot(bob, "operations")
    bob.get(URL + "/ui/resources")
    check("VirtualMachine/web-1" in bob.page_source, "the resources page lists the VM")
    shot(bob, "resources")
    bob.get(URL + "/ui/audit?" + urllib.parse.urlencode({"event": "approval", "actor": "bob"}))
    page = bob.page_source
    check(PLAN in page and "bob@example.net" in page, "the audit page, filtered, shows bob's approval of the plan")
    check("alice@example.net" not in page.split("<tbody>")[-1], "the actor filter leaves other actors out")
    shot(bob, "audit")
finally:
    alice.quit()
    bob.quit()

# --- headers, cookies and forged requests --------------------------------------------------------------------------

status, headers, _, jar = request("GET", "/ui/login")
csp = headers["Content-Security-Policy"]
seen["csp"] = csp
check("default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp,
      f"the CSP forbids every script, inline ones too: {csp}")
check(headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", "framing and sniffing")

status, bob_session, bob_csrf, _ = sign_in("bob")
attributes = [a.strip() for a in bob_session[1].split(";")[1:]]
seen["sessionCookie"] = bob_session[1]
check({"HttpOnly", "Secure", "SameSite=Strict", "Path=/ui"} <= set(attributes), f"cookie attributes: {attributes}")
check(any(a.startswith("Max-Age=") and 0 < int(a[8:]) <= 8 * 3600 for a in attributes), f"an expiry: {attributes}")

# A form posted without its CSRF token (or with another session's) does nothing: 403.
status, _, text, _ = request("POST", f"/ui/plans/{PLAN}/reject", {"reason": "forged"},
                             {"setpoint_session": bob_session[0]})
seen["noCSRF"] = status
check(status == 403 and "CSRF" in text, f"a post without the CSRF token is refused: {status}")
status, _, text, _ = request("POST", f"/ui/plans/{PLAN}/reject", {"reason": "forged", "csrf": "0" * 64},
                             {"setpoint_session": bob_session[0]})
check(status == 403, f"a post with a wrong CSRF token is refused: {status}")
status, _, text, _ = request("POST", "/ui/login", {"token": TOKENS["bob"]})
check(status == 403, f"a sign-in posted without the form's CSRF token is refused: {status}")

# A viewer's approval is refused as the API refuses it.
status, vic_session, vic_csrf, _ = sign_in("vic")
status, _, text, _ = request("POST", f"/ui/plans/{PLAN}/approve", {"csrf": vic_csrf},
                             {"setpoint_session": vic_session[0]})
seen["viewerApproval"] = status
check(status == 403 and "needs the approver role" in text, f"a viewer cannot approve: {status}")

# An expired token cannot sign in.
status, _, _, text = sign_in("carol")
seen["expiredToken"] = status
check(status == 401 and "expired" in text, f"an expired token is refused at sign-in: {status}")

# dave's session ends with his token.
wait = cfg["daveExpires"] - time.time() + 1
if wait > 0:
    time.sleep(wait)
status, headers, _, _ = request("GET", "/ui/plans", cookies={"setpoint_session": dave[0]})
seen["expiredSession"] = [status, headers.get("Location")]
check(status == 303 and headers.get("Location") == "/ui/login?why=expired", f"an expired session is refused: {status}")

# Signing out ends the session on the server, not only in the browser.
status, _, _, _ = request("POST", "/ui/logout", {"csrf": bob_csrf}, {"setpoint_session": bob_session[0]})
check(status == 303, f"sign-out: {status}")
status, headers, _, _ = request("GET", "/ui/plans", cookies={"setpoint_session": bob_session[0]})
check(status == 303, f"a signed-out session is refused: {status}")

seen["ok"] = True
print(json.dumps(seen), flush=True)
