#!/usr/bin/env bash
# Installs what Paddock needs from Debian 12 that is missing, as root or through sudo.
# Safe to run again: it installs only what is absent. Node.js 24 itself comes from
# npm (the `node` package in devDependencies), not from here.
set -euo pipefail

# command -> Debian package that provides it
declare -A NEEDED=(
  [bwrap]=bubblewrap
  [nft]=nftables
  [ip]=iproute2
  [prlimit]=util-linux
  [setpriv]=util-linux
  [git]=git
  [curl]=curl
  [python3]=python3
  # /etc/paddock-try, the workspace's review demo client, is Perl with JSON::PP (package perl)
  [json_pp]=perl
  [cc]=gcc
  # node-pty (browser and CLI terminals) is compiled by node-gyp at npm ci
  [make]=make
  [g++]=g++
  # the console's browser tests drive Debian's Chromium through playwright-core
  [chromium]=chromium
  [openssl]=openssl
  # the syslog audit sink is tested against a real rsyslog, plain TCP and TLS (RFC 5425)
  [rsyslogd]=rsyslog
  [/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so]=rsyslog-gnutls
  # SSH through the access broker: sshd -i runs inside the sandbox; tests drive OpenSSH's client
  [/usr/sbin/sshd]=openssh-server
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [/usr/lib/postgresql/15/bin/initdb]=postgresql-15
  [/usr/lib/postgresql/15/bin/pg_ctl]=postgresql-15
)

# The agent sandbox's two C helpers (launcher and Landlock shim), into .paddock/native
# (gitignored). The launcher also builds them on first use when they are missing or stale.
build_native() {
  sh "$(dirname "$0")/../src/supervisor/sandbox/native/build.sh"
  echo "setup: sandbox helpers built" >&2
}

missing=()
for cmd in "${!NEEDED[@]}"; do
  if [[ "$cmd" == /* ]]; then [[ -x "$cmd" ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  missing+=("${NEEDED[$cmd]}")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if ((${#missing[@]} == 0)); then
  echo "setup: all Debian packages present" >&2
  build_native
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: missing packages ${missing[*]}, and not root and no sudo: install them as root, then re-run" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q >&2
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
build_native
echo "setup: done" >&2
