#!/usr/bin/env bash
# maven.sh (sourced): one artifact from Maven Central into the download cache, fetched once.
#
#   maven_artifact GROUP:ARTIFACT:VERSION:TYPE[:CLASSIFIER] FILE WHO
#     FILE (in $CACHE/dl) is kept when it is there; otherwise Maven's dependency:copy resolves the artifact in
#     a scratch folder (it wants a project to run in: scripts/reference/kafka-pom.xml) and the file is moved
#     into place only when complete, so an interrupted fetch is redone. WHO names the caller in messages.
#     Prints FILE's path; exits (die) naming the artifact when it cannot be resolved.
#   maven_dependencies POM DIR WHO
#     the runtime dependencies of POM's project but Kafka's own (org.apache.kafka: a Connect worker has them)
#     into DIR, once: DIR/.complete is written last, so an interrupted fetch is redone. Prints DIR.
# The caller sets CACHE (the download cache) before calling.
MAVEN_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

maven_artifact() {
  local gav=$1 file=$2 who=$3 work
  local out="$CACHE/dl/$file"
  if [ ! -s "$out" ]; then
    command -v mvn >/dev/null || { echo "$who: mvn not found: run scripts/install-deps.sh (installs maven)" >&2; exit 1; }
    work="$CACHE/dl.tmp.$$.$RANDOM"
    rm -rf "$work" && mkdir -p "$work" "$CACHE/dl"
    cp "$MAVEN_HERE/reference/kafka-pom.xml" "$work/pom.xml"
    echo "$who: resolving $gav from Maven Central (first run only)" >&2
    if ! (cd "$work" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
            "-Dartifact=$gav" -DoutputDirectory="$work/dl" >"$work/mvn.log" 2>&1); then
      tail -30 "$work/mvn.log" >&2
      rm -rf "$work"
      echo "$who: could not resolve $gav from Maven Central (is the network up? see the log above)" >&2
      exit 1
    fi
    [ -s "$work/dl/$file" ] || { rm -rf "$work"; echo "$who: $gav resolved, but $file is not what Maven wrote" >&2; exit 1; }
    mv "$work/dl/$file" "$out"
    rm -rf "$work"
  fi
  printf '%s\n' "$out"
}

maven_dependencies() {
  local pom=$1 dir=$2 who=$3 work
  if [ ! -f "$dir/.complete" ]; then
    command -v mvn >/dev/null || { echo "$who: mvn not found: run scripts/install-deps.sh (installs maven)" >&2; exit 1; }
    work="$CACHE/dl.tmp.$$.$RANDOM"
    rm -rf "$work" "$dir" && mkdir -p "$work"
    cp "$pom" "$work/pom.xml"
    echo "$who: resolving the dependencies of $(basename "$pom") from Maven Central (first run only)" >&2
    if ! (cd "$work" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
            -DexcludeGroupIds=org.apache.kafka -DincludeScope=runtime -DoutputDirectory="$dir" >"$work/mvn.log" 2>&1); then
      tail -30 "$work/mvn.log" >&2
      rm -rf "$work" "$dir"
      echo "$who: could not resolve the dependencies of $pom from Maven Central (is the network up? see the log above)" >&2
      exit 1
    fi
    rm -rf "$work"
    touch "$dir/.complete"
  fi
  printf '%s\n' "$dir"
}
