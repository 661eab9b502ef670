#!/usr/bin/env python3
"""Browser test of luci-app-ndpresponder (run as root by scripts/test-luci.sh).

A real ndpresponder runs on the uplink of a two-namespace lab (router r-eth0 <-> veth <->
server wan0) and registers on ubus through tests/luci/server.py, which also serves the
app's views and the harness page and answers LuCI's /ubus JSON-RPC. Headless Chromium,
driven by selenium, then: watches the status view pick up the counters of solicitations
sent with ndisc6 in the lab, asks the explain box about addresses, gets an inline error
for a bad prefix in the settings form, saves a change and checks the staged uci changes,
applies it and sees the daemon answer for the new prefix. Screenshots of both views go to
docs/. The last line is "luci: N passed, N failed"; the exit status is 1 on any failure.

Usage: test_luci.py PATH_TO_NDPRESPONDER_BINARY
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1000"]

PID = os.getpid()
ROUTER_NS = f"ndpl-{PID}-r"
SERVER_NS = f"ndpl-{PID}-s"
# Inside the range answered for, outside it, excluded, and the server's own address.
ANSWERED = "2001:db8:1:2::1:5"
OUT_OF_RANGE = "2001:db8:1:2::2:5"
EXCLUDED = "2001:db8:1:2::1:1"
OWN = "2001:db8:1:2::100"
PREFIX = "2001:db8:1:2::1:0/112"
NEW_PREFIX = "2001:db8:1:2::2:0/112"

UCI_NDPRESPONDER = f"""config ndpresponder 'main'
	option enabled '1'
	option log_level 'info'

config uplink 'wan'
	option enabled '1'
	option device 'wan0'
	option interface 'wan'
	list prefix '{PREFIX}'
	list exclude '{EXCLUDED}/128'
	option source 'target'
	option router '1'
	option override '0'
	option rate_limit '10000'
	option source_rate_limit '1000'
"""
UCI_NETWORK = """config interface 'loopback'
	option device 'lo'

config interface 'wan'
	option device 'wan0'

config interface 'lan'
	option device 'br-lan'
"""

passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}" + (f" ({detail})" if detail else ""))
    return ok


def run(*cmd, timeout=30, check_rc=True):
    return subprocess.run(cmd, check=check_rc, timeout=timeout, capture_output=True, text=True)


def wait_for(what, predicate, timeout=10.0, interval=0.2):
    """predicate()'s first truthy value within timeout, else None (bounded polling)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - a page element not there yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            print(f"  (gave up waiting for {what})")
            return None
        time.sleep(interval)


def preflight(binary):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER, shutil.which("ndisc6"), shutil.which("ip"))
               if not p or not os.access(p, os.X_OK)]
    if not Path(binary).is_file():
        missing.append(binary)
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python module selenium")
    if os.geteuid() != 0:
        missing.append("root (network namespaces)")
    return missing


def lab_up():
    for ns in (ROUTER_NS, SERVER_NS):
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        # No DAD (addresses usable at once), no router advertisements.
        run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_ra=0",
            "net.ipv6.conf.default.accept_ra=0")
    run("ip", "-n", ROUTER_NS, "link", "add", "r-eth0", "address", "02:00:00:00:00:01", "type", "veth",
        "peer", "name", "wan0", "netns", SERVER_NS)
    run("ip", "-n", SERVER_NS, "link", "set", "wan0", "address", "02:00:00:00:01:00")
    run("ip", "-n", ROUTER_NS, "addr", "add", "2001:db8:1:2::1/64", "dev", "r-eth0")
    run("ip", "-n", SERVER_NS, "addr", "add", f"{OWN}/64", "dev", "wan0")
    run("ip", "-n", ROUTER_NS, "link", "set", "r-eth0", "up")
    run("ip", "-n", SERVER_NS, "link", "set", "wan0", "up")


def lab_down():
    for ns in (ROUTER_NS, SERVER_NS):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def solicit(target):
    """One NS from the router for target; True if some NA came back."""
    r = run("ip", "netns", "exec", ROUTER_NS, "ndisc6", "-1", "-r", "1", "-w", "500", target, "r-eth0",
            check_rc=False)
    return r.returncode == 0


