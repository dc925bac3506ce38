#!/usr/bin/env bash
# Installs the Debian 12 packages handoff needs, if any are missing.  Idempotent.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  librdkafka-dev librocksdb-dev libavro-dev libyaml-dev libssl-dev
  libcmocka-dev python3-avro python3-kafka
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
