#!/usr/bin/env python3
"""Reads the execution samples jfr-diff.sh printed and compares reqctx on with off.

For each method: in how many samples (per 1,000 requests) it is on the stack, in both modes,
and the difference. Also the samples whose stack holds a dev.reqctx frame without the filter
chain above it: the time spent in reqctx's own code (and what it calls), by its outermost
reqctx method.
"""
import collections
import gzip
import re
import sys

out = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 40


def requests(mode):
    with open(f"{out}/wrk-reqctx-{mode}.txt") as f:
        for line in f:
            m = re.match(r"\s*(\d+) requests in", line)
            if m:
                return int(m.group(1))
    raise SystemExit(f"no request count in {out}/wrk-reqctx-{mode}.txt")


def samples(mode):
    stack, thread, inside = [], None, False
    with gzip.open(f"{out}/samples-reqctx-{mode}.txt.gz", "rt") as f:
        for line in f:
            line = line.strip()
            if line.startswith("jdk.ExecutionSample"):
                stack, thread = [], None
            elif line.startswith("sampledThread ="):
                thread = line.split("=", 1)[1].strip().strip('"').split('"')[0]
            elif line.startswith("stackTrace = ["):
                inside = True
            elif inside and line == "]":
                inside = False
                yield thread, stack
            elif inside and line != "...":
                stack.append(re.sub(r"\s+line:.*$", "", line))


def profile(mode):
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for thread, stack in samples(mode):
        total += 1
        for method in set(stack):
            inclusive[method] += 1
        # Leaf first: reqctx's own work is a dev.reqctx frame with no filter chain call above it.
        for i, frame in enumerate(stack):
            if frame.startswith("dev.reqctx."):
                above = stack[:i]
                if not any("FilterChain.doFilter" in f or "DispatcherServlet" in f for f in above):
                    outermost = frame
                    for f in stack[i:]:
                        if "FilterChain.doFilter" in f:
                            break
                        if f.startswith("dev.reqctx."):
                            outermost = f
                    own[outermost] += 1
                break
    return inclusive, own, total


on_n, off_n = requests("true"), requests("false")
on_inc, on_own, on_total = profile("true")
off_inc, off_own, off_total = profile("false")
scale_on, scale_off = 1000 / on_n, 1000 / off_n
print(f"requests recorded: reqctx on {on_n}, off {off_n}; samples: on {on_total} ({on_total * scale_on:.1f} per 1,000 requests), "
      f"off {off_total} ({off_total * scale_off:.1f} per 1,000 requests)")
print(f"\n== reqctx's own code (samples per 1,000 requests; 1 sample = 1 ms of one thread): "
      f"{sum(on_own.values()) * scale_on:.2f} in total")
for method, n in on_own.most_common(top):
    print(f"{n * scale_on:8.2f}  {method}")
print("\n== inclusive samples per 1,000 requests, largest increase with reqctx on")
print(f"{'on':>8} {'off':>8} {'diff':>8}  method")
rows = []
for method in set(on_inc) | set(off_inc):
    a, b = on_inc[method] * scale_on, off_inc[method] * scale_off
    rows.append((a - b, a, b, method))
for d, a, b, method in sorted(rows, reverse=True)[:top]:
    print(f"{a:8.2f} {b:8.2f} {d:+8.2f}  {method}")
