# shellcheck shell=bash
# Sourced by infra.sh and oidc-provider.sh: installs Debian packages (as root,
# saying so). Uses the sourcing script's `log` and `die`; APT_HINT is added to
# the message that tells someone without root what to do instead.
APT_UPDATED=""
apt_install() { # package...
    [[ $EUID -eq 0 ]] || die "need root to install $*; install it yourself (apt-get install $*)${APT_HINT:-}"
    command -v apt-get >/dev/null || die "apt-get not found; install $* yourself${APT_HINT:-}"
    if [[ -z "$APT_UPDATED" ]]; then
        log "running apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        APT_UPDATED=1
    fi
    log "installing Debian package(s): $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}
