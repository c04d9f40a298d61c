#!/bin/sh
# Stand-in for a real rollout: records what runs where.
set -eu
service="$1"; version="$2"; environment="$3"
mkdir -p deployments
printf '{"service": "%s", "version": "%s", "environment": "%s", "status": "healthy"}\n' \
  "$service" "$version" "$environment" > "deployments/$environment.json"
cat "deployments/$environment.json"
