#!/usr/bin/env python3
"""Checks the connection budget of a rendered overlay; run by deploy/validate.sh.

Every pod of a gRPC service holds up to its pool (YICIBAN_DB_MAX_CONNECTIONS,
10 when unset) plus one connection of the outbox relay's lock (the workbench,
a web application, only its pool), and a service
runs at most its HPA's maxReplicas plus the rolling update's maxSurge pods.
Summed over the services, that must fit in the Postgres Cluster's
max_connections minus the slots Postgres keeps for superusers
(superuser_reserved_connections, 3 when unset; reserved_connections, 0 when
unset) and OPS_HEADROOM for operators (psql, casectl, the operator's own
checks). Otherwise, at the autoscaling maximum, new connections are refused
and calls fail (docs/DEPLOY.md, "Connection budget").

Usage: check_connections.py RENDERED.yaml
"""
import math
import sys

import yaml

CLUSTER = "yiciban-pg"
# what the services use when YICIBAN_DB_MAX_CONNECTIONS is unset (platform config.rs)
DEFAULT_POOL = 10
# the outbox relay's advisory lock holds one connection outside the pool
# (counted for every service: an upper bound)
RELAY_LOCK = 1
# connections left for people and tools: psql sessions, casectl, the operator's probes
OPS_HEADROOM = 20
PG_DEFAULTS = {"max_connections": 100, "superuser_reserved_connections": 3, "reserved_connections": 0}


def int_of(value, what):
    try:
        return int(str(value).strip())
    except ValueError:
        raise SystemExit(f"check_connections: {what} is {value!r}, not a whole number")


def surge(deployment, replicas):
    rolling = deployment["spec"].get("strategy", {})
    if rolling.get("type") == "Recreate":
        return 0
    value = rolling.get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int_of(value[:-1], "maxSurge") / 100)
    return int_of(value, "maxSurge")


def pool_size(deployment, config_maps):
    """YICIBAN_DB_MAX_CONNECTIONS as the container sees it: env over envFrom,
    a later envFrom over an earlier one."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    value = None
    for source in container.get("envFrom", []):
        data = (config_maps.get(source.get("configMapRef", {}).get("name")) or {}).get("data") or {}
        value = data.get("YICIBAN_DB_MAX_CONNECTIONS", value)
    for e in container.get("env", []):
        if e.get("name") == "YICIBAN_DB_MAX_CONNECTIONS":
            if "value" not in e:
                raise SystemExit(f"check_connections: {deployment['metadata']['name']}: "
                                 "YICIBAN_DB_MAX_CONNECTIONS must be a plain value (the budget is checked offline)")
            value = e["value"]
    return DEFAULT_POOL if value is None else int_of(value, "YICIBAN_DB_MAX_CONNECTIONS")


def main(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by = {}
    for d in docs:
        by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    cluster = by.get("Cluster", {}).get(CLUSTER)
    if not cluster:
        print(f"check_connections: {path}: no Cluster {CLUSTER}: no budget to check")
        return 0
    params = dict(PG_DEFAULTS)
    for key, value in (cluster["spec"].get("postgresql", {}).get("parameters") or {}).items():
        if key in params:
            params[key] = int_of(value, key)
    room = params["max_connections"] - params["superuser_reserved_connections"] - params["reserved_connections"]
    budget = room - OPS_HEADROOM

    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by.get("HorizontalPodAutoscaler", {}).values()}
    config_maps = by.get("ConfigMap", {})
    lines, total = [], 0
    for name, d in sorted(by.get("Deployment", {}).items()):
        component = d["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        if component not in ("grpc-service", "web"):
            continue
        # the web applications (the workbench) run no outbox relay
        lock = RELAY_LOCK if component == "grpc-service" else 0
        hpa = hpas.get(name)
        most = hpa["spec"]["maxReplicas"] if hpa else d["spec"].get("replicas", 1)
        pods = most + surge(d, most)
        pool = pool_size(d, config_maps)
        need = pods * (pool + lock)
        total += need
        lines.append(f"{name} {pods} pods ({most} + surge) x ({pool} pool + {lock} relay lock) = {need}")

    summary = (f"{total} connections at the autoscaling maximum; budget {budget} = max_connections "
               f"{params['max_connections']} - superuser_reserved_connections {params['superuser_reserved_connections']}"
               f" - reserved_connections {params['reserved_connections']} - {OPS_HEADROOM} for operators")
    if total > budget:
        print(f"check_connections: {path}: OVER BUDGET: {summary}", file=sys.stderr)
        for line in lines:
            print(f"check_connections:   {line}", file=sys.stderr)
        print("check_connections:   lower YICIBAN_DB_MAX_CONNECTIONS or the HPAs' maxReplicas, or raise "
              "max_connections (docs/DEPLOY.md, \"Connection budget\")", file=sys.stderr)
        return 1
    print(f"check_connections: {path}: {summary}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1]))
