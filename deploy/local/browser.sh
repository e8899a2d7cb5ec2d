#!/usr/bin/env bash
# The browser the browser tests drive (issue 15 item 7; ADR 0033): Debian's
# headless-capable `chromium` (/usr/bin/chromium), its WebDriver server
# `chromium-driver` (/usr/bin/chromedriver, the same version) and a Chinese
# font (`fonts-wqy-microhei`, looked for with fontconfig's fc-list) so the
# screenshots show the pages' text.
#
#   deploy/local/browser.sh install   apt-get install whatever of the three is
#                                     missing (root only; says so); quick and
#                                     silent when all are there
#   deploy/local/browser.sh status    say what is installed (exit 1 if something is not)
#
# `make browser` runs the install, as a prerequisite of `make test`. Nothing
# is downloaded but Debian's packages. Progress goes to stderr.
set -euo pipefail

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."

log() { printf 'browser: %s\n' "$*" >&2; }
die() { printf 'browser: error: %s\n' "$*" >&2; exit 1; }
APT_HINT=" (Debian's chromium, chromium-driver and fonts-wqy-microhei; the browser tests need them)"
# shellcheck source=deploy/local/apt.sh
source deploy/local/apt.sh

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

has_cjk_font() { command -v fc-list >/dev/null && [[ -n "$(fc-list :lang=zh 2>/dev/null)" ]]; }

# The Debian packages of what is missing, one a line.
missing() {
    [[ -x "$CHROMIUM" ]] || echo chromium
    [[ -x "$CHROMEDRIVER" ]] || echo chromium-driver
    # fc-list (fontconfig) is how the font is looked for; a fresh machine may lack it
    command -v fc-list >/dev/null || echo fontconfig
    has_cjk_font || echo fonts-wqy-microhei
}

# Chromium and its driver must be one version (chromedriver refuses another).
same_version() {
    local browser driver
    browser="$("$CHROMIUM" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
    driver="$("$CHROMEDRIVER" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
    [[ -n "$browser" && "$browser" == "$driver" ]] || {
        log "chromium ($browser) and chromedriver ($driver) differ"
        return 1
    }
}

case "${1:-}" in
install)
    mapfile -t packages < <(missing)
    if [[ ${#packages[@]} -gt 0 ]]; then
        log "missing: ${packages[*]}"
        apt_install "${packages[@]}"
    fi
    if ! same_version; then
        log "upgrading chromium and chromium-driver together"
        apt_install chromium chromium-driver
        same_version || die "chromium and chromedriver still differ after apt-get install"
    fi
    mapfile -t packages < <(missing)
    [[ ${#packages[@]} -eq 0 ]] || die "still missing after apt-get install: ${packages[*]}"
    ;;
status)
    mapfile -t packages < <(missing)
    if [[ ${#packages[@]} -gt 0 ]]; then
        log "missing: ${packages[*]} (deploy/local/browser.sh install)"
        exit 1
    fi
    same_version || exit 1
    log "$("$CHROMIUM" --version 2>/dev/null), $("$CHROMEDRIVER" --version | cut -d' ' -f1-2), a Chinese font"
    ;;
*)
    echo "usage: $0 install|status" >&2
    exit 2
    ;;
esac
