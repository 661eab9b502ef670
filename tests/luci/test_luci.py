#!/usr/bin/env python3
"""Browser test of luci-app-ndpresponder (run as root by scripts/test-luci.sh).

A real ndpresponder runs on the uplink of a two-namespace lab (router r-eth0 <-> veth <->
server wan0) and registers on ubus through tests/luci/server.py, which also serves the
app's views and the harness page and answers LuCI's /ubus JSON-RPC. Headless Chromium,
driven by selenium, then: watches the status view pick up the counters of solicitations
sent with ndisc6 in the lab, asks the explain box about addresses, gets an inline error
for a bad prefix in the settings form, saves a change and checks the staged uci changes,
applies it and sees the daemon answer for the new prefix. Then it follows the routes: a
Docker-style bridge br-lan on the server routes a /80 with one host behind it, the form
gives the uplink that downstream device (hosts 'known', announce on) and no prefix, and
the status view shows the routed range with its origin, the known host and the
announcements, the host answered on the wire and explain's reason for an address nobody
has. Screenshots of both views go to docs/. When an OpenWrt userland stage with uhttpd and rpcd is present (NDPR_OPENWRT_STAGE,
default /tmp/owrtreal/stage), everything runs a second time with the daemon on OpenWrt's
ubusd and the page talking to OpenWrt's uhttpd and rpcd, the app's ACL file installed.
The last line is "luci: N passed, N failed"; the exit status is 1 on any failure.

Usage: test_luci.py PATH_TO_NDPRESPONDER_BINARY
"""

import json
import os
import re
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
# The range the server routes out of its bridge br-lan, as Docker does for a network's
# subnet: the server's address on it, a host (container) behind it, an address nobody has.
DOWNSTREAM = "br-lan"
ROUTED = "2001:db8:1:2:d0c::/80"
GATEWAY = "2001:db8:1:2:d0c::1"
HOST = "2001:db8:1:2:d0c::5"
NOBODY = "2001:db8:1:2:d0c::99"
HOST_NS = f"ndpl-{PID}-h"

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

# An OpenWrt-shaped root with OpenWrt's own ubusd, rpcd and uhttpd built for this host,
# if one is there: the test then runs a second time through them.
OPENWRT_STAGE = Path(os.environ.get("NDPR_OPENWRT_STAGE", "/tmp/owrtreal/stage"))

passed = failed = 0
LABEL = ""


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {LABEL}{what}")
    else:
        failed += 1
        print(f"FAIL: {LABEL}{what}" + (f" ({detail})" if detail else ""))
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
    missing = [p for p in (CHROMIUM, CHROMEDRIVER, shutil.which("ndisc6"), shutil.which("ip"),
                           shutil.which("ping"))
               if not p or not os.access(p, os.X_OK)]
    if not Path(binary).is_file():
        missing.append(binary)
    import importlib.util

    if importlib.util.find_spec("selenium") is None:
        missing.append("python module selenium")
    if os.geteuid() != 0:
        missing.append("root (network namespaces)")
    return missing


def lab_up():
    for ns in (ROUTER_NS, SERVER_NS, HOST_NS):
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
    # The downstream network: a bridge with the gateway address (so the kernel routes the
    # /80 out of it) and a host namespace plugged into it by a veth.
    run("ip", "-n", SERVER_NS, "link", "add", DOWNSTREAM, "type", "bridge", "mcast_snooping", "0")
    run("ip", "-n", SERVER_NS, "link", "set", DOWNSTREAM, "up")
    run("ip", "-n", SERVER_NS, "addr", "add", f"{GATEWAY}/80", "dev", DOWNSTREAM, "nodad")
    run("ip", "-n", SERVER_NS, "link", "add", "vh-host", "type", "veth", "peer", "name", "eth0",
        "netns", HOST_NS)
    run("ip", "-n", SERVER_NS, "link", "set", "vh-host", "master", DOWNSTREAM, "up")
    run("ip", "-n", HOST_NS, "link", "set", "eth0", "up")
    run("ip", "-n", HOST_NS, "addr", "add", f"{HOST}/80", "dev", "eth0", "nodad")
    run("ip", "-n", HOST_NS, "route", "add", "default", "via", GATEWAY)


