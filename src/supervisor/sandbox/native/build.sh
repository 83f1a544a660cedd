#!/bin/sh
# Builds the sandbox's two native helpers into OUT_DIR (default: <repo>/.paddock/native).
# Called by scripts/setup.sh and, when a binary is missing or older than its source, by the
# launcher itself (native-binaries.ts). Binaries are never committed: .paddock/ is gitignored.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../../../.paddock/native"}
mkdir -p "$out"
for name in sandbox-launch landlock-exec; do
  # Build to a temporary name and rename: a concurrent launch never sees a half-written binary.
  cc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -o "$out/.$name.$$" "$here/$name.c"
  chmod 0755 "$out/.$name.$$"
  mv -f "$out/.$name.$$" "$out/$name"
done
