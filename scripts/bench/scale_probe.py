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


def summary(values, at):
    """Percentiles, and the three slowest samples as [seconds into the run, ms]."""
    slowest = sorted(zip(values, at), reverse=True)[:3]
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": round(max(values), 2) if values else None,
            "slowest": [[t, round(ms, 1)] for ms, t in slowest], "all": [round(v, 2) for v in values]}


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
    page_at, api_at = [], []  # when each sample began, seconds into the run
    started = time.monotonic()
    run = None
    while time.monotonic() - started < timeout:
        for url, into, at in ((page_url, page_ms, page_at), (api_url, api_ms, api_at)):
            began = round(time.monotonic() - started, 2)
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
            at.append(began)
            if url == api_url:
                run = json.loads(body)
        if run is not None:
            progress.append([round(time.monotonic() - started, 3), run["summary_counts"]["processed"]])
            if run["status"] == "completed":
                break
        time.sleep(0.05)
    print(json.dumps({
        "page_ms": summary(page_ms, page_at),
        "api_ms": summary(api_ms, api_at),
        "errors": errors,
        "progress": progress,
        "run": run,
    }))


if __name__ == "__main__":
    main()
