#!/usr/bin/env python3
"""Attributes the CPU samples of an async-profiler collapsed-stack file to reqctx components.

    profile-cost.py <collapsed file> <requests served while profiling> <interval in ns>

A sample is reqctx's own when, walking its stack from the thread's root to the leaf, the last
reqctx frame is not followed by a hand-off back to the application: the servlet filter chain
(reqctx's filter calls the rest of the chain, whose work is not reqctx's), or a JDBC pool or
driver that a reqctx wrapper delegates to. Everything reqctx calls itself (SLF4J's MDC,
Micrometer, the tracer, locks, clocks) counts as reqctx's. The component is the first of the
markers below found among the reqctx frames of the sample, so that the timer work done while
completing a request counts as the timer's.

Prints the total CPU per request, reqctx's per request and per component, in microseconds.

    profile-cost.py --pool <output folder>...

pools every profile of several runs of profile-cost.sh (plain or gzipped collapsed files).
"""
import gzip
import os
import re
import sys

HANDOFFS = (
    "org.apache.catalina.core.ApplicationFilterChain.",
    "com.zaxxer.hikari.",
    "org.postgresql.",
    "org/h2/",
)

# The sample's own code (its controllers) is the application's, not reqctx's.
APPLICATION = "dev.reqctx.sample."

# The benchmarks' do-nothing filter (added with SERVER_ARGS, see profile-cost.sh): what any filter
# in reqctx's place costs, counted on its own line and not as reqctx's.
CONTROL = "dev.reqctx.benchmarks.load.NoopFilter"
CONTROL_LINE = "empty filter (control)"

# (component, frame prefixes), first match wins.
COMPONENTS = (
    ("MDC binding", ("dev.reqctx.logging.",)),
    ("tracing", ("dev.reqctx.tracing.",)),
    ("meters", ("dev.reqctx.actuate.ContextMeters",)),
    ("deadline timer", ("dev.reqctx.DeadlineTimer",)),
    ("client-gone detector", ("dev.reqctx.web.ClientGoneDetector", "dev.reqctx.web.TomcatConnections")),
    ("completion", ("dev.reqctx.web.RequestContextFilter.complete", "dev.reqctx.CancellableContext.cancel",
                    "dev.reqctx.CancellableContext.close")),
    ("live registry", ("dev.reqctx.LiveContexts",)),
    ("request id and budget", ("dev.reqctx.spi.RequestIds", "dev.reqctx.web.InboundBudget")),
    ("context creation", ("dev.reqctx.spi.Contexts.newRoot", "dev.reqctx.CancellableContext.",
                          "dev.reqctx.RequestContext.with")),
    ("binding (attach)", ("dev.reqctx.Scope", "dev.reqctx.RequestContext.attach")),
)


def component(frames):
    for name, prefixes in COMPONENTS:
        for frame in frames:
            if frame.startswith(prefixes):
                return name
    return "filter, other"


def attribute(path, own):
    """Adds the samples of one collapsed file to own, by component; returns the file's total."""
    total = 0
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            # async-profiler 4 names Java frames with dots, older versions with slashes.
            frames = stack.replace("/", ".").split(";")
            inside = []
            for frame in frames:
                if frame.startswith("dev.reqctx.") and not frame.startswith(APPLICATION):
                    inside.append(frame)
                elif inside and frame.startswith(HANDOFFS):
                    inside = []
            if inside:
                control = any(frame.startswith(CONTROL) for frame in inside)
                name = CONTROL_LINE if control else component(inside)
                own[name] = own.get(name, 0) + n
    return total


def report(own, total, requests, interval_ns):
    per_request = lambda samples: samples * interval_ns / 1000.0 / requests
    share = lambda samples: 100.0 * samples / total if total else 0
    control = own.pop(CONTROL_LINE, None)
    mine = sum(own.values())
    print("samples %d, requests %d, interval %d ns" % (total, requests, interval_ns))
    print("%-24s %8.3f us/request" % ("server total", per_request(total)))
    print("%-24s %8.3f us/request (%.2f%% of the total)" % ("reqctx own frames", per_request(mine), share(mine)))
    for name, samples in sorted(own.items(), key=lambda item: -item[1]):
        print("  %-22s %8.3f us/request (%d samples, %.3f%%)" % (name, per_request(samples), samples,
                                                                 share(samples)))
    if control is not None:
        print("%-24s %8.3f us/request (%d samples, %.3f%%), not in reqctx's" % (CONTROL_LINE, per_request(control),
                                                                               control, share(control)))
        own[CONTROL_LINE] = control


def pool(directories):
    """All the profiles of several runs' output folders as one: on a machine whose speed drifts
    between profiles, pooled samples and the share of the total compare builds better than any
    single profile."""
    own, total, requests, interval_ns, profiles = {}, 0, 0, None, 0
    for directory in directories:
        with open(os.path.join(directory, "summary.txt")) as summary:
            runs = re.findall(r"samples \d+, requests (\d+), interval (\d+) ns", summary.read())
        for i, (served, interval) in enumerate(runs, 1):
            path = os.path.join(directory, "profile%d.collapsed" % i)
            if not os.path.exists(path):
                path += ".gz"
            total += attribute(path, own)
            requests += int(served)
            interval_ns = int(interval)
            profiles += 1
    print("# %d profiles pooled from %s" % (profiles, " ".join(directories)))
    report(own, total, requests, interval_ns)


def main():
    if sys.argv[1] == "--pool":
        pool(sys.argv[2:])
        return
    path, requests, interval_ns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    own = {}
    total = attribute(path, own)
    report(own, total, requests, interval_ns)


if __name__ == "__main__":
    main()
