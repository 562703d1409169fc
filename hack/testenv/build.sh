#!/usr/bin/env bash
# Builds the local test control plane from the Go modules pinned beside this
# script (no Docker, no binary downloads: only the Go module proxy is reachable).
#
#   hack/testenv/build.sh [core|all]   core: kube-apiserver, etcd, kubectl, kubelet-stub + CAPI CRDs
#                                      all:  core + clusterctl and the three CAPI managers
#   hack/testenv/build.sh --print-dir  print the bin dir for the pinned inputs, build nothing
#
# Output goes to .cache/testenv/<key>/{bin,crds/capi}, where <key> names the
# pinned versions plus a hash of every input, so a version bump or a main.go
# edit builds into a fresh directory and never mixes with an older build.
# Binaries already present are skipped. .cache/testenv/current.json tells the
# TypeScript side (test/testenv) where everything is, so it needs no Go.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.cache/testenv"

mode="core"
print_dir=false
for arg in "$@"; do
  case "$arg" in
    core | all) mode="$arg" ;;
    --print-dir) print_dir=true ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $arg (want core, all or --print-dir)" >&2; exit 2 ;;
  esac
done

# The module's version as pinned in go.mod; read with awk so --print-dir and a
# warm run need no Go toolchain at all.
pinned() {
  awk -v m="$2" '{ i = ($1 == "require") ? 2 : 1 } $i == m && $(i + 1) ~ /^v/ { print $(i + 1); exit }' "$here/$1/go.mod"
}
k8s_version="$(pinned kube k8s.io/kubernetes)"
etcd_version="$(pinned etcd go.etcd.io/etcd/server/v3)"
capi_version="$(pinned capi sigs.k8s.io/cluster-api)"
for v in k8s_version etcd_version capi_version; do
  [[ -n "${!v}" ]] || { echo "build.sh: cannot read $v from hack/testenv/*/go.mod" >&2; exit 1; }
done

inputs_hash="$(cd "$here" && find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name build.sh \) -print0 \
  | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
key="k8s-${k8s_version}_etcd-${etcd_version}_capi-${capi_version}_${inputs_hash}"
out="$cache/$key"
bin="$out/bin"
crds="$out/crds/capi"

if $print_dir; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin" "$crds"
# Several test processes may find the binaries missing at once; one builds.
exec 9>"$cache/build.lock"
flock 9

log() { echo "[testenv] $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

need_go() {
  command -v go >/dev/null || { log "go is not installed; it is needed once to build the test control plane"; exit 1; }
}

# The version strings upstream's release build stamps in; without them the
# binaries report v0.0.0-master, which Cluster API refuses as a management cluster.
stamp() { # <package> <version>
  local v="$2" minor="${2#v*.}"
  minor="${minor%%.*}"
  local major="${v#v}"
  major="${major%%.*}"
  echo "-X $1.gitVersion=$v -X $1.gitMajor=$major -X $1.gitMinor=$minor"
}
kube_ldflags="$(stamp k8s.io/component-base/version "$k8s_version") $(stamp k8s.io/client-go/pkg/version "$k8s_version")"
capi_ldflags="$(stamp sigs.k8s.io/cluster-api/version "$capi_version") $kube_ldflags"

build() { # <binary name> <module dir> <package> <ldflags>
  local name="$1" dir="$2" pkg="$3" ldflags="$4" start
  if [[ -x "$bin/$name" ]]; then
    log "$name: present, skipped"
    return
  fi
  need_go
  start="$(now)"
  log "$name: building $pkg ..."
  # Build to a temporary name and rename, so an interrupted build never leaves
  # a file that a later run would take for a finished binary.
  (cd "$here/$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin/.$name.partial" "$pkg")
  mv -f "$bin/.$name.partial" "$bin/$name"
  log "$name: built in $(since "$start")"
}

copy_capi_crds() {
  local start dir n=0 src
  if [[ -f "$crds/.complete" ]]; then
    log "CAPI CRDs: present, skipped"
    return
  fi
  need_go
  start="$(now)"
  # Only the cluster-api module itself is downloaded here, not its dependencies.
  dir="$(cd "$here/capi" && go mod download -json "sigs.k8s.io/cluster-api@$capi_version" | jq -r .Dir)"
  # v1.14 keeps the core manager under core/; earlier releases at the root.
  for src in core/config/crd/bases config/crd/bases bootstrap/kubeadm/config/crd/bases controlplane/kubeadm/config/crd/bases; do
    [[ -d "$dir/$src" ]] || continue
    for f in "$dir/$src"/*.yaml; do
      install -m 0644 "$f" "$crds/"
      n=$((n + 1))
    done
  done
  [[ $n -gt 0 ]] || { log "no CRDs found in $dir"; exit 1; }
  touch "$crds/.complete"
  log "CAPI CRDs: copied $n files in $(since "$start")"
}

write_current() {
  local tmp="$cache/.current.json.partial" names=() f
  for f in "$bin"/*; do [[ -x "$f" ]] && names+=("$(basename "$f")"); done
  jq -n --arg key "$key" --arg bin "$bin" --arg crd "$crds" \
    --arg k8s "$k8s_version" --arg etcd "$etcd_version" --arg capi "$capi_version" \
    --args '{key: $key, binDir: $bin, crdDir: $crd,
             versions: {kubernetes: $k8s, etcd: $etcd, clusterApi: $capi},
             binaries: $ARGS.positional}' "${names[@]}" >"$tmp"
  mv -f "$tmp" "$cache/current.json"
}

# Each key holds up to ~600 MB of binaries; once a newer key is complete the
# older ones are only disk. Running processes keep their unlinked binaries.
prune_old_keys() {
  local d
  for d in "$cache"/k8s-*; do
    [[ -d "$d" && "$d" != "$out" ]] || continue
    rm -rf "$d"
    log "removed the older build $(basename "$d")"
  done
}

total="$(now)"
log "building $mode into $out"
build etcd etcd . ""
build kube-apiserver kube ./cmd/kube-apiserver "$kube_ldflags"
build kubectl kube ./cmd/kubectl "$kube_ldflags"
build kubelet-stub kube ./cmd/kubelet-stub "$kube_ldflags"
copy_capi_crds
if [[ "$mode" == all ]]; then
  build clusterctl capi sigs.k8s.io/cluster-api/cmd/clusterctl "$capi_ldflags"
  build cluster-api-controller capi sigs.k8s.io/cluster-api/core "$capi_ldflags"
  build kubeadm-bootstrap-controller capi sigs.k8s.io/cluster-api/bootstrap/kubeadm "$capi_ldflags"
  build kubeadm-control-plane-controller capi sigs.k8s.io/cluster-api/controlplane/kubeadm "$capi_ldflags"
fi
write_current
prune_old_keys
log "$mode ready in $(since "$total"): $bin"
