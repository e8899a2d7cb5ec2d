#!/usr/bin/env bash
# The test OpenID Connect provider (issue 14): the npm package oidc-provider,
# pinned in tests/oidc-provider/package-lock.json, run by the tests through
# services/testkit (OidcProvider). Installed like every npm tool of the
# project, by deploy/local/node-tool.sh:
#
#   deploy/local/oidc-provider.sh install   Node and npm made sure of, `npm ci` when needed
#   deploy/local/oidc-provider.sh status    whether it is installed (exit 1 if not)
exec "$(dirname "$0")/node-tool.sh" oidc-provider "$@"