def browser(profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for f in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def page_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver, name):
    """The whole page, not just the window (Chromium's DevTools capture beyond the viewport)."""
    import base64

    driver.execute_script("window.scrollTo(0, 0)")
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path = DOCS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def rpc(url, sid, obj, method, args):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call", "params": [sid, obj, method, args]})
    req = urllib.request.Request(url + "/ubus", body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["result"]


def test_status(driver, url, ubusd):
    from selenium.webdriver.common.by import By

    driver.get(url + "&view=ndpresponder/status")
    check("status view renders", wait_for("status view", lambda: driver.find_element(
        By.CSS_SELECTOR, "#view[data-ready] .ndpr-uplink[data-uplink=wan]")))
    uplink = lambda: driver.find_element(By.CSS_SELECTOR, ".ndpr-uplink[data-uplink=wan]")  # noqa: E731
    check("uplink wan shows as answering on wan0",
          "Answering" in uplink().text and "wan0" in uplink().text and "02:00:00:00:01:00" in uplink().text,
          uplink().text)
    check("ranges shown with the exclude", PREFIX in uplink().text and f"except {EXCLUDED}/128" in uplink().text)
    before = int(uplink().find_element(By.CSS_SELECTOR, ".ndpr-ns").text)

    answered = [solicit(t) for t in (ANSWERED, OUT_OF_RANGE, EXCLUDED, OWN)]
    check("ndisc6: in-range and own address answered, out of range and excluded not",
          answered == [True, False, False, True], str(answered))
    # Two more out of range, so the bars differ in length.
    check("ndisc6: out of range stays unanswered", not any(solicit(OUT_OF_RANGE) for _ in range(2)))

    _, daemon = ubusd.call("ndpresponder", "status", {})
    counters = daemon["uplinks"][0]["counters"]
    check("the daemon counted the six solicitations", counters["ns_received"] >= before + 6, str(counters))
    shown = wait_for("the poll to show the daemon's counters", lambda: int(uplink().find_element(
        By.CSS_SELECTOR, ".ndpr-ns").text) >= counters["ns_received"] and uplink(), timeout=10)
    check("status view picks up the new counters by polling", shown)
    na = int(uplink().find_element(By.CSS_SELECTOR, ".ndpr-na").text)
    check("advertisements sent shown as the daemon counts them", na == counters["na_sent"] and na >= 1,
          f"page {na}, daemon {counters['na_sent']}")
    bars = {b.get_attribute("data-reason"): int(b.find_element(By.CSS_SELECTOR, ".ndpr-count").text)
            for b in uplink().find_elements(By.CSS_SELECTOR, ".ndpr-drop")}
    expected = {k: v for k, v in counters["drops"].items() if v}
    check("one bar per drop reason that occurred, with the daemon's counts", bars == expected,
          f"page {bars}, daemon {expected}")
    check("drop reasons include out of range, excluded and own address",
          {"out_of_range", "excluded", "own_address"} <= set(bars), str(bars))
    widths = [b.value_of_css_property("width") for b in uplink().find_elements(By.CSS_SELECTOR, ".ndpr-bar")]
    check("bars are drawn with a width", all(float(w.rstrip("px")) > 0 for w in widths), str(widths))

    def explain(address):
        box = driver.find_element(By.ID, "ndpr-explain-address")
        box.clear()
        box.send_keys(address)
        driver.find_element(By.ID, "ndpr-explain-button").click()
        return wait_for(f"explanation of {address}", lambda: (
            lambda t: t if address in t or "Cannot explain" in t or "wan (wan0)" in t else None)(
            driver.find_element(By.ID, "ndpr-explain-result").text) and driver.find_element(
            By.ID, "ndpr-explain-result"))

    res = explain(EXCLUDED)
    check("explain: excluded address is not answered, with the reason",
          res and "no" in res.find_element(By.CSS_SELECTOR, ".ndpr-answers").text
          and "excluded" in res.find_element(By.CSS_SELECTOR, ".ndpr-reason").text, res and res.text)
    res = explain("not-an-address")
    check("explain: a bad address gets the daemon's error", res and "Invalid argument" in res.text,
          res and res.text)
    res = wait_for("explanation", lambda: explain(ANSWERED).find_element(By.CSS_SELECTOR, ".ndpr-explained"))
    check("explain: in-range address answered by wan with its rule",
          res and "yes" in res.find_element(By.CSS_SELECTOR, ".ndpr-answers").text
          and PREFIX in res.text and "covered" in res.text, res and res.text)
    errors = page_errors(driver)
    check("status view: no page errors", not errors, str(errors))
    check("screenshot docs/luci-status.png", screenshot(driver, "luci-status.png").stat().st_size > 10000)


def test_settings(driver, url, backend, ubusd):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url + "&view=ndpresponder/settings")
    form = wait_for("settings form", lambda: driver.find_element(By.CSS_SELECTOR, "#view[data-ready] .cbi-map"))
    check("settings view renders the ndpresponder map", form)
    row = lambda: driver.find_element(By.CSS_SELECTOR, "tr[data-sid=wan]")  # noqa: E731
    check("uplink grid lists wan with device, interface and prefix",
          all(s in row().text for s in ("wan0", "wan", PREFIX)), row().text)
    level = driver.find_element(By.CSS_SELECTOR, "[data-name=log_level] select")
    check("global log level read from uci", level.get_attribute("value") == "info")
    check("screenshot docs/luci-settings.png", screenshot(driver, "luci-settings.png").stat().st_size > 10000)

    row().find_element(By.CSS_SELECTOR, ".cbi-button-edit").click()
    modal = wait_for("edit dialog", lambda: driver.find_element(By.CSS_SELECTOR, "#modal_overlay .modal"))
    check("edit dialog opens", modal)
    device = modal.find_element(By.CSS_SELECTOR, "[data-name=device] select")
    options = [o.get_attribute("value") for o in device.find_elements(By.TAG_NAME, "option")]
    check("device picker offers the lab's devices", "wan0" in options and device.get_attribute("value") == "wan0",
          str(options))
    prefix = modal.find_element(By.CSS_SELECTOR, "[data-name=prefix]")
    add = prefix.find_element(By.CSS_SELECTOR, ".add-item input")
    add.send_keys("2001:db8:1:2::zz/112")
    prefix.find_element(By.CSS_SELECTOR, ".cbi-button-add").click()
    error = prefix.find_element(By.CSS_SELECTOR, ".cbi-value-error").text
    check("bad prefix: inline error next to the field", "Expecting: valid IPv6 CIDR" in error, error)
    check("bad prefix: input marked invalid", "cbi-input-invalid" in add.get_attribute("class"))
    check("bad prefix: not added to the list",
          [i.get_attribute("data-value") for i in prefix.find_elements(By.CSS_SELECTOR, ".item")] == [PREFIX])
    modal.find_element(By.CSS_SELECTOR, ".cbi-button-positive").click()
    check("dialog refuses to save while the prefix is bad",
          wait_for("notification", lambda: "Some fields are invalid" in driver.find_element(
              By.ID, "maincontent").text) and driver.find_elements(By.ID, "modal_overlay"))
    check("screenshot docs/luci-settings-error.png",
          screenshot(driver, "luci-settings-error.png").stat().st_size > 10000)

    add.clear()
    add.send_keys(NEW_PREFIX, Keys.ENTER)
    check("good prefix clears the error", not prefix.find_element(By.CSS_SELECTOR, ".cbi-value-error").text)
    rate = modal.find_element(By.CSS_SELECTOR, "[data-name=rate_limit] input")
    rate.clear()
    rate.send_keys("500")
    modal.find_element(By.CSS_SELECTOR, ".cbi-button-positive").click()
    check("dialog closes on save", wait_for("dialog to close", lambda: not driver.find_elements(
        By.ID, "modal_overlay") and True))
    check("grid shows the new prefix before saving", NEW_PREFIX in row().text, row().text)
    check("nothing staged before Save", not backend.changes.get("ndpresponder"))

    driver.find_element(By.CSS_SELECTOR, ".cbi-page-actions .cbi-button-save").click()
    staged = wait_for("uci changes", lambda: backend.changes.get("ndpresponder"))
    expected = [["remove", "wan", "prefix"], ["list-add", "wan", "prefix", PREFIX],
                ["list-add", "wan", "prefix", NEW_PREFIX], ["set", "wan", "rate_limit", "500"]]
    check("Save stages exactly the expected uci changes", staged == expected, json.dumps(staged))
    sid = driver.execute_script("return L.env.sessionid")
    check("uci changes over JSON-RPC reports them", rpc(url.split("/?")[0], sid, "uci", "changes",
                                                         {"config": "ndpresponder"}) == [0, {"changes": expected}])
    errors = page_errors(driver)
    check("settings view: no page errors", not errors, str(errors))

    driver.find_element(By.CSS_SELECTOR, ".cbi-page-actions .cbi-button-apply").click()
    applied = wait_for("the daemon to reload", lambda: (lambda st: st if st and st.get("reloads") == 1 else None)(
        ubusd.call("ndpresponder", "status", {})[1]))
    check("Save & Apply: the daemon reloaded the written file",
          applied and applied["uplinks"][0]["prefixes"] == [PREFIX, NEW_PREFIX]
          and applied["uplinks"][0]["rate_limit"] == 500, json.dumps(applied))
    check("Save & Apply: nothing left staged", not backend.changes)
    check("the new prefix is answered on the wire", wait_for("answer for the new prefix",
                                                             lambda: solicit(OUT_OF_RANGE), timeout=5))


