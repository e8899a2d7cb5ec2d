#!/usr/bin/env python3
"""Checks the Keycloak realm export against the identity contract of issue 14
(docs/DEPLOY.md, "Identity (OpenID Connect)"); run by deploy/validate.sh.

What Keycloak itself would say about the file (an import) is not tested here:
this checks what the services rely on and what must never be in the file.
Usage: check_realm.py deploy/keycloak/yiciban-realm.json
"""
import json
import re
import sys

SERVICES = ("intake", "routing", "tasks", "issuance", "tracking", "webhooks", "notifier", "supervision")
# the services each service calls (as its NetworkPolicy egress): the process
# managers' hand-offs, and intake for the case officer, the catalog version of
# a case and the working-day calendar
CALLS = {
    "intake": {"routing", "tasks"},
    "routing": {"tasks", "issuance", "intake"},
    "tasks": {"routing", "intake"},
    "issuance": {"intake", "tasks"},
    "tracking": {"intake"},
    "webhooks": set(),
    # the applicant's phone of each text message
    "notifier": {"intake"},
    # the catalog (a package's lead department, the departments) and the
    # calendar; tracking's monthly statistics for a report's figures and the
    # case items of an assessment (ADR 0040)
    "supervision": {"intake", "tracking"},
    # the workbench's identity for the public progress page (ADR 0032): it
    # serves nothing (no audience of its own), it only calls
    "progress": {"intake", "tracking"},
}
# service identities that serve no API: not an audience of people's tokens
CALLING_ONLY = ("progress",)
ROLES = {f"yiciban-{r}" for r in ("clerk", "agent", "officer", "supervisor", "admin", "applicant", "service")}
PLACEHOLDER = re.compile(r"^\$\{[A-Z][A-Z0-9_]*\}$")

problems = []


def bad(msg):
    problems.append(msg)


def audiences(client):
    return {
        m["config"]["included.custom.audience"].removeprefix("urn:yiciban:")
        for m in client.get("protocolMappers", [])
        if m["protocolMapper"] == "oidc-audience-mapper"
        and m["config"].get("access.token.claim") == "true"
    }


def attribute_mapper(client, attribute):
    return next(
        (m for m in client.get("protocolMappers", [])
         if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"
         and m["config"].get("user.attribute") == attribute),
        None,
    )


