#!/usr/bin/env bash
# Installs the Debian packages modelwatch needs to build and test, skipping
# apt entirely when everything is already there. Used by run.sh, test.sh and CI.
set -euo pipefail
PKGS="build-essential cmake pkg-config zlib1g-dev libyaml-dev libcmocka-dev
      libsqlite3-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
      clang libclang-rt-14-dev jq curl prometheus prometheus-alertmanager"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Node.js and npm for the OpenTelemetry ingestion test (it npm-installs the
# OpenTelemetry JavaScript SDK, pinned, into the build tree). A node from
# another source (NodeSource ships npm inside its nodejs) is kept as it is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing: nodejs npm" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