def lab_down():
    for ns in (ROUTER_NS, SERVER_NS, HOST_NS):
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
    """The whole page, not just the window (Chromium's DevTools capture beyond the viewport).
    An open dialog taller than the window is laid out in the page for the capture, since
    its fixed overlay would otherwise cut it at the window's height."""
    import base64

    driver.execute_script("""
        window.scrollTo(0, 0);
        var o = document.getElementById('modal_overlay');
        if (o) {
            o.scrollTop = 0;
            o.style.position = 'absolute';
            o.style.bottom = 'auto';
            o.style.minHeight = '100%';
        }""")
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    driver.execute_script("var o = document.getElementById('modal_overlay'); if (o) o.removeAttribute('style');")
    path = DOCS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def uplink_view(driver):
    """What the status view shows for uplink wan, read in one go: the poll replaces the
    uplink's elements every second, so element handles would go stale."""
    return driver.execute_script("""
        var u = document.querySelector('.ndpr-uplink[data-uplink=wan]'), bars = {};
        u.querySelectorAll('.ndpr-drop').forEach(function (b) {
            bars[b.getAttribute('data-reason')] = +b.querySelector('.ndpr-count').textContent;
        });
        return {
            text: u.innerText,
            ns: +u.querySelector('.ndpr-ns').textContent,
            na: +u.querySelector('.ndpr-na').textContent,
            bars: bars,
            widths: [].map.call(u.querySelectorAll('.ndpr-bar'), function (b) {
                return b.getBoundingClientRect().width;
            })
        };""")


