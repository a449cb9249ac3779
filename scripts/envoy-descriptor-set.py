#!/usr/bin/env python3
"""Writes a FileDescriptorSet of the Envoy APIs SwiftMesh uses, taken from the PyPI
package `xds-protos` (each of its `_pb2` modules embeds its serialized FileDescriptorProto).

Usage: envoy-descriptor-set.py OUT.pb FILES.txt

OUT.pb    receives the FileDescriptorSet: the root files below plus every file they import,
          transitively (annotations and google/protobuf/* included, as protoc needs them).
FILES.txt receives the .proto paths to generate Swift for, one per line: the smallest set of
          files, closed under "a field or an RPC uses a type defined in that file", starting
          from the roots. Files that are only imported for their options (validate, udpa and
          xds annotations, ...) and google/protobuf/* (shipped by SwiftProtobuf) are left out.
"""

import importlib
import sys

from google.protobuf import descriptor_pb2

# The Envoy API surface SwiftMesh needs, as Python modules of xds-protos.
ROOT_MODULES = [
    # ADS (SotW + delta) and the DiscoveryRequest/Response messages.
    "envoy.service.discovery.v3.ads_pb2",
    "envoy.service.discovery.v3.discovery_pb2",
    # SDS.
    "envoy.service.secret.v3.sds_pb2",
    # xDS resource types.
    "envoy.config.listener.v3.listener_pb2",
    "envoy.config.route.v3.route_pb2",
    "envoy.config.cluster.v3.cluster_pb2",
    "envoy.config.endpoint.v3.endpoint_pb2",
    "envoy.extensions.transport_sockets.tls.v3.tls_pb2",
    "envoy.extensions.transport_sockets.tls.v3.secret_pb2",
    # Filters and typed extensions carried in Any.
    "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
    "envoy.extensions.filters.network.tcp_proxy.v3.tcp_proxy_pb2",
    "envoy.config.rbac.v3.rbac_pb2",
    "envoy.extensions.filters.http.rbac.v3.rbac_pb2",
    "envoy.extensions.filters.network.rbac.v3.rbac_pb2",
    "envoy.extensions.filters.http.router.v3.router_pb2",
    "envoy.extensions.filters.http.fault.v3.fault_pb2",
    "envoy.extensions.filters.http.jwt_authn.v3.config_pb2",
    "envoy.extensions.filters.http.local_ratelimit.v3.local_rate_limit_pb2",
    "envoy.extensions.upstreams.http.v3.http_protocol_options_pb2",
]

# Generated Swift for these comes from SwiftProtobuf itself.
PROVIDED_PREFIXES = ("google/protobuf/",)


def main() -> None:
    out_path, files_path = sys.argv[1], sys.argv[2]

    roots = [importlib.import_module(name).DESCRIPTOR for name in ROOT_MODULES]

    # 1. Every file reachable through imports: protoc needs all of them.
    all_files = {}
    order = []  # dependencies before dependents

    def visit(fd):
        if fd.name in all_files:
            return
        all_files[fd.name] = fd
        for dep in fd.dependencies:
            visit(dep)
        order.append(fd)

    for fd in roots:
        visit(fd)

    # 2. The files whose types are used: close over field and RPC types.
    def used_files(fd):
        used = set()

        def message(md):
            for field in md.fields:
                target = field.message_type or field.enum_type
                if target is not None:
                    used.add(target.file.name)
            for nested in md.nested_types:
                message(nested)

        for md in fd.message_types_by_name.values():
            message(md)
        for sd in fd.services_by_name.values():
            for method in sd.methods:
                used.add(method.input_type.file.name)
                used.add(method.output_type.file.name)
        return used

    generate = set()
    pending = [fd.name for fd in roots]
    while pending:
        name = pending.pop()
        if name in generate:
            continue
        generate.add(name)
        pending.extend(used_files(all_files[name]) - generate)

    generate = sorted(n for n in generate if not n.startswith(PROVIDED_PREFIXES))

    fds = descriptor_pb2.FileDescriptorSet()
    for fd in order:
        fds.file.add().ParseFromString(fd.serialized_pb)
    with open(out_path, "wb") as out:
        out.write(fds.SerializeToString())
    with open(files_path, "w") as out:
        out.write("".join(name + "\n" for name in generate))

    print(
        f"descriptor set: {len(order)} files; generating {len(generate)}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
