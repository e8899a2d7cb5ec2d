#!/usr/bin/env python3
"""Checks the CloudNativePG resources of a rendered overlay (the ledger's
Cluster, its backups, a point-in-time restore); run by deploy/validate.sh.

No JSON schema of the CloudNativePG CRDs is reachable offline (no PyPI or npm
package ships them), so validate.sh lets the kinds of postgresql.cnpg.io
through the Kubernetes schema check unchecked, and this does what the schema
would for the parts we rely on — the field names (a typo is refused, not
silently ignored by the operator), their types and allowed values — and what
no schema can: where the backups go, that credentials come from a Secret,
that a ScheduledBackup backs up a Cluster that has a backup configuration, and
that a restored cluster never archives into the directory it restores from.
The allowed fields are those of CloudNativePG 1.25 .. 1.31 (API
postgresql.cnpg.io/v1) that this project uses or may; docs/DEPLOY.md,
"Backups and restore".

Usage: check_cnpg.py RENDERED.yaml [--backups] [--restore]
  --backups  the Cluster yiciban-pg must archive WAL and take scheduled base
             backups (prod)
  --restore  the Cluster yiciban-pg must be bootstrapped by a point-in-time
             recovery from its own object store (the pg-restore component)
"""
import datetime
import re
import sys
import urllib.parse

import yaml

CLUSTER = "yiciban-pg"
PLACEHOLDER = "set-by-kustomization"

# field names per object, CloudNativePG API v1
BACKUP_KEYS = {"barmanObjectStore", "retentionPolicy", "target", "volumeSnapshot"}
STORE_KEYS = {"destinationPath", "endpointURL", "endpointCA", "serverName", "s3Credentials",
              "azureCredentials", "googleCredentials", "wal", "data", "tags", "historyTags"}
S3_KEYS = {"accessKeyId", "secretAccessKey", "region", "sessionToken", "inheritFromIAMRole"}
WAL_KEYS = {"compression", "encryption", "maxParallel"}
DATA_KEYS = {"compression", "encryption", "jobs", "immediateCheckpoint", "additionalCommandArgs"}
SECRET_REF_KEYS = {"name", "key"}
SCHEDULED_KEYS = {"schedule", "suspend", "immediate", "cluster", "backupOwnerReference", "target",
                  "method", "online", "onlineConfiguration", "pluginConfiguration"}
RECOVERY_KEYS = {"source", "backup", "volumeSnapshots", "recoveryTarget", "database", "owner", "secret"}
TARGET_KEYS = {"backupID", "targetTLI", "targetXID", "targetName", "targetLSN", "targetTime",
               "targetImmediate", "exclusive"}
EXTERNAL_KEYS = {"name", "connectionParameters", "sslCert", "sslKey", "sslRootCert", "password",
                 "barmanObjectStore", "plugin"}
# the compressions barman-cloud takes for both WAL and base backups
COMPRESSIONS = {"gzip", "bzip2", "snappy"}
RETENTION = re.compile(r"^[1-9][0-9]*[dwm]$")
# a six-field cron expression (seconds first), as the operator's scheduler reads it
CRON_FIELD = re.compile(r"^(\*|\?|[0-9A-Za-z]+([-/,][0-9A-Za-z]+)*|\*/[0-9]+)$")

problems = []


def bad(msg):
    problems.append(msg)


