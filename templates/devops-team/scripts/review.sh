#!/bin/sh
# Static analysis of a release: its notes in RELEASE_NOTES.md mention the version, no TODOs left.
set -eu
service="$1"; version="$2"
if [ ! -f RELEASE_NOTES.md ]; then
  echo "no RELEASE_NOTES.md" >&2; exit 1
fi
if ! grep -q -- "$version" RELEASE_NOTES.md; then
  echo "RELEASE_NOTES.md does not mention $version" >&2; exit 1
fi
todos=$(grep -c TODO RELEASE_NOTES.md || true)
printf '{"service": "%s", "version": "%s", "approved": %s, "todos": %s}\n' \
  "$service" "$version" "$([ "$todos" -eq 0 ] && echo true || echo false)" "$todos"