def is_stale(element):
    """True once element has left the page (the view redrew it)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True


def rpc(base, sid, obj, method, args):
    """The JSON-RPC reply's result list, or its error object."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call", "params": [sid, obj, method, args]})
    req = urllib.request.Request(base + "/ubus", body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        reply = json.loads(r.read())
    return reply["result"] if "result" in reply else reply["error"]


def denied(reply):
    """uhttpd refuses a call the session's ACL lacks (-32002); rpcd answers status 6."""
    return reply == [6] or (isinstance(reply, dict) and reply.get("code") == -32002)


def test_status(driver, router):
    from selenium.webdriver.common.by import By

    driver.get(router.url + "&view=ndpresponder/status")
    check("status view renders", wait_for("status view", lambda: driver.find_element(
        By.CSS_SELECTOR, "#view[data-ready] .ndpr-uplink[data-uplink=wan]")))
    view = lambda: uplink_view(driver)  # noqa: E731
    check("uplink wan shows as answering on wan0",
          all(s in view()["text"] for s in ("Answering", "wan0", "02:00:00:00:01:00")), view()["text"])
    check("ranges shown with the exclude", PREFIX in view()["text"] and f"except {EXCLUDED}/128" in view()["text"])
    before = view()["ns"]

    answered = [solicit(t) for t in (ANSWERED, OUT_OF_RANGE, EXCLUDED, OWN)]
    check("ndisc6: in-range and own address answered, out of range and excluded not",
          answered == [True, False, False, True], str(answered))
    # Two more out of range, so the bars differ in length.
    check("ndisc6: out of range stays unanswered", not any(solicit(OUT_OF_RANGE) for _ in range(2)))

    daemon = router.status()
    counters = daemon["uplinks"][0]["counters"]
    check("the daemon counted the six solicitations", counters["ns_received"] >= before + 6, str(counters))
    shown = wait_for("the poll to show the daemon's counters",
                     lambda: (lambda v: v if v["ns"] >= counters["ns_received"] else None)(view()), timeout=10)
    check("status view picks up the new counters by polling", shown)
    shown = shown or view()
    check("advertisements sent shown as the daemon counts them", shown["na"] == counters["na_sent"] >= 1,
          f"page {shown['na']}, daemon {counters['na_sent']}")
    expected = {k: v for k, v in counters["drops"].items() if v}
    check("one bar per drop reason that occurred, with the daemon's counts", shown["bars"] == expected,
          f"page {shown['bars']}, daemon {expected}")
    check("drop reasons include out of range, excluded and own address",
          {"out_of_range", "excluded", "own_address"} <= set(shown["bars"]), str(shown["bars"]))
    check("bars are drawn with a width", shown["widths"] and all(w > 0 for w in shown["widths"]), str(shown["widths"]))

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


def test_settings(driver, router):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(router.url + "&view=ndpresponder/settings")
    form = wait_for("settings form", lambda: driver.find_element(By.CSS_SELECTOR, "#view[data-ready] .cbi-map"))
    check("settings view renders the ndpresponder map", form)
    row = lambda: driver.find_element(By.CSS_SELECTOR, "tr[data-sid=wan]")  # noqa: E731
    check("uplink grid lists wan with device, interface and prefix",
          all(s in row().text for s in ("wan0", "wan", PREFIX)), row().text)
    level = driver.find_element(By.CSS_SELECTOR, "[data-name=log_level] select")
    check("global log level read from uci", level.get_attribute("value") == "info")
    if router.screenshots:
        check("screenshot docs/luci-settings.png", screenshot(driver, "luci-settings.png").stat().st_size > 10000)

    row().find_element(By.CSS_SELECTOR, ".cbi-button-edit").click()
    modal = wait_for("edit dialog", lambda: driver.find_element(By.CSS_SELECTOR, "#modal_overlay .modal"))
    check("edit dialog opens", modal)
    device = modal.find_element(By.CSS_SELECTOR, "[data-name=device] select")
    options = [o.get_attribute("value") for o in device.find_elements(By.TAG_NAME, "option")]
    # The device list comes from luci-rpc, LuCI's own rpcd plugin, which only the harness has.
    check("device picker offers the lab's devices" if router.has_luci_rpc else "device picker shows wan0",
          ("wan0" in options or not router.has_luci_rpc) and device.get_attribute("value") == "wan0", str(options))
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
    if router.screenshots:
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
    sid = driver.execute_script("return L.env.sessionid")
    staged = lambda: rpc(router.base, sid, "uci", "changes", {"config": "ndpresponder"})  # noqa: E731
    check("nothing staged before Save", staged() == [0, {"changes": []}], str(staged()))

    driver.find_element(By.CSS_SELECTOR, ".cbi-page-actions .cbi-button-save").click()
    changes = wait_for("uci changes", lambda: staged()[1]["changes"])
    expected = [["remove", "wan", "prefix"], ["list-add", "wan", "prefix", PREFIX],
                ["list-add", "wan", "prefix", NEW_PREFIX], ["set", "wan", "rate_limit", "500"]]
    check("Save stages exactly the expected uci changes", changes == expected, json.dumps(changes))
    errors = page_errors(driver)
    check("settings view: no page errors", not errors, str(errors))

    driver.find_element(By.CSS_SELECTOR, ".cbi-page-actions .cbi-button-apply").click()
    check("Save & Apply: nothing left staged", wait_for("apply", lambda: staged() == [0, {"changes": []}]),
          str(staged()))
    check("Save & Apply: the file holds the new values",
          f"list prefix '{NEW_PREFIX}'" in router.config_text() and "'500'" in router.config_text(),
          router.config_text())
    router.after_apply()
    applied = wait_for("the daemon to reload", lambda: (lambda st: st if st.get("reloads") == 1 else None)(
        router.status()))
    check("Save & Apply: the daemon reloaded the written file",
          applied and applied["uplinks"][0]["prefixes"] == [PREFIX, NEW_PREFIX]
          and applied["uplinks"][0]["rate_limit"] == 500, json.dumps(applied))
    check("the new prefix is answered on the wire", wait_for("answer for the new prefix",
                                                             lambda: solicit(OUT_OF_RANGE), timeout=5))


def test_follow_settings(driver, router):
    """The uplink follows br-lan's routes instead of a prefix: the dialog's new options with
    the daemon's defaults, its refusal of an uplink with no source of ranges, netifd
    interfaces accepted as one, the staged changes for the downstream device."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    row = lambda: driver.find_element(By.CSS_SELECTOR, "tr[data-sid=wan]")  # noqa: E731

    def dialog():
        driver.get(router.url + "&view=ndpresponder/settings")
        wait_for("settings form", lambda: driver.find_element(By.CSS_SELECTOR, "#view[data-ready] .cbi-map"))
        row().find_element(By.CSS_SELECTOR, ".cbi-button-edit").click()
        return wait_for("edit dialog", lambda: driver.find_element(By.CSS_SELECTOR, "#modal_overlay .modal"))

    def closed():
        return wait_for("dialog to close", lambda: not driver.find_elements(By.ID, "modal_overlay") and True)

    def clear_prefixes(modal):
        for remove in modal.find_elements(By.CSS_SELECTOR, "[data-name=prefix] .item .remove"):
            remove.click()

    modal = dialog()
    netifd = modal.find_element(By.CSS_SELECTOR, "[data-name=prefix_from]")
    offered = [d.get_attribute("data-value") for d in netifd.find_elements(By.CSS_SELECTOR, ".cbi-choice")]
    check("prefix_from: the network config's interfaces offered, none chosen",
          offered == ["wan", "lan"] and not netifd.find_elements(By.CSS_SELECTOR, "input:checked"), str(offered))
    clear_prefixes(modal)
    netifd.find_element(By.CSS_SELECTOR, ".cbi-choice[data-value=lan] input").click()
    modal.find_element(By.CSS_SELECTOR, ".cbi-button-positive").click()
    check("a netifd interface without a prefix is accepted", closed())
    check("grid shows the netifd interface", "lan" in row().find_element(
        By.CSS_SELECTOR, "[data-title='Prefixes from netifd']").text, row().text)

    # The dialog's values were never saved: a fresh page has the file's.
    modal = dialog()
    downstream = modal.find_element(By.CSS_SELECTOR, "[data-name=downstream]")
    offered = [d.get_attribute("data-value") for d in downstream.find_elements(By.CSS_SELECTOR, ".cbi-choice")]
    # Without luci-rpc (OpenWrt's own rpcd alone) there is no device list to offer.
    check("downstream: the lab's devices offered, none chosen" if router.has_luci_rpc
          else "downstream: nothing chosen",
          (DOWNSTREAM in offered and "lo" not in offered or not router.has_luci_rpc)
          and not downstream.find_elements(By.CSS_SELECTOR, "input:checked"), str(offered))
    hosts = Select(modal.find_element(By.CSS_SELECTOR, "[data-name=hosts] select"))
    words = [o.get_attribute("value") for o in hosts.options]
    check("hosts: unset (each origin's default) and the daemon's three words",
          words == ["", "any", "known", "probe"] and hosts.first_selected_option.get_attribute("value") == "",
          str(words))
    announce = modal.find_element(By.CSS_SELECTOR, "[data-name=announce] input[type=checkbox]")
    check("announce: off, the daemon's default", not announce.is_selected())

    def refusal(what):
        """Saves the dialog; the reason it was refused, or None when it closed."""
        before = len(driver.find_elements(By.CSS_SELECTOR, ".save-error"))
        modal.find_element(By.CSS_SELECTOR, ".cbi-button-positive").click()
        return wait_for(what, lambda: (lambda e: e[-1].text if len(e) > before else None)(
            driver.find_elements(By.CSS_SELECTOR, ".save-error")))

    # The rules the daemon applies across options, with a prefix still there.
    hosts.select_by_value("known")
    refused = refusal("the refusal of hosts 'known'")
    check("hosts 'known' without a downstream device: refused, saying why",
          refused and "need at least one downstream device or interface" in refused, refused)
    hosts.select_by_value("")
    announce.click()
    refused = refusal("the refusal of announce")
    check("announce without a downstream device: refused, saying why",
          refused and "Announcing needs at least one downstream device or" in refused, refused)
    announce.click()
    if router.has_luci_rpc:
        downstream.find_element(By.CSS_SELECTOR, ".cbi-choice[data-value=wan0] input").click()
    else:
        downstream.find_element(By.CSS_SELECTOR, ".create-item-input").send_keys("wan0", Keys.ENTER)
    refused = refusal("the refusal of the uplink as downstream")
    check("the uplink's own device as downstream: refused, saying why",
          refused and "own device cannot be a downstream device" in refused, refused)
    downstream.find_element(By.CSS_SELECTOR, ".cbi-choice[data-value=wan0] input").click()

    clear_prefixes(modal)
    refused = refusal("the refusal of no ranges")
    check("no prefix, downstream device or netifd interface: the dialog refuses to save, saying why",
          refused and "downstream devices" in refused and "netifd" in refused
          and driver.find_elements(By.ID, "modal_overlay"), refused)

    if router.has_luci_rpc:
        downstream.find_element(By.CSS_SELECTOR, f".cbi-choice[data-value='{DOWNSTREAM}'] input").click()
    else:
        downstream.find_element(By.CSS_SELECTOR, ".create-item-input").send_keys(DOWNSTREAM, Keys.ENTER)
    hosts.select_by_value("known")
    announce.click()
    if router.screenshots:
        check("screenshot docs/luci-settings-downstream.png",
              screenshot(driver, "luci-settings-downstream.png").stat().st_size > 10000)
    modal.find_element(By.CSS_SELECTOR, ".cbi-button-positive").click()
    check("a downstream device without a prefix is accepted", closed())
    check("grid shows the downstream device", DOWNSTREAM in row().text, row().text)

    sid = driver.execute_script("return L.env.sessionid")
    staged = lambda: rpc(router.base, sid, "uci", "changes", {"config": "ndpresponder"})  # noqa: E731
    before = row()
    driver.find_element(By.CSS_SELECTOR, ".cbi-page-actions .cbi-button-save").click()
    expected = [["list-add", "wan", "downstream", DOWNSTREAM], ["set", "wan", "hosts", "known"],
                ["set", "wan", "announce", "1"], ["remove", "wan", "prefix"]]
    # Save makes two calls (set, then delete), then reloads the config and redraws the
    # grid; Save & Apply before that would send the same changes again.
    wait_for("the grid redrawn after Save", lambda: is_stale(before))
    changes = staged()[1]["changes"]
    check("Save stages exactly the downstream, hosts and announce changes", changes == expected,
          json.dumps(changes))
    driver.find_element(By.CSS_SELECTOR, ".cbi-page-actions .cbi-button-apply").click()
    check("Save & Apply: nothing left staged", wait_for("apply", lambda: staged() == [0, {"changes": []}]),
          str(staged()))
    text = router.config_text()
    check("Save & Apply: the file holds the downstream, hosts and announce, no prefix",
          all(s in text for s in (f"list downstream '{DOWNSTREAM}'", "option hosts 'known'", "option announce '1'"))
          and "list prefix" not in text, text)
    router.after_apply()
    routed = {"range": ROUTED, "origin": "route", "device": DOWNSTREAM, "hosts": "known"}
    applied = wait_for("the daemon to follow br-lan", lambda: (lambda st: st if st.get("reloads") == 2 and routed in st[
        "uplinks"][0].get("ranges", []) else None)(router.status()))
    check("the daemon reloaded and follows the route via br-lan", applied, json.dumps(router.status()))


def test_follow_status(driver, router):
    """The routed range on the status page with its origin, the host behind br-lan known,
    answered and announced, and explain's reasons for the addresses it does not answer."""
    from selenium.webdriver.common.by import By

    check("the host behind br-lan reaches the server (its neighbour entry appears)",
          run("ip", "netns", "exec", HOST_NS, "ping", "-6", "-n", "-c", "1", "-W", "2", GATEWAY,
              check_rc=False).returncode == 0)
    check("ndisc6: the known host answered, an address nobody has not",
          wait_for("answer for the known host", lambda: solicit(HOST), timeout=5) and not solicit(NOBODY))
    daemon = router.status()
    u = daemon["uplinks"][0]
    check("the daemon knows the host and announced it",
          u.get("known_hosts") == 1 and u.get("announcements", {}).get("sent", 0) >= 1, json.dumps(u))

    driver.get(router.url + "&view=ndpresponder/status")
    check("status view renders", wait_for("status view", lambda: driver.find_element(
        By.CSS_SELECTOR, "#view[data-ready] .ndpr-uplink[data-uplink=wan]")))
    shown = wait_for("the routed range", lambda: driver.execute_script("""
        var u = document.querySelector('.ndpr-uplink[data-uplink=wan]');
        return {
            ranges: [].map.call(u.querySelectorAll('.ndpr-range'), function (r) { return r.textContent; }),
            known: u.querySelector('.ndpr-known').textContent,
            announced: u.querySelector('.ndpr-announcements').textContent,
            hosts: document.querySelector('.ndpr-hosts').textContent,
            routes: document.querySelector('.ndpr-routes').textContent,
            text: u.innerText
        };"""))
    shown = shown or {}
    check("the routed range shown with its origin and hosts policy",
          shown.get("ranges") == [f"{ROUTED} \u2014 route via {DOWNSTREAM}, known hosts"], str(shown.get("ranges")))
    check("known hosts and announcements shown as the daemon counts them",
          shown.get("known") == "1" and f"sent {u['announcements']['sent']}" in shown.get("announced", "")
          and f"sweeps of every host {u['announcements']['sweeps']}" in shown.get("announced", ""),
          str(shown))
    check("route and neighbour tables shown with their limits",
          f"of {daemon['routes']['limit']}" in shown.get("routes", "")
          and f"of {daemon['hosts']['limit']}" in shown.get("hosts", ""), str(shown))
    check("the downstream device listed", f"Downstream devices\t{DOWNSTREAM}" in shown.get("text", ""),
          shown.get("text"))
    bars = wait_for("the unknown_host bar", lambda: driver.find_element(
        By.CSS_SELECTOR, ".ndpr-uplink[data-uplink=wan] .ndpr-drop[data-reason=unknown_host]").text)
    check("the NS for an unknown host counted under its label", bars and "No such host known downstream" in bars,
          bars)

    def explain(address):
        box = driver.find_element(By.ID, "ndpr-explain-address")
        box.clear()
        box.send_keys(address)
        driver.find_element(By.ID, "ndpr-explain-button").click()
        return wait_for(f"explanation of {address}", lambda: (lambda r: r.text if address in r.get_attribute(
            "data-address") else None)(driver.find_element(By.CSS_SELECTOR, "#ndpr-explain-result table")))

    res = explain(NOBODY)
    check("explain: an address nobody has in the routed range, the daemon's reason and the range's origin",
          res and f"hosts 'known', and no neighbour entry on {DOWNSTREAM}" in res and f"{ROUTED} \u2014 route via {DOWNSTREAM}"
          in res and "wan (wan0)" in res, res)
    res = explain(OUT_OF_RANGE)
    check("explain: an address routed to the uplink", res and "route points at the uplink" in res, res)
    res = explain(HOST)
    check("explain: the known host answered", res and "covered" in res and "yes" in res, res)
    res = explain(NOBODY)
    errors = page_errors(driver)
    check("status view: no page errors", not errors, str(errors))
    if router.screenshots:
        check("screenshot docs/luci-status.png", screenshot(driver, "luci-status.png").stat().st_size > 10000)


def test_acl(router):
    base, anon = router.base, "0" * 32
    reply = rpc(base, anon, "ndpresponder", "status", {})
    check("a call without a session is refused", denied(reply), str(reply))
    check("login with a wrong password is refused",
          denied(rpc(base, anon, "session", "login", {"username": "root", "password": "wrong"})))
    login = rpc(base, anon, "session", "login", {"username": "root", "password": router.password})
    check("login as root", login[0] == 0, str(login))
    sid = login[1]["ubus_rpc_session"]
    reply = rpc(base, sid, "ndpresponder", "status", {})
    check("the app's ACL grants status", reply[0] == 0 if isinstance(reply, list) else False, str(reply))
    check("the app's ACL does not grant other uci configs", denied(rpc(base, sid, "uci", "get", {"config": "system"})))
    check("the app's ACL does not grant other ndpresponder methods",
          denied(rpc(base, sid, "ndpresponder", "shutdown", {})))


class HarnessRouter:
    """The daemon on TinyUbusd, JSON-RPC answered by tests/luci/server.py."""

    screenshots = True
    has_luci_rpc = True

    def __init__(self, tmp, binary):
        self.procs, self.ubusd, self.httpd = [], None, None
        self.uci_dir = tmp / "config"
        self.uci_dir.mkdir()
        (self.uci_dir / "ndpresponder").write_text(UCI_NDPRESPONDER)
        (self.uci_dir / "network").write_text(UCI_NETWORK)
        self.ubusd = server.TinyUbusd(tmp / "ubus.sock")
        self.log = tmp / "daemon.log"
        with open(self.log, "w") as log:
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", SERVER_NS, binary, "-c", str(self.uci_dir), "-s", str(tmp / "ubus.sock"), "-f"],
                stdout=log, stderr=subprocess.STDOUT))
        check("daemon registers its ubus object",
              self.ubusd.registered.wait(10) and self.ubusd.object == "ndpresponder")
        self.password = os.urandom(8).hex()
        self.httpd = server.serve(server.Backend(self.uci_dir, self.ubusd, SERVER_NS, self.password))
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.url = f"{self.base}/?password={self.password}"

    def status(self):
        return self.ubusd.call("ndpresponder", "status", {})[1] or {}

    def config_text(self):
        return (self.uci_dir / "ndpresponder").read_text()

    def after_apply(self):
        """server.py's apply already had the daemon reload."""

    def close(self):
        if self.httpd:
            self.httpd.shutdown()
        stop(self.procs)
        if self.ubusd:
            self.ubusd.close()


