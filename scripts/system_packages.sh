#!/usr/bin/env bash
# Install the Debian packages the test suite and `make run-cluster` need (PostgreSQL and Redis
# servers, HAProxy as the cluster's load balancer, headless Chromium),
# only when they are missing. Needs root (CI and the dev machines run as root).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
echo "==> [install] Debian packages: ${need[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "error: installing ${need[*]} needs root (apt-get install -y ${need[*]})" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
