#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, for the kubernetes backend's tests.
# Kubernetes 1.20.2 is built once from Debian's source package (vendored dependencies, Debian's
# Go in GOPATH mode) and cached by version; every component listens on 127.0.0.1 only; the
# kubelet runs pods on the local Docker engine through its built-in dockershim. No CNI and no
# kube-proxy: pods use the host network, images come from the local engine (pull policy Never).
set -euo pipefail

K8S_VERSION=1.20.2
CACHE=${STELLARS_K8S_CACHE:-/var/cache/stellars-k8s/$K8S_VERSION}   # source, build, binaries
STATE=${STELLARS_K8S_STATE:-/var/tmp/stellars-k8s}                 # certs, etcd, logs, pids
BIN=$CACHE/bin
PKI=$STATE/pki
KUBELET_ROOT=$STATE/kubelet
KUBECONFIG_OUT=$STATE/admin.kubeconfig
NODE=127.0.0.1             # the kubelet refuses a loopback --node-ip; as hostname it becomes InternalIP
PAUSE_IMAGE=stellars-k8s-pause:1
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet)
# where the controller-manager's development hostPath provisioner puts volumes (fixed by
# Kubernetes; it deletes only paths under /tmp)
PV_ROOT=/tmp/hostpath_pv

usage() {
  cat <<USAGE
usage: $0 up|down|status|build

  build   build Kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager,
          kube-scheduler, kubelet, kubectl) from Debian's source package into
          $BIN (skipped when present; about 7 min on 2 cores)
  up      build if needed, then start etcd, kube-apiserver, kube-controller-manager,
          kube-scheduler and the kubelet on 127.0.0.1, wait for the node to be Ready and
          print the kubeconfig path ($KUBECONFIG_OUT)
  down    stop those processes (by pid), remove the kubelet's containers, mounts and state
  status  say which components run and whether the node is Ready

Environment: STELLARS_K8S_CACHE (build cache, default /var/cache/stellars-k8s/<version>),
STELLARS_K8S_STATE (runtime state and logs, default /var/tmp/stellars-k8s). Needs root and a
running Docker engine (scripts/ensure-engine.sh); installs Debian packages it lacks.
USAGE
}

T0=$(date +%s)
STEP=""
log() { echo "[k8s-test-cluster +$(( $(date +%s) - T0 ))s] $*"; }
step() { STEP=$1; log "$1"; }
fail() { echo "k8s-test-cluster: FAILED at step '$STEP': $*" >&2; exit 1; }
trap 'rc=$?; [[ $rc -eq 0 || $STEP == finished ]] || echo "k8s-test-cluster: step \"$STEP\" failed (exit $rc); logs in $STATE/logs" >&2' EXIT

kubectl_() { "$BIN/kubectl" --kubeconfig="$KUBECONFIG_OUT" "$@"; }

waitfor() { # description seconds command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq "$secs"); do
    if "$@" >/dev/null 2>&1; then log "$what: ok"; return 0; fi
    sleep 1
  done
  fail "timed out after ${secs}s waiting for $what"
}

need_root() { [[ $(id -u) -eq 0 ]] || fail "must run as root (it starts a kubelet and writes $CACHE)"; }

install_packages() {
  step "Debian packages"
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  apt-get update -q >/dev/null || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]}"
}

# ---------------------------------------------------------------------------------------- build
binaries_present() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    [[ -x $BIN/$b ]] || return 1
  done
}

ensure_deb_src() {
  if apt-get source --print-uris kubernetes >/dev/null 2>&1; then return 0; fi
  step "deb-src entry for Debian's kubernetes source package"
  local mirror suite
  mirror=$("$(dirname "$0")/debian-mirror.sh") || fail "no Debian mirror in apt's sources"
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" > /etc/apt/sources.list.d/stellars-k8s-src.sources
  apt-get update -q >/dev/null || fail "apt-get update with the deb-src entry"
}