def test_acl(url, backend):
    base = url.split("/?")[0]
    check("a call without a session is refused", rpc(base, "0" * 32, "ndpresponder", "status", {}) == [6])
    check("login with a wrong password is refused",
          rpc(base, "0" * 32, "session", "login", {"username": "root", "password": "wrong"}) == [6])
    sid = rpc(base, "0" * 32, "session", "login", {"username": "root", "password": backend.password})[1][
        "ubus_rpc_session"]
    check("the app's ACL does not grant other uci configs", rpc(base, sid, "uci", "get", {"config": "system"}) == [6])
    check("the app's ACL does not grant other ndpresponder methods",
          rpc(base, sid, "ndpresponder", "shutdown", {}) == [6])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = str(Path(sys.argv[1]).resolve())
    missing = preflight(binary)
    if missing:
        print("SKIPPED: luci browser test needs " + ", ".join(missing))
        print("luci: 0 passed, 0 failed")
        return 0

    tmp = Path(tempfile.mkdtemp(prefix=f"ndpr-luci-{PID}-"))
    uci_dir = tmp / "config"
    uci_dir.mkdir()
    (uci_dir / "ndpresponder").write_text(UCI_NDPRESPONDER)
    (uci_dir / "network").write_text(UCI_NETWORK)
    daemon = driver = httpd = ubusd = None
    try:
        lab_up()
        ubusd = server.TinyUbusd(tmp / "ubus.sock")
        log = open(tmp / "daemon.log", "w")
        daemon = subprocess.Popen(["ip", "netns", "exec", SERVER_NS, binary, "-c", str(uci_dir),
                                   "-s", str(tmp / "ubus.sock"), "-f"], stdout=log, stderr=subprocess.STDOUT)
        check("daemon registers its ubus object", ubusd.registered.wait(10) and ubusd.object == "ndpresponder")
        check("daemon arms the uplink", wait_for("armed uplink", lambda: ubusd.call(
            "ndpresponder", "status", {})[1]["uplinks"][0]["state"] == "armed"))
        password = os.urandom(8).hex()
        backend = server.Backend(uci_dir, ubusd, SERVER_NS, password)
        httpd = server.serve(backend)
        url = f"http://127.0.0.1:{httpd.server_port}/?password={password}"
        test_acl(url, backend)
        driver = browser(tmp / "profile")
        test_status(driver, url, ubusd)
        test_settings(driver, url, backend, ubusd)
    except Exception as e:  # noqa: BLE001 - reported as a failure, then cleaned up
        import traceback

        traceback.print_exc()
        check("test ran to the end", False, repr(e))
    finally:
        if driver:
            driver.quit()
        if httpd:
            httpd.shutdown()
        if daemon:
            daemon.terminate()
            try:
                daemon.wait(5)
            except subprocess.TimeoutExpired:
                daemon.kill()
        if ubusd:
            ubusd.close()
        lab_down()
        if failed:
            print("daemon log:\n" + (tmp / "daemon.log").read_text() if (tmp / "daemon.log").exists() else "")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"luci: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