def walk(node, path=""):
    """Every (path, key, value) of the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


def main(path):
    realm = json.load(open(path, encoding="utf-8"))
    if realm.get("realm") != "yiciban":
        bad(f"realm is {realm.get('realm')!r}, want 'yiciban'")
    if realm.get("defaultSignatureAlgorithm") != "RS256":
        bad("defaultSignatureAlgorithm must be RS256")
    if not 300 <= realm.get("accessTokenLifespan", 0) <= 600:
        bad("accessTokenLifespan must be 5 to 10 minutes (300..600 s)")
    if realm.get("sslRequired") not in ("all", "external"):
        bad("sslRequired must be all or external")
    if realm.get("registrationAllowed"):
        bad("self-registration must be off (staff and applicants are provisioned)")
    roles = {r["name"] for r in realm.get("roles", {}).get("realm", [])}
    if roles != ROLES:
        bad(f"realm roles {sorted(roles)}, want {sorted(ROLES)}")

    # nothing secret in the file: client secrets are ${VAR} placeholders,
    # no user has credentials
    for where, key, value in walk(realm):
        if key == "secret" and not PLACEHOLDER.match(str(value)):
            bad(f"{where}.secret is not a ${{VAR}} placeholder")
        if key == "credentials" and value:
            bad(f"{where} holds credentials")
    clients = {c["clientId"]: c for c in realm.get("clients", [])}
    users = realm.get("users", [])
    for u in users:
        if not u.get("serviceAccountClientId"):
            bad(f"user {u.get('username')} is no service account: people are not in the realm export")

    for s in SERVICES + CALLING_ONLY:
        cid = f"yiciban-{s}"
        c = clients.get(cid)
        if not c:
            bad(f"no client {cid}")
            continue
        want = {"publicClient": False, "serviceAccountsEnabled": True, "standardFlowEnabled": False,
                "implicitFlowEnabled": False, "directAccessGrantsEnabled": False}
        for k, v in want.items():
            if c.get(k) is not v:
                bad(f"{cid}: {k} must be {v}")
        if not PLACEHOLDER.match(c.get("secret", "")):
            bad(f"{cid}: secret must be a ${{VAR}} placeholder")
        if audiences(c) != CALLS[s]:
            bad(f"{cid}: audiences {sorted(audiences(c))}, want {sorted(CALLS[s])} (the services it calls)")
        sa = [u for u in users if u.get("serviceAccountClientId") == cid]
        if len(sa) != 1 or sa[0].get("realmRoles") != ["yiciban-service"]:
            bad(f"{cid}: its service account must have exactly the realm role yiciban-service")

    for cid, public in (("yiciban-casectl", True), ("yiciban-workbench", False)):
        c = clients.get(cid)
        if not c:
            bad(f"no client {cid}")
            continue
        a = c.get("attributes", {})
        if c.get("publicClient") is not public:
            bad(f"{cid}: publicClient must be {public}")
        if a.get("pkce.code.challenge.method") != "S256":
            bad(f"{cid}: PKCE S256 must be required")
        if c.get("standardFlowEnabled") is not True or c.get("implicitFlowEnabled") or c.get("directAccessGrantsEnabled"):
            bad(f"{cid}: authorization code only (no implicit flow, no passwords at the token endpoint)")
        if c.get("serviceAccountsEnabled"):
            bad(f"{cid}: no service account")
        if a.get("use.refresh.tokens") != "true":
            bad(f"{cid}: refresh tokens")
        if audiences(c) != set(SERVICES):
            bad(f"{cid}: user tokens must carry every service's audience, has {sorted(audiences(c))}")
        dept = attribute_mapper(c, "department")
        if not dept or dept["config"].get("claim.name") != "department" or dept["config"].get("access.token.claim") != "true":
            bad(f"{cid}: user attribute department -> access token claim department")
        idn = attribute_mapper(c, "id_number")
        # Tokens carry a subject, never an ID number (ADR 0029): the number
        # is released on userinfo only, which the services ask.
        if (not idn or idn["config"].get("claim.name") != "id_number"
                or idn["config"].get("access.token.claim") != "false"
                or idn["config"].get("id.token.claim") != "false"
                or idn["config"].get("introspection.token.claim") != "false"
                or idn["config"].get("userinfo.token.claim") != "true"):
            bad(f"{cid}: user attribute id_number -> claim id_number on userinfo only, in no token")
    casectl = clients.get("yiciban-casectl", {})
    if casectl.get("redirectUris") != ["http://127.0.0.1/*"]:
        bad("yiciban-casectl: redirect URIs must be exactly the loopback http://127.0.0.1/*")
    if casectl.get("attributes", {}).get("oauth2.device.authorization.grant.enabled") != "true":
        bad("yiciban-casectl: the device grant must be enabled")
    workbench = clients.get("yiciban-workbench", {})
    base = "${YICIBAN_WORKBENCH_PUBLIC_URL}"
    if workbench.get("enabled") is not True:
        bad("yiciban-workbench: the workbench ships (services/workbench): the client must be enabled")
    if workbench.get("redirectUris") != [f"{base}/auth/callback"] or workbench.get("webOrigins") != [base]:
        bad(f"yiciban-workbench: redirect URIs exactly [{base}/auth/callback], web origins exactly [{base}]")
    if workbench.get("attributes", {}).get("post.logout.redirect.uris") != f"{base}/signed-out":
        bad(f"yiciban-workbench: post-logout redirect URI {base}/signed-out")
    if not PLACEHOLDER.match(workbench.get("secret", "")):
        bad("yiciban-workbench: secret must be a ${VAR} placeholder")
    extra = set(clients) - {f"yiciban-{s}" for s in SERVICES + CALLING_ONLY} - {"yiciban-casectl", "yiciban-workbench"}
    if extra:
        bad(f"clients beyond the contract: {sorted(extra)}")

    keys = realm.get("components", {}).get("org.keycloak.keys.KeyProvider", [])
    if not any(k["providerId"] == "rsa-generated" and k["config"].get("algorithm") == ["RS256"] for k in keys):
        bad("no generated RS256 signing key")
    profile = realm.get("components", {}).get("org.keycloak.userprofile.UserProfileProvider", [])
    attrs = {}
    for p in profile:
        for text in p.get("config", {}).get("kc.user.profile.config", []):
            attrs.update({a["name"]: a for a in json.loads(text)["attributes"]})
    for name in ("department", "id_number"):
        a = attrs.get(name)
        if not a:
            bad(f"user profile: attribute {name} not declared (Keycloak 24+ drops undeclared attributes)")
        elif a.get("permissions", {}).get("edit") != ["admin"]:
            bad(f"user profile: {name} must be editable by administrators only (a user must not change their own)")

    if problems:
        print("\n".join(f"check_realm: {p}" for p in problems), file=sys.stderr)
        return 1
    print(f"check_realm: {path}: realm yiciban holds the contract "
          f"({len(clients)} clients, {len(roles)} roles, no secret or credential in the file)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