build() {
  need_root
  if binaries_present; then log "Kubernetes $K8S_VERSION binaries cached in $BIN"; return 0; fi
  install_packages golang-go rsync dpkg-dev golang-github-modern-go-reflect2-dev make gcc libc6-dev
  local src=$CACHE/src gopath=$CACHE/gopath tb
  local kroot=$gopath/src/k8s.io/kubernetes
  mkdir -p "$src" "$gopath/src/k8s.io" "$STATE/logs"
  if [[ ! -d $src/kubernetes ]]; then
    ensure_deb_src
    step "fetching Debian's kubernetes source package"
    rm -rf "$src/tmp" && mkdir -p "$src/tmp"
    (cd "$src/tmp" && apt-get source kubernetes) > "$STATE/logs/apt-source.log" 2>&1 \
      || fail "apt-get source kubernetes (see $STATE/logs/apt-source.log)"
    local dir
    dir=$(find "$src/tmp" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
    [[ -n $dir ]] || fail "no kubernetes-* directory from apt-get source"
    head -n1 "$dir/debian/changelog" | grep -qF "$K8S_VERSION" \
      || fail "Debian's source package is not Kubernetes $K8S_VERSION (see $dir/debian/changelog)"
    mv "$dir" "$src/kubernetes" && rm -rf "$src/tmp"
  fi
  ln -sfn "$src/kubernetes" "$kroot"

  step "patching the source for this machine"
  # vendored modern-go/reflect2 1.0.1 crashes on Go >= 1.18 (JSON encoding of maps): use Debian's 1.0.2
  local vendored=$kroot/vendor/github.com/modern-go/reflect2
  rm -rf "$vendored" && cp -a /usr/share/gocode/src/github.com/modern-go/reflect2 "$vendored"
  # root here lacks CAP_SYS_RESOURCE, so runc fails on any negative oom_score_adj; the kubelet
  # hard-codes -998 (pod sandbox) and -997 (Guaranteed pods)
  sed -i 's/defaultSandboxOOMAdj int = -998$/defaultSandboxOOMAdj int = 0 \/\/ stellars: no CAP_SYS_RESOURCE/' \
    "$kroot/pkg/kubelet/dockershim/docker_sandbox.go"
  sed -i 's/^\t\treturn guaranteedOOMScoreAdj$/\t\treturn 0 \/\/ stellars: no CAP_SYS_RESOURCE/' \
    "$kroot/pkg/kubelet/qos/policy.go"
  if ! grep -q 'stellars: no CAP' "$kroot/pkg/kubelet/dockershim/docker_sandbox.go" \
    || ! grep -q 'stellars: no CAP' "$kroot/pkg/kubelet/qos/policy.go"; then
    fail "OOM score patch did not apply"
  fi

  step "building Kubernetes $K8S_VERSION (log: $STATE/logs/build.log; about 7 min on 2 cores)"
  tb=$(date +%s)
  (cd "$kroot" && GOPATH=$gopath GO111MODULE=off GOFLAGS="" \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kubectl") \
    > "$STATE/logs/build.log" 2>&1 || fail "make (tail of $STATE/logs/build.log: $(tail -n 5 "$STATE/logs/build.log"))"
  mkdir -p "$BIN.tmp"
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    cp "$kroot/_output/bin/$b" "$BIN.tmp/$b"
  done
  rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
  # the build tree is 2+ GB; the five binaries are all that is needed again
  rm -rf "$kroot/_output"
  log "build took $(( $(date +%s) - tb ))s; binaries in $BIN"
}

# ---------------------------------------------------------------------------------------- certs
make_cert() { # name CN O SAN
  local name=$1 cn=$2 org=$3 san=$4 usage=clientAuth
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "/CN=$cn${org:+/O=$org}" -out "$PKI/$name.csr"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    if [[ -n $san ]]; then usage=serverAuth,clientAuth; echo "subjectAltName=$san"; fi
    echo "extendedKeyUsage=$usage"
  } > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}

make_kubeconfig() { # file cert-name
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: stellars-test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$2.crt")
    client-key-data: $(base64 -w0 < "$PKI/$2.key")
contexts:
- name: stellars-test
  context: {cluster: stellars-test, user: $2, namespace: default}
current-context: stellars-test
KC
  chmod 600 "$1"
}

certificates() {
  [[ -f $KUBECONFIG_OUT ]] && return 0
  step "certificates and kubeconfigs"
  mkdir -p "$PKI" && chmod 700 "$PKI"
  openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -nodes -key "$PKI/ca.key" -subj "/CN=stellars-k8s-test-ca" -days 3650 -out "$PKI/ca.crt"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  make_cert apiserver kube-apiserver "" \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  make_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters ""
  make_cert controller-manager system:kube-controller-manager "" ""
  make_cert scheduler system:kube-scheduler "" ""
  make_cert kubelet "system:node:$NODE" system:nodes ""
  make_cert admin stellars-test-admin system:masters ""
  make_kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager
  make_kubeconfig "$STATE/scheduler.kubeconfig" scheduler
  make_kubeconfig "$STATE/kubelet.kubeconfig" kubelet
  make_kubeconfig "$KUBECONFIG_OUT.tmp" admin
  mv "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
}

# ------------------------------------------------------------------------------------ processes
# alive (a zombie, or a pid reused by another program, does not count)
running() {
  local pid state
  [[ -f $STATE/$1.pid ]] || return 1
  pid=$(cat "$STATE/$1.pid")
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$1"
}

start() { # name command...
  local name=$1; shift
  if running "$name"; then log "$name already running (pid $(cat "$STATE/$name.pid"))"; return 0; fi
  (  # the daemon keeps no descriptor of its caller's (a lock held around `up` would never be freed)
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      if ((fd > 2 && fd != 255)); then eval "exec $fd>&-"; fi  # 255: bash's own
    done
    exec setsid "$@" > "$STATE/logs/$name.log" 2>&1 < /dev/null
  ) &
  echo $! > "$STATE/$name.pid"
  log "started $name (pid $!, log $STATE/logs/$name.log)"
}

node_ready() {
  kubectl_ get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

up() {
  need_root
  docker info >/dev/null 2>&1 || fail "the Docker engine does not answer (run scripts/ensure-engine.sh)"
  build
  install_packages etcd-server openssl curl
  mkdir -p "$STATE/logs" "$STATE/etcd" "$KUBELET_ROOT" "$PV_ROOT"
  chmod 700 "$STATE/etcd"
  certificates

  step "etcd"
  start etcd etcd --name stellars-test --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster stellars-test=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381
  waitfor "etcd health" 60 curl -sf http://127.0.0.1:2379/health

  step "kube-apiserver"
  # a loopback advertise address needs --endpoint-reconciler-type=none
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 --insecure-port=0 \
    --endpoint-reconciler-type=none --service-cluster-ip-range=10.96.0.0/24 \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --enable-admission-plugins=NodeRestriction
  waitfor "kube-apiserver /readyz" 120 kubectl_ get --raw /readyz

  step "kube-controller-manager and kube-scheduler"
  # the development hostPath provisioner gives claims real volumes without a storage driver
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --port=0 --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=true --controllers='*' --enable-hostpath-provisioner=true
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --port=0 --leader-elect=false
  waitfor "default service account" 90 kubectl_ -n default get serviceaccount default

  step "storage class"
  kubectl_ apply -f - >/dev/null <<'SC' || fail "kubectl apply storage class"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: stellars-hostpath
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
SC

  step "pause image $PAUSE_IMAGE"
  if ! docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
    # any local image with a shell will do: the sandbox only has to sleep until stopped
    local base
    base=$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(stellars-base:bookworm|debian:bookworm-slim|stellars-lab:dev)$' | head -n1)
    [[ -n $base ]] || fail "no local base image (stellars-base:bookworm, debian:bookworm-slim or stellars-lab:dev) for the pause image; run make images"
    printf 'FROM %s\nUSER 0\nENTRYPOINT ["/bin/sh","-c","trap \\"exit 0\\" TERM INT; sleep infinity & wait"]\n' "$base" \
      | docker build -q -t "$PAUSE_IMAGE" - > "$STATE/logs/pause-image.log" 2>&1 \
      || fail "docker build $PAUSE_IMAGE (see $STATE/logs/pause-image.log)"
  fi

  step "kubelet"
  local cgroup_driver
  cgroup_driver=$(docker info --format '{{.CgroupDriver}}')
  # image GC and eviction thresholds that never remove images from the shared engine; volume
  # statistics every 10 s instead of every minute (the volume size tests wait for them)
  start kubelet "$BIN/kubelet" \
    --kubeconfig="$STATE/kubelet.kubeconfig" \
    --container-runtime=docker --docker-endpoint=unix:///var/run/docker.sock \
    --cgroup-driver="$cgroup_driver" --cgroups-per-qos=false --enforce-node-allocatable="" \
    --fail-swap-on=false --pod-infra-container-image="$PAUSE_IMAGE" \
    --hostname-override="$NODE" --address=127.0.0.1 --port=10250 \
    --healthz-bind-address=127.0.0.1 --read-only-port=0 \
    --root-dir="$KUBELET_ROOT" --cert-dir="$KUBELET_ROOT/pki" \
    --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
    --eviction-hard='memory.available<1Mi' --oom-score-adj=0 \
    --volume-stats-agg-period=10s \
    --client-ca-file="$PKI/ca.crt" --anonymous-auth=false --authorization-mode=AlwaysAllow
  waitfor "node $NODE Ready" 180 node_ready

  STEP=finished
  log "cluster up; kubeconfig: $KUBECONFIG_OUT"
  echo "KUBECONFIG=$KUBECONFIG_OUT"
  echo "KUBECTL=$BIN/kubectl"
}

stop_pid() { # name
  local name=$1 pid
  [[ -f $STATE/$name.pid ]] || return 0
  pid=$(cat "$STATE/$name.pid")
  if running "$name"; then
    kill "$pid"
    # the API server's graceful stop waits for open watches: 20 s, then SIGKILL
    for _ in $(seq 40); do running "$name" || break; sleep 0.5; done
    if running "$name"; then kill -9 "$pid"; fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$STATE/$name.pid"
}

down() {
  need_root
  step "deleting pods and claims while the control plane runs"
  if [[ -f $KUBECONFIG_OUT && -x $BIN/kubectl ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; then
    local ns
    for ns in $(kubectl_ get ns -o 'jsonpath={.items[*].metadata.name}'); do
      case $ns in kube-system|kube-public|kube-node-lease) continue ;; esac
      kubectl_ -n "$ns" delete pod --all --grace-period=5 --wait=true --timeout=60s >/dev/null 2>&1 || true
      kubectl_ -n "$ns" delete pvc --all --wait=true --timeout=60s >/dev/null 2>&1 || true
    done
  fi

  step "stopping processes"
  local i
  for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do stop_pid "${COMPONENTS[i]}"; done

  step "removing the kubelet's containers"
  local c name
  # dockershim names its containers k8s_* and labels them io.kubernetes.docker.type
  for c in $(docker ps -aq --filter label=io.kubernetes.docker.type 2>/dev/null); do
    name=$(docker inspect -f '{{.Name}}' "$c" 2>/dev/null || true)
    case $name in /k8s_*) docker rm -f "$c" >/dev/null && log "removed container $name" ;; esac
  done

  step "removing state"
  local m mounts
  # the kubelet's mounts (service account tokens, ...), deepest first
  mapfile -t mounts < <(awk -v root="$KUBELET_ROOT" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r)
  for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" || fail "cannot unmount $m"
  done
  rm -rf "$KUBELET_ROOT" "$STATE/etcd" "$PKI" "$STATE"/*.kubeconfig "$PV_ROOT" \
    /var/lib/dockershim /var/run/dockershim.sock /var/log/pods /var/log/containers
  remove_iptables_chains
  STEP=finished
  log "cluster down (logs kept in $STATE/logs; binaries kept in $BIN)"
}

# the kubelet creates KUBE-* chains (KUBE-FIREWALL, KUBE-MARK-*, ...); remove them and their jumps
remove_iptables_chains() {
  local tool table rule chain
  for tool in iptables ip6tables; do
    command -v "$tool-save" >/dev/null || continue
    for table in filter nat mangle; do
      # jumps into KUBE-* chains from the built-in chains (none: grep finds nothing, fine)
      { "$tool-save" -t "$table" 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -vE '^-A KUBE-' || true; } \
        | sed 's/^-A //' | while read -r rule; do
          # eval: the saved rule keeps its own quoting (comments with spaces)
          eval "$tool -t $table -D $rule" 2>/dev/null || true
        done
      for chain in $("$tool-save" -t "$table" 2>/dev/null | awk '/^:KUBE-/{print substr($1,2)}'); do
        "$tool" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$tool-save" -t "$table" 2>/dev/null | awk '/^:KUBE-/{print substr($1,2)}'); do
        "$tool" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

status() {
  local name rc=0
  if binaries_present; then echo "binaries: $BIN"; else echo "binaries: not built"; fi
  for name in "${COMPONENTS[@]}"; do
    if running "$name"; then echo "$name: running (pid $(cat "$STATE/$name.pid"))"; else echo "$name: stopped"; rc=1; fi
  done
  if [[ -f $KUBECONFIG_OUT ]] && binaries_present && node_ready; then
    echo "node $NODE: Ready"; echo "KUBECONFIG=$KUBECONFIG_OUT"; echo "KUBECTL=$BIN/kubectl"
  else
    echo "node $NODE: not ready"; rc=1
  fi
  STEP=finished
  return $rc
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  build) build; STEP=finished ;;
  -h|--help|help) usage; STEP=finished ;;
  *) usage >&2; exit 2 ;;
esac
