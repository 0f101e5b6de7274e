"""report_latency.py PORT TOKEN SITE — p50/p95 latency of the reports API
over a 365-day range: the articles list (sorted two ways), one article's
detail and the summary, each requested sequentially on one keep-alive
connection. Prints one line per report with the issue's target."""
import datetime
import json
import sys

from benchlib import timed_gets

port, token, site = int(sys.argv[1]), sys.argv[2], sys.argv[3]
to = datetime.datetime.now(datetime.timezone.utc).date()
frm = to - datetime.timedelta(days=364)
q = f"from={frm}&to={to}"


def run(path, n):
    return timed_gets(port, path, token, n, timeout=60)


def show(name, p50, p95, target):
    verdict = "ok" if p95 <= target else "OVER"
    print(f"  {name:<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
          f"target p95 <= {target} ms: {verdict}")


base = f"/api/v1/sites/{site}"
run(f"{base}/articles?{q}", 3)                       # warm the page cache
p50, p95, body = run(f"{base}/articles?{q}", 40)
total = json.loads(body)["total"]
show(f"articles, 365 d ({total})", p50, p95, 50)
p50, p95, _ = run(f"{base}/articles?{q}&sort=engaged_p50", 20)
show("articles by median, 365 d", p50, p95, 50)
# The worst case for the cumulative rows: a range that ends before the last
# settled day and whose previous period lies inside the data, so that every
# article needs three cum lookups (range end, range start, previous start).
mid_to = to - datetime.timedelta(days=111)
mid = f"from={mid_to - datetime.timedelta(days=89)}&to={mid_to}"
p50, p95, _ = run(f"{base}/articles?{mid}", 20)
show("articles, 90 d 111-200 d ago", p50, p95, 50)
aid = json.loads(body)["articles"][0]["id"]
p50, p95, _ = run(f"{base}/articles/{aid}?{q}", 40)
show("article detail, 365 d", p50, p95, 20)
p50, p95, _ = run(f"{base}/summary?{q}", 10)
show("summary, 365 d", p50, p95, 100)
