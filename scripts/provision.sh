#!/usr/bin/env bash
# Sets up Parley on Ubuntu 24.04 (the Vagrant VM): Node.js 22 from NodeSource, MongoDB 8.0 from MongoDB's apt
# repository as the one-node replica set rs0, the app copied to /opt/parley and built as the user `parley`, and
# the systemd service parley.service on port 8888. Run as root. Safe to run again: each step checks or rewrites
# its own result, and the app is rebuilt and restarted from the current source.
set -euo pipefail

APP_SRC="${APP_SRC:-/vagrant}"          # the repo, as synced into the VM
APP_DIR="${APP_DIR:-/opt/parley}"       # where the app is built and run
APP_USER="${APP_USER:-parley}"
STATE_DIR=/var/lib/parley               # the service's DATA_DIR (session secret) and the user's home
NODE_MAJOR=22
MONGODB_SERIES=8.0
REPLICA_SET=rs0
PORT=8888
KEYRINGS=/etc/apt/keyrings

export DEBIAN_FRONTEND=noninteractive

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'provision: %s\n' "$*" >&2; exit 1; }

# Waits for the dpkg lock (cloud-init and unattended-upgrades hold it on a fresh boot) and keeps changed
# config files of ours when a package is upgraded.
apt_get() {
  apt-get -q -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# Writes stdin to the file $1 (mode $2) unless it already holds exactly that; succeeds only if it changed.
write_if_changed() {
  local target=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $target ]] && cmp -s "$tmp" "$target"; then
    rm -f "$tmp"
    return 1
  fi
  install -D -m "$mode" "$tmp" "$target"
  rm -f "$tmp"
}

# Stores the armored key at URL $1 as the binary keyring $2, once.
fetch_key() {
  local url=$1 keyring=$2
  [[ -s $keyring ]] && return 0
  curl -fsSL --retry 5 --retry-connrefused "$url" | gpg --batch --yes --dearmor -o "$keyring"
  chmod 0644 "$keyring"
}

mongo_eval() {
  mongosh --quiet --norc --eval "$1" 2>/dev/null | tail -n 1
}

# Runs "$@" until it succeeds, once a second, for at most $1 seconds.
retry_for() {
  local seconds=$1 i
  shift
  for ((i = 0; i < seconds; i++)); do
    if "$@"; then return 0; fi
    sleep 1
  done
  return 1
}

mongod_answers() { [[ $(mongo_eval 'db.adminCommand({ ping: 1 }).ok') == 1 ]]; }
is_primary() { [[ $(mongo_eval 'db.hello().isWritablePrimary') == true ]]; }
parley_healthy() { curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1; }

[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -f $APP_SRC/package.json ]] || die "no package.json in APP_SRC=$APP_SRC"
# shellcheck source=/dev/null
. /etc/os-release
[[ ${ID:-} == ubuntu ]] || die "this script is for Ubuntu (found ${ID:-unknown})"
CODENAME=${VERSION_CODENAME:?}

