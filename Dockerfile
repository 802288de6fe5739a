# The fakbench node-bench image: Debian 12 with what scripts/setup.sh
# installs, and no native code. bin/fakbench is built when a container
# starts, on the node that runs it (scripts/container_entrypoint.sh):
#
#   docker build -t fakbench .
#   docker run --rm -v fakbench-cache:/cache -v "$PWD/fleet-nodes:/artifacts" fakbench \
#       scripts/node_bench.sh --host="$(hostname -s)" --out="/artifacts/$(hostname -s)"
#
# Why build at start: llama.cpp is compiled by cgo with -march=native, so
# its objects belong to the CPU that compiled them (another CPU may die with
# SIGILL, or run code tuned for someone else). One image serves every CPU
# kind of a fleet; the Go build cache lives in a volume under /cache, in a
# directory named by the node's CPU fingerprint (scripts/cpu_fingerprint.sh),
# so nodes of one kind share their compiled objects and no kind ever gets
# another's. The first start on a kind compiles llama.cpp (about 3.5 minutes
# on 2 cores); later starts only link. scripts/check_build_cpu.sh then
# refuses a binary whose recorded fingerprint is not this CPU's.
#
# Linted by hadolint (make test); its RUN steps are proved in a clean
# Debian 12 root by deploy/rootfs_test.go (FAK_ROOTFS_TEST=1), which
# understands exactly the instructions used here.

# The Go toolchain the README's machine has (Go 1.26), from the official
# image built on Debian 12.
FROM golang:1.26-bookworm AS go

FROM debian:12-slim

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ENV DEBIAN_FRONTEND=noninteractive \
    GOTOOLCHAIN=local \
    GOPATH=/opt/go \
    PATH=/usr/local/go/bin:/opt/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# What scripts/setup.sh expects of the machine (README: Debian 12, gcc 12,
# CMake, Python 3.11 with pip, git, make). Versions are Debian 12's: a stable
# release only takes fixes, and pinning exact versions would break the
# build at its next point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        bash ca-certificates cmake g++ gcc git make python3 python3-pip python3-venv \
    && rm -rf /var/lib/apt/lists/*

COPY --from=go /usr/local/go /usr/local/go

WORKDIR /src
COPY . /src

# Exactly what make setup installs: Go modules and the llama.cpp headers,
# the OpenVINO wheel in .venv, our small OpenVINO C++ library (ovshim,
# built with CMake against the wheel, without -march flags, so it runs on
# any x86-64 CPU), the real model, Chromium, hadolint. No -march=native
# object enters the image. Then the files go to
# an unprivileged user, and the caches of the installers are dropped.
RUN bash scripts/setup.sh \
    && rm -rf /var/lib/apt/lists/* /root/.cache \
    && groupadd --gid 10001 fakbench \
    && useradd --create-home --uid 10001 --gid 10001 fakbench \
    && install -d -o fakbench -g fakbench /cache /artifacts \
    && chown -R fakbench:fakbench /src /opt/go

# Nothing is fetched after the image is built: the modules are in /opt/go.
ENV GOPROXY=off \
    FAK_BUILD_CACHE=/cache

USER 10001:10001
VOLUME ["/cache", "/artifacts"]
# The entrypoint builds bin/fakbench for this node, then runs the command:
# by default the binary's help; the node bench is
#   scripts/node_bench.sh --host=NAME --out=/artifacts/NAME
ENTRYPOINT ["/src/scripts/container_entrypoint.sh"]
CMD ["bin/fakbench", "help"]
