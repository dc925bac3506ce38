#!/bin/sh
# meson install's step for the rules file (meson.build): installs the commented
# default rules file into DIR without ever replacing an operator's file.
#
#   install-config.sh SOURCE DIR      (run by meson install; honours DESTDIR)
#
# DIR/handoff.yaml missing: the default is installed there.  Present and equal to
# the default: nothing to do.  Present and edited (an upgrade): it is kept, and
# the new default goes to DIR/handoff.yaml.default beside it, to compare with.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE DIR" >&2
  exit 2
fi
src=$1
# DESTDIR as meson resolved it (an absolute path, or empty), taken from
# MESON_INSTALL_DESTDIR_PREFIX = DESTDIR + prefix, because DIR may lie outside the
# prefix (/etc for a prefix of /usr).
destdir=${DESTDIR:-}
if [ -n "${MESON_INSTALL_DESTDIR_PREFIX:-}" ] && [ -n "${MESON_INSTALL_PREFIX:-}" ]; then
  destdir=${MESON_INSTALL_DESTDIR_PREFIX%"$MESON_INSTALL_PREFIX"}
fi
dir=$destdir$2
target=$dir/handoff.yaml

if [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
  echo "Would install $src to $target (or $target.default beside an edited one)"
  exit 0
fi
mkdir -p "$dir"
if [ ! -e "$target" ]; then
  install -m 0644 "$src" "$target"
  echo "Installing $src to $target"
elif cmp -s "$src" "$target"; then
  echo "Keeping $target (the default, unchanged)"
  rm -f "$target.default"
else
  install -m 0644 "$src" "$target.default"
  echo "Keeping $target (edited); the new default is $target.default"
fi
