#!/bin/sh
# Smoke test: the environment has a healthy deployment record.
set -eu
environment="$1"
file="deployments/$environment.json"
if [ -f "$file" ] && grep -q '"status": "healthy"' "$file"; then
  echo '{"passed": true, "checks": 1}'
else
  echo '{"passed": false, "checks": 1}'
  echo "no healthy deployment in $environment" >&2
  exit 1
fi