def fields(where, obj, allowed):
    """obj must be a mapping holding only allowed keys; returns it (or {})."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        bad(f"{where}: must be a mapping, is {type(obj).__name__}")
        return {}
    unknown = sorted(set(obj) - allowed)
    if unknown:
        bad(f"{where}: unknown field(s) {unknown} (not fields of CloudNativePG's API v1 here: a typo? allowed: {sorted(allowed)})")
    return obj


def secret_ref(where, ref):
    ref = fields(where, ref, SECRET_REF_KEYS)
    if not (isinstance(ref.get("name"), str) and ref.get("name") and isinstance(ref.get("key"), str) and ref.get("key")):
        bad(f"{where}: must name a Secret and a key ({{name, key}}), never hold the value")
    return ref.get("name")


def object_store(where, store, network_policy):
    """An S3-compatible barmanObjectStore; returns (destinationPath, endpointURL, serverName)."""
    store = fields(where, store, STORE_KEYS)
    dest, endpoint = store.get("destinationPath", ""), store.get("endpointURL", "")
    for key, value in (("destinationPath", dest), ("endpointURL", endpoint), ("serverName", store.get("serverName", ""))):
        if PLACEHOLDER in str(value):
            bad(f"{where}.{key}: {value!r} was not set by the kustomization's replacements")
    if not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", str(dest)):
        bad(f"{where}.destinationPath: {dest!r} must be s3://<bucket>[/<prefix>]")
    url = urllib.parse.urlsplit(str(endpoint))
    if url.scheme != "https" or not url.hostname or url.hostname.endswith(".invalid"):
        bad(f"{where}.endpointURL: {endpoint!r} must be the object store's https URL (the ledger never leaves over cleartext)")
    elif network_policy is not None:
        port = url.port or 443
        if not any(port in [p.get("port") for p in rule.get("ports", [])]
                   for rule in network_policy.get("spec", {}).get("egress", [])):
            bad(f"{where}.endpointURL: the NetworkPolicy {CLUSTER} has no egress to port {port}")
    creds = fields(f"{where}.s3Credentials", store.get("s3Credentials"), S3_KEYS)
    if not creds:
        bad(f"{where}: s3Credentials missing (the Secret yiciban-pg-backup-s3, docs/DEPLOY.md)")
    elif not creds.get("inheritFromIAMRole"):
        names = {secret_ref(f"{where}.s3Credentials.{k}", creds.get(k)) for k in ("accessKeyId", "secretAccessKey")}
        if len(names) != 1:
            bad(f"{where}.s3Credentials: accessKeyId and secretAccessKey must come from one Secret, not {sorted(map(str, names))}")
    if store.get("endpointCA") is not None:
        secret_ref(f"{where}.endpointCA", store["endpointCA"])
    wal = fields(f"{where}.wal", store.get("wal"), WAL_KEYS)
    data = fields(f"{where}.data", store.get("data"), DATA_KEYS)
    for part, name in ((wal, "wal"), (data, "data")):
        if "compression" in part and part["compression"] not in COMPRESSIONS:
            bad(f"{where}.{name}.compression: {part['compression']!r} is not one of {sorted(COMPRESSIONS)}")
        for key in ("maxParallel", "jobs"):
            if key in part and (not isinstance(part[key], int) or part[key] < 1):
                bad(f"{where}.{name}.{key}: must be a positive integer")
    return dest, endpoint, store.get("serverName")


def check_backups(cluster, scheduled, network_policy):
    where = f"Cluster {CLUSTER}: spec.backup"
    backup = fields(where, cluster["spec"].get("backup"), BACKUP_KEYS)
    if "barmanObjectStore" not in backup:
        bad(f"{where}.barmanObjectStore missing: the ledger has no WAL archive and no base backups")
        return
    store = backup["barmanObjectStore"]
    object_store(f"{where}.barmanObjectStore", store, network_policy)
    if not (store.get("wal") or {}).get("compression"):
        bad(f"{where}.barmanObjectStore.wal.compression: set it (WAL is archived continuously; uncompressed it is 16 MiB a segment)")
    if not RETENTION.match(str(backup.get("retentionPolicy", ""))):
        bad(f"{where}.retentionPolicy: {backup.get('retentionPolicy')!r} must be <n>d, <n>w or <n>m")
    if backup.get("target", "prefer-standby") not in ("primary", "prefer-standby"):
        bad(f"{where}.target: {backup['target']!r} must be primary or prefer-standby")
    mine = [s for s in scheduled.values() if (s["spec"].get("cluster") or {}).get("name") == CLUSTER]
    if not mine:
        bad(f"no ScheduledBackup of the Cluster {CLUSTER}: WAL alone cannot be restored without a base backup")
    for s in mine:
        if s["spec"].get("method", "barmanObjectStore") != "barmanObjectStore":
            bad(f"ScheduledBackup {s['metadata']['name']}: method must be barmanObjectStore (the Cluster's object store)")
        if s["spec"].get("suspend"):
            bad(f"ScheduledBackup {s['metadata']['name']}: suspended")


def check_scheduled(name, s, clusters):
    spec = fields(f"ScheduledBackup {name}: spec", s.get("spec"), SCHEDULED_KEYS)
    schedule = str(spec.get("schedule", ""))
    parts = schedule.split()
    if len(parts) != 6 or not all(CRON_FIELD.match(p) for p in parts):
        bad(f"ScheduledBackup {name}: schedule {schedule!r} must have six cron fields, seconds first (\"0 0 2 * * *\")")
    target = (spec.get("cluster") or {}).get("name")
    if target not in clusters:
        bad(f"ScheduledBackup {name}: names Cluster {target!r}, which is not in this overlay")
    elif "backup" not in clusters[target]["spec"]:
        bad(f"ScheduledBackup {name}: Cluster {target} has no spec.backup to back up to")
    if spec.get("backupOwnerReference", "none") not in ("none", "self", "cluster"):
        bad(f"ScheduledBackup {name}: backupOwnerReference must be none, self or cluster")
    if spec.get("method", "barmanObjectStore") not in ("barmanObjectStore", "volumeSnapshot", "plugin"):
        bad(f"ScheduledBackup {name}: method {spec['method']!r} unknown")


def check_restore(cluster):
    spec = cluster["spec"]
    where = f"Cluster {CLUSTER}: spec.bootstrap"
    boot = spec.get("bootstrap") or {}
    if set(boot) != {"recovery"}:
        bad(f"{where}: must be recovery alone, is {sorted(boot)}")
        return
    rec = fields(f"{where}.recovery", boot["recovery"], RECOVERY_KEYS)
    if (rec.get("database"), rec.get("owner")) != ("yiciban", "yiciban"):
        bad(f"{where}.recovery: database and owner must be yiciban (the Secret yiciban-pg-app the services read)")
    target = fields(f"{where}.recovery.recoveryTarget", rec.get("recoveryTarget"), TARGET_KEYS)
    when = str(target.get("targetTime", ""))
    try:
        parsed = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError
    except ValueError:
        bad(f"{where}.recovery.recoveryTarget.targetTime: {when!r} must be an RFC 3339 time with its offset")
    externals = {e.get("name"): fields(f"Cluster {CLUSTER}: externalClusters[{e.get('name')}]", e, EXTERNAL_KEYS)
                 for e in spec.get("externalClusters") or []}
    origin = externals.get(rec.get("source"))
    if not origin or "barmanObjectStore" not in origin:
        bad(f"{where}.recovery.source {rec.get('source')!r} names no externalClusters entry with a barmanObjectStore")
        return
    src = object_store(f"Cluster {CLUSTER}: externalClusters[{rec['source']}].barmanObjectStore", origin["barmanObjectStore"], None)
    store = (spec.get("backup") or {}).get("barmanObjectStore") or {}
    if (src[0], src[1]) != (store.get("destinationPath"), store.get("endpointURL")):
        bad(f"Cluster {CLUSTER}: restores from {src[0]} at {src[1]}, but backs up to {store.get('destinationPath')} at {store.get('endpointURL')}")
    source_dir, own_dir = src[2] or rec["source"], store.get("serverName") or CLUSTER
    if source_dir == own_dir:
        bad(f"Cluster {CLUSTER}: would archive into {own_dir!r}, the directory it restores from "
            "(set serverName in the pg-restore component's ConfigMap to a new name)")


def main(path, flags):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    cnpg = [d for d in docs if d.get("apiVersion", "").startswith("postgresql.cnpg.io/")]
    clusters = {d["metadata"]["name"]: d for d in cnpg if d["kind"] == "Cluster"}
    scheduled = {d["metadata"]["name"]: d for d in cnpg if d["kind"] == "ScheduledBackup"}
    policy = next((d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == CLUSTER), None)
    for d in cnpg:
        if d["kind"] not in ("Cluster", "ScheduledBackup"):
            bad(f"{d['kind']} {d['metadata']['name']}: a CloudNativePG kind this check does not know; add its rules here")
    if CLUSTER not in clusters:
        bad(f"no Cluster {CLUSTER}")
    for name, s in scheduled.items():
        check_scheduled(name, s, clusters)
    pg = clusters.get(CLUSTER)
    # whoever configures backups or a restore gets them checked, asked or not
    if pg and ("--backups" in flags or "backup" in pg["spec"]):
        check_backups(pg, scheduled, policy)
    if pg and ("--restore" in flags or "recovery" in (pg["spec"].get("bootstrap") or {})):
        check_restore(pg)

    if problems:
        print("\n".join(f"check_cnpg: {path}: {p}" for p in problems), file=sys.stderr)
        return 1
    what = []
    if CLUSTER in clusters and "backup" in clusters[CLUSTER]["spec"]:
        b = clusters[CLUSTER]["spec"]["backup"]
        what.append(f"WAL archive and base backups to {b['barmanObjectStore']['destinationPath']}"
                    f"{b['barmanObjectStore'].get('serverName') or CLUSTER}/, kept {b['retentionPolicy']}, "
                    f"scheduled {', '.join(repr(s['spec']['schedule']) for s in scheduled.values())}")
    if CLUSTER in clusters and "recovery" in (clusters[CLUSTER]["spec"].get("bootstrap") or {}):
        rt = clusters[CLUSTER]["spec"]["bootstrap"]["recovery"]["recoveryTarget"]["targetTime"]
        what.append(f"restored to {rt}")
    print(f"check_cnpg: {path}: Cluster {CLUSTER} holds"
          f"{(': ' + '; '.join(what)) if what else ' (no backups configured)'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or not set(sys.argv[2:]) <= {"--backups", "--restore"}:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], set(sys.argv[2:])))
