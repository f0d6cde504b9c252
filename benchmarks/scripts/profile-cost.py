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
"""
import sys

HANDOFFS = (
    "org.apache.catalina.core.ApplicationFilterChain.",
    "com.zaxxer.hikari.",
    "org.postgresql.",
    "org/h2/",
)

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
    ("request id and budget", ("dev.reqctx.web.RequestIds", "dev.reqctx.web.InboundBudget")),
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


def main():
    path, requests, interval_ns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    total = 0
    own = {}
    with open(path) as lines:
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
                if frame.startswith("dev.reqctx."):
                    inside.append(frame)
                elif inside and frame.startswith(HANDOFFS):
                    inside = []
            if inside:
                name = component(inside)
                own[name] = own.get(name, 0) + n
    per_request = lambda samples: samples * interval_ns / 1000.0 / requests
    mine = sum(own.values())
    print("samples %d, requests %d, interval %d ns" % (total, requests, interval_ns))
    print("%-24s %8.3f us/request" % ("server total", per_request(total)))
    print("%-24s %8.3f us/request (%.1f%% of the total)" % ("reqctx own frames", per_request(mine),
                                                           100.0 * mine / total if total else 0))
    for name, samples in sorted(own.items(), key=lambda item: -item[1]):
        print("  %-22s %8.3f us/request (%d samples)" % (name, per_request(samples), samples))


if __name__ == "__main__":
    main()
