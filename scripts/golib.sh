# golib.sh: a Go toolchain for the scripts that build servers and tools from the Go module proxy
# (ferretdb.sh, compose.sh). Source it after setting CACHE and defining die; call ensure_go.
GOLIB_WHO=$(basename "$0")
# go_ok: the go on PATH is 1.$GO_MIN or newer (GO_MIN: the newest go.mod minor of what we build).
go_ok() {
  local v
  v=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "${v%%.*}" -gt 1 ] || { v=${v#1.}; [ "${v%%.*}" -ge "${GO_MIN:-24}" ]; }
}

# A Go toolchain for the build: the installed one when it is new enough, else the one the Go module proxy
# serves as module golang.org/toolchain (what `GOTOOLCHAIN=goX` downloads; Debian 12's golang is 1.19),
# unpacked once into the cache.
ensure_go() {
  command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null && go_ok && return 0
  local gv=1.26.8 proxy zip
  local gdir="$CACHE/go$gv"
  if [ ! -x "$gdir/bin/go" ]; then
    proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}
    [ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
    echo "$GOLIB_WHO: fetching Go $gv from $proxy (module golang.org/toolchain)" >&2
    mkdir -p "$CACHE"
    zip="$CACHE/go$gv.zip.$$"
    curl -fsSL --retry 3 -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$gv.linux-amd64.zip" ||
      { rm -f "$zip"; die "cannot download Go $gv from $proxy; install Go 1.${GO_MIN:-24} or newer (https://go.dev/dl)"; }
    rm -rf "$gdir.tmp"
    python3 - "$zip" "$gdir.tmp" <<'PYEOF' || { rm -rf "$zip" "$gdir.tmp"; die "cannot unpack the Go toolchain"; }
import os, sys, zipfile
# entries are golang.org/toolchain@v0.0.1-goX.linux-amd64/<GOROOT path>
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        name = info.filename.split(".linux-amd64/", 1)
        if len(name) < 2 or not name[1] or ".." in name[1].split("/"):
            continue
        out = os.path.join(sys.argv[2], name[1])
        if info.is_dir():
            os.makedirs(out, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(out, mode or 0o644)
PYEOF
    rm -f "$zip"
    mv "$gdir.tmp" "$gdir"
  fi
  PATH="$gdir/bin:$PATH"
  go_ok || die "the Go toolchain in $gdir does not run"
}

# go_build_module MODULE VERSION PKG BIN VERSION_ARG [GO BUILD ARGS...]: downloads MODULE@VERSION from the
# Go module proxy, builds PKG (a path inside the module) in a writable copy into BIN, and checks that
# `BIN VERSION_ARG` runs. A shell function named go_prepare, if defined, runs in the copy first (FerretDB
# writes a generated file there). GOTOOLCHAIN=local: never download another toolchain. The binary is
# moved into place last, so an interrupted build is redone.
go_build_module() {
  local mod=$1 ver=$2 pkg=$3 bin=$4 varg=$5 dir src log
  shift 5
  ensure_go
  dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$mod@$ver" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $mod@$ver gave no module directory"
  mkdir -p "$(dirname "$bin")"
  src="$(dirname "$bin")/../src.$$"
  log="$(dirname "$bin")/../build.log"
  rm -rf "$src"
  cp -r "$dir" "$src" && chmod -R u+w "$src"
  if ! (cd "$src" && { ! declare -F go_prepare >/dev/null || go_prepare; } &&
        GOTOOLCHAIN=local go build -buildvcs=false -trimpath "$@" -o "$bin.tmp" "$pkg") >"$log" 2>&1; then
    tail -30 "$log" >&2
    rm -rf "$src" "$bin.tmp"
    die "go build of $mod $ver failed (log: $log)"
  fi
  rm -rf "$src"
  "$bin.tmp" "$varg" >/dev/null 2>&1 || { rm -f "$bin.tmp"; die "the built binary does not run: $bin.tmp $varg failed"; }
  mv "$bin.tmp" "$bin"
}