class OpenWrtRouter:
    """OpenWrt's own ubusd, rpcd and uhttpd (with its ubus JSON-RPC handler), run chrooted
    in a copy of an OpenWrt userland stage: login, ACLs and uci staging are rpcd's. Only
    the daemon runs in the lab's server namespace; the ubus socket is shared through the
    file system."""

    screenshots = False
    has_luci_rpc = False

    def __init__(self, tmp, binary, stage):
        import warnings

        with warnings.catch_warnings():
            # Python 3.13 drops crypt; rpcd's login checks a crypt(3) hash.
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt

        self.procs = []
        self.root = tmp / "root"
        shutil.copytree(stage, self.root, symlinks=True)
        r = self.root
        for d in ("etc", "etc/config", "usr/sbin", "usr/share/rpcd/acl.d", "www", "dev", "tmp"):
            (r / d).mkdir(parents=True, exist_ok=True)
            (r / d).chmod(0o755)
        for name, minor in (("null", 3), ("random", 8), ("urandom", 9)):
            if not (r / "dev" / name).exists():
                os.mknod(r / "dev" / name, 0o666 | 0o020000, os.makedev(1, minor))
        (r / "tmp/run/ubus").mkdir(parents=True, exist_ok=True)
        (r / "etc/config/ndpresponder").write_text(UCI_NDPRESPONDER)
        (r / "etc/config/network").write_text(UCI_NETWORK)
        self.password = os.urandom(8).hex()
        # Root may use the app's ACL group and what luci-base would grant, nothing else.
        (r / "etc/config/rpcd").write_text(
            "config rpcd\n\toption socket /var/run/ubus/ubus.sock\n\toption timeout 30\n\n"
            f"config login\n\toption username 'root'\n"
            f"\toption password '{crypt.crypt(self.password, crypt.mksalt(crypt.METHOD_SHA512))}'\n"
            + "".join(f"\tlist {m} '{g}'\n" for m in ("read", "write")
                      for g in ("luci-app-ndpresponder", "test-luci-base")))
        shutil.copy(server.ACL_FILE, r / "usr/share/rpcd/acl.d")
        (r / "usr/share/rpcd/acl.d/test-luci-base.json").write_text(json.dumps(LUCI_BASE_ACL, indent="\t"))
        shutil.copytree(server.APP / "htdocs", r / "www", dirs_exist_ok=True)
        shutil.copytree(server.HERE / "harness", r / "www/harness", dirs_exist_ok=True)
        shutil.copy(server.HERE / "harness/index.html", r / "www/index.html")
        shutil.copy(binary, r / "usr/sbin/ndpresponder")
        # The test build links glibc dynamically; the stage has the host's glibc but not
        # necessarily every library the binary names.
        for lib in re.findall(r"(/\S+\.so[.\d]*)", run("ldd", binary).stdout):
            if not (r / lib.lstrip("/")).exists():
                (r / lib.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(lib, r / lib.lstrip("/"))
        self.log = tmp / "daemon.log"
        with open(self.log, "w") as log:
            sock = "/var/run/ubus/ubus.sock"
            self.start(log, "/usr/sbin/ubusd", "-s", sock)
            wait_for("ubusd", lambda: (r / "tmp/run/ubus/ubus.sock").exists(), timeout=5)
            self.start(log, "/usr/sbin/rpcd", "-s", sock)
            port = free_port()
            self.start(log, "/usr/bin/uhttpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www", "-u", "/ubus",
                       "-U", sock)
            self.start(log, "/usr/sbin/ndpresponder", "-f", netns=SERVER_NS)
        check("daemon registers on OpenWrt's ubusd", wait_for("ndpresponder on ubus", lambda: self.ubus(
            "list", "ndpresponder").returncode == 0))
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/?password={self.password}"
        check("uhttpd answers", wait_for("uhttpd", lambda: urllib.request.urlopen(self.base + "/", timeout=2)))

    def start(self, log, *cmd, netns=None):
        prefix = ["ip", "netns", "exec", netns] if netns else []
        self.procs.append(subprocess.Popen(prefix + ["chroot", str(self.root), *cmd],
                                           stdout=log, stderr=subprocess.STDOUT))

    def ubus(self, *args):
        return run("chroot", str(self.root), "/usr/bin/ubus", *args, check_rc=False)

    def status(self):
        r = self.ubus("call", "ndpresponder", "status")
        return json.loads(r.stdout) if r.returncode == 0 else {}

    def config_text(self):
        return (self.root / "etc/config/ndpresponder").read_text()

    def after_apply(self):
        """rpcd announces the change to procd's service object, whose reload trigger runs
        the init script's reload; without procd here, do what that reload does."""
        self.ubus("call", "ndpresponder", "reload")

    def close(self):
        stop(self.procs)


# What luci-base's ACL grants every LuCI user and the views rely on: the uci object's
# methods (each config still needs its own grant) and reading the network config.
LUCI_BASE_ACL = {"test-luci-base": {
    "description": "the part of luci-base's grants the views use",
    "read": {"ubus": {"uci": ["changes", "get"]}, "uci": ["network"]},
    "write": {"ubus": {"uci": ["add", "apply", "confirm", "delete", "order", "rename", "revert", "set"]}},
}}


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(procs):
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def suite(router, tmp):
    check("daemon arms the uplink", wait_for("armed uplink", lambda: router.status()["uplinks"][0]["state"] == "armed"))
    test_acl(router)
    driver = browser(tmp / "profile")
    try:
        test_status(driver, router)
        test_settings(driver, router)
        test_follow_settings(driver, router)
        test_follow_status(driver, router)
    finally:
        driver.quit()


def run_mode(label, make_router):
    global LABEL
    LABEL = label
    tmp = Path(tempfile.mkdtemp(prefix=f"ndpr-luci-{PID}-"))
    router = None
    before = failed
    try:
        lab_up()
        router = make_router(tmp)
        suite(router, tmp)
    except Exception as e:  # noqa: BLE001 - reported as a failure, then cleaned up
        import traceback

        traceback.print_exc()
        check("test ran to the end", False, repr(e))
    finally:
        if router:
            router.close()
        lab_down()
        if failed > before and (tmp / "daemon.log").exists():
            print("daemon log:\n" + (tmp / "daemon.log").read_text())
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = str(Path(sys.argv[1]).resolve())
    missing = preflight(binary)
    if missing:
        print("SKIPPED: luci browser test needs " + ", ".join(missing))
        print("luci: 0 passed, 0 failed")
        return 0
    run_mode("", lambda tmp: HarnessRouter(tmp, binary))
    if (OPENWRT_STAGE / "usr/bin/uhttpd").exists() and (OPENWRT_STAGE / "usr/sbin/rpcd").exists():
        run_mode("[uhttpd+rpcd] ", lambda tmp: OpenWrtRouter(tmp, binary, OPENWRT_STAGE))
    else:
        print(f"SKIPPED: the pass through OpenWrt's uhttpd and rpcd needs their build in {OPENWRT_STAGE}")
    print(f"luci: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
