#!/usr/bin/env bash
# Installs the Debian packages that storewatch's integration tests run as real peers (see
# shared notes test-peers.md). Idempotent: a machine that already has every package installs nothing and
# does not even run `apt-get update`.
#
# Packages install with a policy-rc.d guard, because their postinst scripts would otherwise start each
# daemon on its default 0.0.0.0 port. Tests start their own copies on 127.0.0.1 instead. Any daemon that
# appears during the install anyway is stopped afterwards.
set -euo pipefail

# One list for every peer the tests use or will use soon.
PACKAGES=(
  prometheus
  prometheus-node-exporter
  chromium
  snmpd
  snmp
  snmpsim
  prometheus-snmp-exporter
  mosquitto
  mosquitto-clients
  victoria-metrics
)

# Daemons those packages ship; matched by executable (or script) path, never by a loose name.
DAEMONS=(
  /usr/bin/prometheus
  /usr/bin/prometheus-node-exporter
  /usr/bin/prometheus-snmp-exporter
  /usr/sbin/snmpd
  /usr/sbin/snmptrapd
  /usr/bin/snmpsimd
  /usr/bin/snmpsim-command-responder
  /usr/sbin/mosquitto
  /usr/bin/victoria-metrics
  /usr/bin/vmagent
)

log() { printf 'install-test-peers: %s\n' "$*" >&2; }

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# Prints the PIDs of running processes whose executable, or interpreted script, is one of DAEMONS.
daemon_pids() {
  local dir pid exe arg1 d
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    exe=$(readlink "$dir/exe" 2>/dev/null || true)
    arg1=$(tr '\0' '\n' <"$dir/cmdline" 2>/dev/null | sed -n 2p || true)
    for d in "${DAEMONS[@]}"; do
      if [ "$exe" = "$d" ] || [ "$arg1" = "$d" ]; then
        echo "$pid"
        break
      fi
    done
  done
}

# Another apt/dpkg run (for example a manual install in the background) holds these locks; wait for it
# instead of failing.
wait_for_dpkg() {
  local waited=0
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
    if [ "$waited" -eq 0 ]; then log "waiting for another apt/dpkg run to finish"; fi
    if [ "$waited" -ge 900 ]; then
      log "dpkg is still locked after ${waited}s; giving up"
      exit 1
    fi
    sleep 3
    waited=$((waited + 3))
  done
}

missing=()
for p in "${PACKAGES[@]}"; do
  is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "all test peers are installed"
  exit 0
fi
log "missing: ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    log "installing ${missing[*]} needs root (run this script as root or with passwordless sudo)"
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "apt-get not found: install ${missing[*]} (Debian 12 packages) by hand"
  exit 1
fi

# Guard against daemons starting on 0.0.0.0 during postinst; remove the guard again only if we created it.
created_guard=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
  created_guard=1
fi
cleanup() {
  if [ "$created_guard" -eq 1 ]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

before=" $(daemon_pids | tr '\n' ' ') "

export DEBIAN_FRONTEND=noninteractive
wait_for_dpkg
"${SUDO[@]}" apt-get update -q </dev/null
wait_for_dpkg
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o DPkg::Lock::Timeout=900 "${missing[@]}" </dev/null

# Stop only daemons that appeared during this install (a postinst that ignored the guard); a peer some
# other process started before us is left alone.
for pid in $(daemon_pids); do
  case "$before" in *" $pid "*) continue ;; esac
  log "stopping daemon started by the install: pid $pid ($(readlink "/proc/$pid/exe" 2>/dev/null || echo '?'))"
  "${SUDO[@]}" kill "$pid" 2>/dev/null || true
done

for p in "${PACKAGES[@]}"; do
  if ! is_installed "$p"; then
    log "package $p is still not installed"
    exit 1
  fi
done
log "installed: ${missing[*]}"
