"""Signs in to the console and, while a run goes, times the View run page
(GET /system/runs/{id}) and GET /system/api/runs/{id} one request at a time.
It signs in first, then waits for RUN_FILE (the run as `runbooks run --json`
printed it) to appear. Prints one JSON object: latency percentiles of each,
the run's progress samples, and the run as the API answered it at completion.
  scale_probe.py BASE RUN_FILE EMAIL PASSWORD_FILE [TIMEOUT_SECONDS]"""
import os
import http.cookiejar
import json
import re
import sys
import time
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return round(ordered[rank], 2)


def main():
    base, run_file, email, password_file = sys.argv[1:5]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 1800.0
    password = open(password_file).read().strip()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    login = f"{base}/system/login"
    html = opener.open(login).read().decode()
    token = re.search(r'name="_token" value="([^"]*)"', html).group(1)
    form = urllib.parse.urlencode({"_token": token, "email": email, "password": password}).encode()
    try:
        opener.open(urllib.request.Request(login, data=form, headers={"Origin": base}))
        raise SystemExit("sign-in did not redirect")
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise SystemExit(f"sign-in answered {e.code}")

    waited = time.monotonic()
    while not os.path.exists(run_file):
        if time.monotonic() - waited > 600:
            raise SystemExit(f"no run in {run_file}")
        time.sleep(0.01)
    run_id = json.load(open(run_file))["id"]
    page_url = f"{base}/system/runs/{run_id}"
    api_url = f"{base}/system/api/runs/{run_id}"
    page_ms, api_ms, progress, errors = [], [], [], 0
    started = time.monotonic()
    run = None
    while time.monotonic() - started < timeout:
        for url, into in ((page_url, page_ms), (api_url, api_ms)):
            t0 = time.perf_counter()
            try:
                with opener.open(url) as r:
                    body = r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                body, status = b"", e.code
            elapsed = (time.perf_counter() - t0) * 1000.0
            if status != 200:
                errors += 1
                continue
            into.append(elapsed)
            if url == api_url:
                run = json.loads(body)
        if run is not None:
            progress.append([round(time.monotonic() - started, 3), run["summary_counts"]["processed"]])
            if run["status"] == "completed":
                break
        time.sleep(0.05)
    print(json.dumps({
        "page_ms": {"n": len(page_ms), "p50": percentile(page_ms, 50), "p99": percentile(page_ms, 99),
                    "max": round(max(page_ms), 2) if page_ms else None},
        "api_ms": {"n": len(api_ms), "p50": percentile(api_ms, 50), "p99": percentile(api_ms, 99),
                   "max": round(max(api_ms), 2) if api_ms else None},
        "errors": errors,
        "progress": progress,
        "run": run,
    }))


if __name__ == "__main__":
    main()
