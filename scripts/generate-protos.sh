#!/usr/bin/env bash
# Regenerates Sources/MeshProto/Generated from
#   - Protos/istio/**.proto (written in this repo), and
#   - Envoy's API descriptors shipped in the PyPI package `xds-protos`
#     (see scripts/envoy-descriptor-set.py for the exact set).
#
# Run from anywhere; developers run it once after changing a .proto or a pinned version and
# commit the output. CI never runs it. It is idempotent: the Generated folder is wiped and
# rewritten every time.
#
# Needs: swift (for the plugins), python3 with venv + pip (PyPI reachable), nothing else.
# Scratch: .build-protoc/ (plugin build, descriptor set) and .venv-protos/ (protoc,
# xds-protos), both git-ignored and reused on the next run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scratch="$root/.build-protoc"
venv="$root/.venv-protos"
out="$root/Sources/MeshProto/Generated"

swift_protobuf_version=1.39.0
grpc_swift_protobuf_version=2.4.1

mkdir -p "$scratch/plugins"

# 1. protoc and Envoy's descriptors, pinned in requirements-protos.txt.
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements-protos.txt"
protoc=("$venv/bin/python" -m grpc_tools.protoc)
wkt_include=$("$venv/bin/python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
echo "protoc: $("${protoc[@]}" --version)"

# 2. The two protoc plugins, built from the same package versions the project resolves.
manifest=$(cat <<SWIFT
// swift-tools-version: 6.1
// Throwaway package written by scripts/generate-protos.sh: builds the protoc plugins.
import PackageDescription

let package = Package(
    name: "ProtocPlugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "$swift_protobuf_version"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "$grpc_swift_protobuf_version"),
    ],
    targets: []
)
SWIFT
)
# Rewrite the manifest only when it changes, so a rerun reuses the previous build.
if [ "$(cat "$scratch/plugins/Package.swift" 2>/dev/null)" != "$manifest" ]; then
  printf '%s\n' "$manifest" > "$scratch/plugins/Package.swift"
fi
echo "building protoc-gen-swift and protoc-gen-grpc-swift-2 (several minutes the first time)"
# One scratch folder per product. A plugin already built from the current manifest is reused:
# SwiftPM rebuilds much of protoc-gen-grpc-swift-2 on every invocation otherwise.
build_plugin() {
  local product=$1
  local scratch_path="$scratch/plugins/.build-$product"
  local binary="$scratch_path/debug/$product"
  if [ ! -x "$binary" ] || [ "$scratch/plugins/Package.swift" -nt "$binary" ]; then
    swift build -c debug --package-path "$scratch/plugins" \
      --scratch-path "$scratch_path" --product "$product" >&2
  fi
  echo "$binary"
}
gen_swift=$(build_plugin protoc-gen-swift)
gen_grpc=$(build_plugin protoc-gen-grpc-swift-2)

# 3. Envoy: a FileDescriptorSet of the needed files and their imports, and the list of files
#    whose types are actually used (the ones to generate).
"$venv/bin/python" "$root/scripts/envoy-descriptor-set.py" \
  "$scratch/envoy-descriptors.pb" "$scratch/envoy-files.txt"
mapfile -t envoy_files < "$scratch/envoy-files.txt"
# Files declaring gRPC services, for the gRPC plugin.
envoy_services=(
  envoy/service/discovery/v3/ads.proto
  envoy/service/secret/v3/sds.proto
)

# 4. Generate. One module holds everything, so no module mappings are needed; file names are
#    made from the proto path so that base names are unique within the target.
swift_opts="--swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores"
grpc_opts="--grpc-swift-2_opt=Visibility=Public --grpc-swift-2_opt=Client=true --grpc-swift-2_opt=Server=true --grpc-swift-2_opt=FileNaming=PathToUnderscores"

rm -rf "$out"
mkdir -p "$out/Envoy" "$out/Istio"

"${protoc[@]}" \
  --plugin=protoc-gen-swift="$gen_swift" \
  --descriptor_set_in="$scratch/envoy-descriptors.pb" \
  --swift_out="$out/Envoy" $swift_opts \
  "${envoy_files[@]}"

"${protoc[@]}" \
  --plugin=protoc-gen-grpc-swift-2="$gen_grpc" \
  --descriptor_set_in="$scratch/envoy-descriptors.pb" \
  --grpc-swift-2_out="$out/Envoy" $grpc_opts \
  "${envoy_services[@]}"

istio_files=(
  istio/v1/auth/ca.proto
  istio/workload/workload.proto
  istio/security/authorization.proto
)
istio_services=(
  istio/v1/auth/ca.proto
)
"${protoc[@]}" \
  --plugin=protoc-gen-swift="$gen_swift" \
  -I "$root/Protos" -I "$wkt_include" \
  --swift_out="$out/Istio" $swift_opts \
  "${istio_files[@]}"

"${protoc[@]}" \
  --plugin=protoc-gen-grpc-swift-2="$gen_grpc" \
  -I "$root/Protos" -I "$wkt_include" \
  --grpc-swift-2_out="$out/Istio" $grpc_opts \
  "${istio_services[@]}"

count=$(find "$out" -name '*.swift' | wc -l)
echo "wrote $count Swift files to ${out#"$root"/}"
