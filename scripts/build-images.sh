#!/usr/bin/env bash
# Build stellars-hub:dev, stellars-lab:dev, stellars-lab-ds:dev and stellars-proxy:dev (Traefik) locally. An image is
# rebuilt only when its inputs (Dockerfile, build context, base) changed: the input hash is stored as an image label.
# BASE_IMAGE: use it as is; unset: a local Debian base is made with debootstrap (offline-capable).
# lab-ds installs the wheels of docker/lab-ds/requirements.lock from a cache kept across builds,
# STELLARS_LAB_DS_CACHE (default /var/cache/stellars-lab-ds; downloaded once).
# STELLARS_IMAGE_TAG: the tag to build (default dev), e.g. to try a change without replacing :dev.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: $0 [--background] [hub|lab|lab-ds|proxy]...   build the named images (default: hub lab proxy)"; }
[[ "${1:-}" == "--help" ]] && { usage; exit 0; }
# --background: return at once and build on, so the tests run meanwhile (make test and the DS
# image's first build, minutes). /tmp/stellars-build-background.status says "running PID", then
# the exit code; the tests that need the image wait for it (tests/dsimage.py).
if [[ "${1:-}" == "--background" ]]; then
  shift
  status=/tmp/stellars-build-background.status log=/tmp/stellars-build-background.log
  echo "building $* in the background (log: $log)"
  echo running >"$status"  # before this returns: a test that looks next finds the build
  (
    exec </dev/null >"$log" 2>&1
    echo "running $BASHPID" >"$status"
    rc=0; "$0" "$@" || rc=$?
    echo "$rc" >"$status.new" && mv "$status.new" "$status"
  ) &
  disown
  exit 0
fi
# the DS lab only when named (make up, make test, make bench): its first build takes minutes
targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(hub lab proxy)

if [[ -z "${BASE_IMAGE:-}" ]]; then
  "$here/scripts/make-base-image.sh"
  BASE_IMAGE=stellars-base:bookworm
fi

context_for() {  # hub: whole project (it installs the package); lab, proxy: their folder only
  case "$1" in
    hub) echo "$here" ;;
    lab|lab-ds|proxy) echo "$here/docker/$1" ;;
    *) echo "unknown image: $1" >&2; usage >&2; exit 2 ;;
  esac
}

copy_project() {  # what the hub Dockerfile uses: tracked and new files, not deleted ones
  local f
  while IFS= read -r -d '' f; do
    if [[ -e "$here/$f" ]]; then (cd "$here" && cp --parents -- "$f" "$1"/); fi
  done < <(cd "$here" && git ls-files -co --exclude-standard -z -- \
             pyproject.toml README.md constraints.txt src scripts/certs docker/hub \
             frontend/package.json frontend/package-lock.json scripts/build-static.sh)
}

for target in "${targets[@]}"; do
  tag="stellars-$target:${STELLARS_IMAGE_TAG:-dev}"
  src=$(context_for "$target")
  dockerfile="$here/docker/$target/Dockerfile"
  ctx=$(mktemp -d /tmp/stellars-ctx.XXXXXX)
  # copy the tracked files only (no .venv, caches or test output in the context)
  case "$target" in
    hub) copy_project "$ctx" ;;
    proxy) ;;  # the Dockerfile alone: the proxy's configuration is mounted by compose
    lab-ds) cp -r "$src"/. "$ctx"/  # and what both lab images share: their command and settings
            cp "$here/docker/lab/jupyterhub-singleuser" "$here/docker/lab/jupyter_server_config.json" "$ctx"/ ;;
    *) cp -r "$src"/. "$ctx"/ ;;
  esac
  cp "$dockerfile" "$ctx/Dockerfile"
  if [[ -n "${PIP_CERT:-}" && -s "${PIP_CERT}" ]]; then cp "$PIP_CERT" "$ctx/extra-ca.crt"; fi
  base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || echo "$BASE_IMAGE")
  # contents, which files are executable (a lab's command is one), and the base
  inputs=$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -type f -perm -u+x | sort
             echo "$base_id") | sha256sum | cut -c1-16)
  current=$(docker image inspect -f '{{index .Config.Labels "stellars.inputs"}}' "$tag" 2>/dev/null || true)
  if [[ "$current" == "$inputs" ]]; then
    echo "$tag up to date"
  else
    echo "building $tag (base $BASE_IMAGE)"
    if [[ "$target" == lab-ds ]]; then  # its wheels: from the cache (not inputs: the lock's hashes name them)
      cache=${STELLARS_LAB_DS_CACHE:-/var/cache/stellars-lab-ds}
      mkdir -p "$cache" 2>/dev/null || cache=${XDG_CACHE_HOME:-$HOME/.cache}/stellars-lab-ds  # not root
      cache=$cache/wheels
      "$here/docker/lab-ds/fetch-wheels.sh" "$cache" "$BASE_IMAGE"
      mkdir "$ctx/wheels"
      cp -l "$cache"/*.whl "$ctx/wheels"/ 2>/dev/null || cp "$cache"/*.whl "$ctx/wheels"/
    fi
    docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
      --label "stellars.inputs=$inputs" -t "$tag" "$ctx" >"/tmp/stellars-build-$target.log" 2>&1 \
      || { tail -n 40 "/tmp/stellars-build-$target.log"; rm -rf "$ctx"; exit 1; }
    echo "built $tag"
  fi
  rm -rf "$ctx"
done
