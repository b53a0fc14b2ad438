#!/usr/bin/env bash
# Installs the PostgreSQL and MariaDB servers the JDBC tests start (privately, on their own
# ports, under a temporary directory) from Debian's packages, if they are not there yet.
set -euo pipefail
missing=()
command -v /usr/lib/postgresql/15/bin/initdb >/dev/null 2>&1 || missing+=(postgresql-15)
command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the tests need ${missing[*]}; install them (sudo apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