step "apt repositories: NodeSource ${NODE_MAJOR}.x, MongoDB ${MONGODB_SERIES}"
apt_get update
apt_get install -y --no-install-recommends ca-certificates curl gnupg rsync
install -d -m 0755 "$KEYRINGS"
fetch_key https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key "$KEYRINGS/nodesource.gpg"
fetch_key "https://www.mongodb.org/static/pgp/server-${MONGODB_SERIES}.asc" "$KEYRINGS/mongodb-server-${MONGODB_SERIES}.gpg"
write_if_changed /etc/apt/sources.list.d/nodesource.list 0644 <<EOF || true
deb [signed-by=$KEYRINGS/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main
EOF
# Ubuntu's own nodejs is older: prefer NodeSource's.
write_if_changed /etc/apt/preferences.d/nodesource 0644 <<EOF || true
Package: nodejs
Pin: origin deb.nodesource.com
Pin-Priority: 600
EOF
write_if_changed "/etc/apt/sources.list.d/mongodb-org-${MONGODB_SERIES}.list" 0644 <<EOF || true
deb [arch=amd64,arm64 signed-by=$KEYRINGS/mongodb-server-${MONGODB_SERIES}.gpg] https://repo.mongodb.org/apt/ubuntu ${CODENAME}/mongodb-org/${MONGODB_SERIES} multiverse
EOF
apt_get update

step "Node.js ${NODE_MAJOR}"
apt_get install -y nodejs
node_version=$(node --version)
node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' ||
  die "Node.js $node_version is too old: Parley needs 20.19 or newer"
echo "node $node_version, npm $(npm --version)"

step "MongoDB ${MONGODB_SERIES} (mongodb-org)"
apt_get install -y mongodb-org
# The package's default configuration, plus the replica set: a one-node replica set gives Parley its change
# stream and majority write concern.
if write_if_changed /etc/mongod.conf 0644 <<EOF; then
# Written by Parley's scripts/provision.sh; edits are replaced when it runs again.
storage:
  dbPath: /var/lib/mongodb
systemLog:
  destination: file
  logAppend: true
  path: /var/log/mongodb/mongod.log
net:
  port: 27017
  bindIp: 127.0.0.1
processManagement:
  timeZoneInfo: /usr/share/zoneinfo
replication:
  replSetName: ${REPLICA_SET}
EOF
  mongod_config_changed=yes
else
  mongod_config_changed=no
fi
systemctl enable mongod
if [[ $mongod_config_changed == yes ]]; then
  systemctl restart mongod
else
  systemctl start mongod
fi
retry_for 60 mongod_answers || die "mongod does not answer on 127.0.0.1:27017 (see /var/log/mongodb/mongod.log)"

step "replica set ${REPLICA_SET}"
rs_state=$(mongo_eval 'try { rs.status().ok } catch (e) { e.codeName }') || true
if [[ $rs_state == NotYetInitialized ]]; then
  # The member is 127.0.0.1: mongod listens on localhost only, and every client runs in this VM.
  mongosh --quiet --norc --eval "rs.initiate({ _id: '${REPLICA_SET}', members: [{ _id: 0, host: '127.0.0.1:27017' }] })"
  echo "initiated"
elif [[ $rs_state == 1 ]]; then
  echo "already initiated"
else
  die "unexpected replica set state: ${rs_state:-no answer}"
fi
retry_for 60 is_primary || die "mongod did not become PRIMARY of ${REPLICA_SET}"
echo "PRIMARY"

step "app user ${APP_USER}, source in ${APP_DIR}"
if ! id -u "$APP_USER" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "$STATE_DIR" --shell /usr/sbin/nologin "$APP_USER"
fi
install -d -o "$APP_USER" -g "$APP_USER" -m 0750 "$STATE_DIR"
install -d -o "$APP_USER" -g "$APP_USER" -m 0755 "$APP_DIR"
if [[ $(realpath "$APP_SRC") != $(realpath "$APP_DIR") ]]; then
  # --delete removes what left the source; the excluded build products on this side are kept.
  rsync -a --delete --chown="$APP_USER:$APP_USER" \
    --exclude=.git/ --exclude=.vagrant/ --exclude=node_modules/ --exclude=dist/ --exclude=data/ \
    --exclude=test-results/ --exclude=playwright-report/ --exclude=bench/results/ \
    "$APP_SRC/" "$APP_DIR/"
fi

step "npm ci and build, as ${APP_USER}"
as_app() {
  (cd "$APP_DIR" && runuser -u "$APP_USER" -- env -u NODE_ENV HOME="$STATE_DIR" CI=true "$@")
}
# npm ci starts from scratch: do it only when the lockfile or Node.js changed since the last run.
lock_stamp="$(sha256sum "$APP_DIR/package-lock.json" | cut -d' ' -f1) $node_version"
stamp_file="$APP_DIR/node_modules/.provisioned"
if [[ ! -f $stamp_file || $(cat "$stamp_file") != "$lock_stamp" ]]; then
  as_app npm ci --include=dev --no-audit --no-fund
  printf '%s\n' "$lock_stamp" | as_app tee "$stamp_file" >/dev/null
else
  echo "node_modules up to date"
fi
as_app npm run build

step "parley.service"
if write_if_changed /etc/systemd/system/parley.service 0644 <<EOF; then
[Unit]
Description=Parley chat server
Documentation=file://${APP_DIR}/README.md
After=network-online.target mongod.service
Wants=network-online.target mongod.service
# Keep restarting while MongoDB comes up after a boot.
StartLimitIntervalSec=0

[Service]
Type=simple
User=${APP_USER}
Group=${APP_USER}
WorkingDirectory=${APP_DIR}
Environment=NODE_ENV=production
Environment=HOST=0.0.0.0
Environment=PORT=${PORT}
Environment="MONGODB_URI=mongodb://127.0.0.1:27017/parley?replicaSet=${REPLICA_SET}"
Environment=LOG_LEVEL=info
Environment=DATA_DIR=${STATE_DIR}
ExecStart=/usr/bin/node dist/server.js
Restart=on-failure
RestartSec=3
NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=full
ProtectHome=true

[Install]
WantedBy=multi-user.target
EOF
  systemctl daemon-reload
fi
systemctl enable parley
systemctl restart parley

step "waiting for http://127.0.0.1:${PORT}/healthz"
if ! retry_for 90 parley_healthy; then
  journalctl -u parley -n 50 --no-pager >&2 || true
  die "parley did not answer on port ${PORT}"
fi
curl -fsS "http://127.0.0.1:${PORT}/healthz"
echo
echo "Parley is running: http://localhost:${PORT} (on the host, through the forwarded port)"
