#!/usr/bin/env python3
"""Open-loop HTTP/1.1 load for scripts/bench-mesh.sh (Python 3 standard library only).

    mesh_load.py run --target 127.0.2.10:8080 --source 127.0.1.10 [--socks 127.0.0.2:15080]
                     [--rate 1000] [--duration 30] [--warmup 5] [--connections 32]
                     [--body-bytes 1024] [--response-bytes 1024] [--watch NAME=PID ...]
                     --label baseline --out phase.json
    mesh_load.py report phase1.json phase2.json ...

`run` opens a pool of keep-alive connections (through a SOCKS5 proxy when --socks is given),
then schedules request i at t0 + i/rate whatever happened to earlier requests (open loop): a
request whose time has come goes out on an idle connection, or waits in a FIFO queue for the
next connection that becomes free. Its latency is measured from its scheduled time to the last
byte of its response, so time spent queued behind a slow response counts (the "corrected"
latency of wrk2 and fortio). Requests scheduled during the warm-up are sent but not counted.
The schedule is driven by a timerfd (CLOCK_MONOTONIC, via ctypes) because asyncio's own timers
wake through epoll_wait, whose timeout has millisecond granularity; each request also records
how late the generator itself dispatched it ("dispatch lag"), so its own jitter is visible.

During the measured window it samples, for every --watch process, utime+stime from
/proc/PID/stat and VmRSS/VmHWM from /proc/PID/status, its own CPU time (os.times), and the whole
machine's busy time from /proc/stat. `report` prints the phases side by side.
"""

import argparse
import array
import asyncio
import collections
import ctypes
import gc
import json
import os
import socket
import statistics
import sys
import time

NS = 1_000_000_000
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- /proc sampling

def proc_cpu_seconds(pid):
    """utime+stime of every thread of `pid`, in seconds (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_runtime_seconds(pid):
    """Sum of the scheduler's exact run time of its live threads (/proc/PID/task/*/schedstat)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just exited
    return total / NS


def proc_memory_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


def machine_idle_seconds():
    """Idle+iowait of all CPUs from /proc/stat, in seconds. (Busy time there is sampled at each
    tick, which misses work that wakes in step with the tick, as a 1 kHz timer does; idle time
    is accounted when a CPU goes idle and leaves it, so busy = elapsed x CPUs - idle.)"""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    return (parts[3] + (parts[4] if len(parts) > 4 else 0)) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def sample(watch):
    times = os.times()
    snap = {"mono": time.monotonic(), "self_cpu": times.user + times.system,
            "machine_idle": machine_idle_seconds(), "loadavg": loadavg(), "procs": {}}
    for name, pid in watch.items():
        try:
            snap["procs"][name] = {"cpu": proc_cpu_seconds(pid), "runtime": proc_runtime_seconds(pid),
                                   **proc_memory_kb(pid)}
        except (OSError, ValueError, IndexError) as error:
            snap["procs"][name] = {"error": str(error)}
    return snap


# ----------------------------------------------------------------------------- timerfd

class Ticker:
    """A periodic CLOCK_MONOTONIC timerfd read by the event loop; None if unavailable."""

    class _Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    class _Itimerspec(ctypes.Structure):
        pass

    _Itimerspec._fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]

    @classmethod
    def create(cls, start_ns, interval_ns):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.timerfd_create(1, 0o4000 | 0o2000000)  # CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC
            if fd < 0:
                return None
            spec = cls._Itimerspec()
            spec.it_value.tv_sec, spec.it_value.tv_nsec = divmod(start_ns, NS)
            spec.it_interval.tv_sec, spec.it_interval.tv_nsec = divmod(interval_ns, NS)
            if libc.timerfd_settime(fd, 1, ctypes.byref(spec), None) != 0:  # TFD_TIMER_ABSTIME
                os.close(fd)
                return None
            return fd
        except (OSError, AttributeError):
            return None


# ----------------------------------------------------------------------------- connections

class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection carrying one request at a time."""

    def __init__(self, load, index):
        self.load = load
        self.index = index
        self.transport = None
        self.buffer = bytearray()
        self.request = None  # index of the request in flight
        self.head_length = None
        self.body_length = None
        self.status = None
        self.closing = False
        self.alive = False

    def connection_made(self, transport):
        self.transport = transport
        self.alive = True

    def send(self, request):
        self.request = request
        self.head_length = None
        self.load.sent_ns[request] = time.monotonic_ns()
        self.transport.write(self.load.request_bytes)

    def data_received(self, data):
        if self.request is None:
            self.load.note_error("unsolicited bytes")
            self.transport.abort()
            return
        self.buffer += data
        if self.head_length is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            try:
                self.status = int(head[0].split(" ", 2)[1])
            except (IndexError, ValueError):
                self.status = 0
            self.body_length = 0
            self.closing = False
            for line in head[1:]:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key == "content-length":
                    self.body_length = int(value.strip())
                elif key == "connection" and value.strip().lower() == "close":
                    self.closing = True
            self.head_length = end + 4
        total = self.head_length + self.body_length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[self.head_length:total])
        del self.buffer[:total]
        request, self.request = self.request, None
        self.load.complete(self, request, self.status, body)
        if self.buffer:
            self.load.note_error("bytes after response")
            self.buffer.clear()

    def connection_lost(self, exc):
        self.alive = False
        self.load.lost(self, exc)


class Load:
    def __init__(self, args):
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.target = parse_address(args.target)
        self.socks = parse_address(args.socks) if args.socks else None
        self.watch = dict(parse_watch(w) for w in args.watch)
        host = self.target[0]
        self.request_bytes = (
            f"POST /bench?size={args.response_bytes} HTTP/1.1\r\n"
            f"host: {host}\r\ncontent-type: application/octet-stream\r\n"
            f"content-length: {args.body_bytes}\r\n\r\n"
        ).encode() + b"x" * args.body_bytes
        self.total = int(round((args.warmup + args.duration) * args.rate))
        self.interval_ns = NS / args.rate
        self.sent_ns = array.array("q", [0]) * self.total
        self.done_ns = array.array("q", [0]) * self.total
        self.dispatch_ns = array.array("q", [0]) * self.total
        self.state = array.array("b", [0]) * self.total  # 0 pending, 1 ok, 2 error
        self.errors = collections.Counter()
        self.idle = collections.deque()
        self.queue = collections.deque()
        self.connections = []
        self.outstanding = 0
        self.next_request = 0
        self.reconnects = 0
        self.first_body = None
        self.all_done = asyncio.Event()
        self.samples = {}
        self.tasks = set()

    def note_error(self, kind):
        self.errors[kind] += 1

    # -- connection pool

    async def open_connection(self, index):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.args.source, 0))
            await self.loop.sock_connect(sock, self.socks or self.target)
            if self.socks:
                await self.loop.sock_sendall(sock, b"\x05\x01\x00")
                reply = await recv_exactly(self.loop, sock, 2)
                if reply != b"\x05\x00":
                    raise ConnectionError(f"SOCKS5 greeting refused: {reply.hex()}")
                await self.loop.sock_sendall(
                    sock, b"\x05\x01\x00\x01" + socket.inet_aton(self.target[0]) + self.target[1].to_bytes(2, "big"))
                reply = await recv_exactly(self.loop, sock, 10)
                if reply[1] != 0:
                    raise ConnectionError(f"SOCKS5 CONNECT refused: reply code {reply[1]} ({reply.hex()})")
            _, protocol = await self.loop.create_connection(lambda: Connection(self, index), sock=sock)
            return protocol
        except BaseException:
            sock.close()
            raise

    async def open_pool(self):
        results = await asyncio.gather(
            *(asyncio.wait_for(self.open_connection(i), 10) for i in range(self.args.connections)),
            return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            for r in results:
                if not isinstance(r, BaseException):
                    r.transport.abort()
            raise SystemExit(f"{len(failures)} of {self.args.connections} connections failed: {failures[0]!r}")
        self.connections = list(results)
        self.idle.extend(self.connections)

    async def replace(self, connection):
        """Reopens a lost connection (bounded: at most --max-reconnects in a phase)."""
        if self.reconnects >= self.args.max_reconnects or self.finished_sending_and_draining():
            return
        self.reconnects += 1
        try:
            fresh = await asyncio.wait_for(self.open_connection(connection.index), 10)
        except (OSError, ConnectionError, asyncio.TimeoutError) as error:
            self.note_error(f"reconnect failed: {type(error).__name__}")
            return
        self.connections[connection.index] = fresh
        self.free(fresh)

    def finished_sending_and_draining(self):
        return self.all_done.is_set()

    # -- schedule

    def intended_ns(self, i):
        return self.t0 + int(i * self.interval_ns)

    def on_tick(self):
        try:
            os.read(self.tick_fd, 8)
        except BlockingIOError:
            return
        self.dispatch_due()

    def dispatch_due(self):
        now = time.monotonic_ns()
        while self.next_request < self.total and self.intended_ns(self.next_request) <= now:
            i = self.next_request
            self.next_request += 1
            self.dispatch_ns[i] = now
            self.outstanding += 1
            if self.idle:
                self.idle.popleft().send(i)
            else:
                self.queue.append(i)
        if self.next_request >= self.total:
            self.stop_ticking()

    def stop_ticking(self):
        if self.tick_fd is not None:
            self.loop.remove_reader(self.tick_fd)
            os.close(self.tick_fd)
            self.tick_fd = None
        if self.tick_handle is not None:
            self.tick_handle.cancel()
            self.tick_handle = None

    def fallback_tick(self):
        """asyncio timers (millisecond granularity) when no timerfd is available."""
        self.dispatch_due()
        if self.next_request < self.total:
            when = self.intended_ns(self.next_request) / NS
            self.tick_handle = self.loop.call_at(when, self.fallback_tick)

    # -- completions

    def free(self, connection):
        if self.queue:
            connection.send(self.queue.popleft())
        else:
            self.idle.append(connection)

    def finish(self, request, ok):
        if self.state[request] != 0:
            return
        self.done_ns[request] = time.monotonic_ns()
        self.state[request] = 1 if ok else 2
        self.outstanding -= 1
        if self.outstanding == 0 and self.next_request >= self.total:
            self.all_done.set()

    def complete(self, connection, request, status, body):
        ok = status == 200 and len(body) == self.args.response_bytes
        if self.first_body is None and status == 200:
            self.first_body = body[:400].decode("utf-8", "replace")
        if not ok:
            self.note_error(f"status {status}" if status != 200 else f"body {len(body)} bytes")
        self.finish(request, ok)
        if connection.closing:
            self.note_error("server closed keep-alive connection")
            connection.transport.close()
            return
        self.free(connection)

    def lost(self, connection, exc):
        if self.all_done.is_set():
            return  # the phase is over: these are our own aborts
        if connection.request is not None:
            self.note_error(f"connection lost mid-request: {type(exc).__name__ if exc else 'EOF'}")
            request, connection.request = connection.request, None
            self.finish(request, False)
        if connection in self.idle:
            self.idle.remove(connection)
        task = self.loop.create_task(self.replace(connection))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- one phase

    async def run(self):
        args = self.args
        before = sample(self.watch)
        await self.open_pool()
        # First request scheduled 200 ms from now; the window boundaries are sampled on time.
        self.t0 = time.monotonic_ns() + 200_000_000
        window_start = self.t0 + int(args.warmup * NS)
        window_end = window_start + int(args.duration * NS)
        self.loop.call_at(window_start / NS, lambda: self.samples.__setitem__("start", sample(self.watch)))
        self.loop.call_at(window_end / NS, lambda: self.samples.__setitem__("end", sample(self.watch)))
        self.tick_handle = None
        tick_ns = max(int(self.interval_ns), 50_000)
        self.tick_fd = Ticker.create(self.t0, tick_ns)
        self.timer = "timerfd" if self.tick_fd is not None else "asyncio call_at (1 ms granularity)"
        if self.tick_fd is not None:
            self.loop.add_reader(self.tick_fd, self.on_tick)
        else:
            self.tick_handle = self.loop.call_at(self.t0 / NS, self.fallback_tick)
        # Bounded: the schedule ends at window_end; then --grace seconds for the last responses.
        remaining = (window_end - time.monotonic_ns()) / NS
        try:
            await asyncio.wait_for(self.all_done.wait(), remaining + args.grace)
        except asyncio.TimeoutError:
            pass
        self.stop_ticking()
        # Whatever is still queued or in flight did not finish within the grace period.
        unfinished = [i for i in range(self.next_request) if self.state[i] == 0]
        if unfinished:
            self.errors[f"no response within {args.grace:g} s of the end"] += len(unfinished)
            for i in unfinished:
                self.state[i] = 2
        self.all_done.set()
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.abort()
        await asyncio.sleep(0.1)
        after = sample(self.watch)
        return self.summary(before, after, window_start, window_end)

    def summary(self, before, after, window_start, window_end):
        args = self.args
        start, end = self.samples.get("start", before), self.samples.get("end", after)
        measured = [i for i in range(self.total) if window_start <= self.intended_ns(i) < window_end]
        ok = [i for i in measured if self.state[i] == 1]
        latency = sorted((self.done_ns[i] - self.intended_ns(i)) / 1e6 for i in ok)
        service = sorted((self.done_ns[i] - self.sent_ns[i]) / 1e6 for i in ok)
        queued = sorted((self.sent_ns[i] - self.dispatch_ns[i]) / 1e6 for i in ok)
        lag = sorted((self.dispatch_ns[i] - self.intended_ns(i)) / 1e6 for i in measured if self.dispatch_ns[i])
        completed_in_window = sum(
            1 for i in range(self.total) if self.state[i] == 1 and window_start <= self.done_ns[i] < window_end)
        sent_in_window = sum(1 for i in range(self.total) if self.sent_ns[i] and window_start <= self.sent_ns[i] < window_end)
        window = (end["mono"] - start["mono"]) or args.duration
        # Per second of the window (by scheduled time): requests, p99 and max latency, to tell a
        # steady tail from stalls.
        seconds = collections.defaultdict(list)
        for i in ok:
            seconds[(self.intended_ns(i) - window_start) // NS].append((self.done_ns[i] - self.intended_ns(i)) / 1e6)
        timeline = []
        for second in sorted(seconds):
            values = sorted(seconds[second])
            p = percentiles(values)
            timeline.append([int(second), len(values), round(p["p50"], 3), round(p["p99"], 3), round(p["max"], 3)])
        procs = {}
        for name in self.watch:
            b, s, e, a = (x["procs"].get(name, {}) for x in (before, start, end, after))
            entry = {}
            if "cpu" in s and "cpu" in e:
                entry["vcpu"] = (e["cpu"] - s["cpu"]) / window
                entry["vcpu_schedstat"] = (e["runtime"] - s["runtime"]) / window
            for key, snap in (("rss_kb_before", b), ("rss_kb_after", a)):
                if "VmRSS" in snap:
                    entry[key] = snap["VmRSS"]
            if "VmHWM" in a:
                entry["hwm_kb_after"] = a["VmHWM"]
            errors = [x["error"] for x in (b, s, e, a) if "error" in x]
            if errors:
                entry["error"] = errors[0]
            procs[name] = entry
        return {
            "label": args.label,
            "target": args.target,
            "via_socks": args.socks,
            "source": args.source,
            "rate": args.rate,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "body_bytes": args.body_bytes,
            "response_bytes": args.response_bytes,
            "timer": self.timer,
            "measured_requests": len(measured),
            "ok": len(ok),
            "errors": sum(self.state[i] == 2 for i in measured),
            "error_kinds": dict(self.errors),
            "reconnects": self.reconnects,
            "achieved_rps": completed_in_window / window,
            "sent_rps": sent_in_window / window,
            "latency_ms": percentiles(latency),
            "service_ms": percentiles(service),
            "queued_ms": percentiles(queued),
            "dispatch_lag_ms": percentiles(lag),
            "generator_vcpu": (end["self_cpu"] - start["self_cpu"]) / window,
            "machine_busy_pct": 100.0 * (1 - (end["machine_idle"] - start["machine_idle"]) / (window * os.cpu_count())),
            "cpus": os.cpu_count(),
            "loadavg_start": before["loadavg"],
            "loadavg_end": after["loadavg"],
            "window_s": window,
            "procs": procs,
            "latency_by_second": timeline,
            "first_response_body": self.first_body,
        }


def percentiles(values):
    if not values:
        return {}
    def rank(q):
        return values[min(len(values) - 1, max(0, int(q * len(values) + 0.999999) - 1))]
    return {"p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99), "p999": rank(0.999),
            "max": values[-1], "mean": statistics.fmean(values), "n": len(values)}


async def recv_exactly(loop, sock, n):
    data = b""
    while len(data) < n:
        chunk = await loop.sock_recv(sock, n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def parse_address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def parse_watch(text):
    name, _, pid = text.partition("=")
    return name, int(pid)


# ----------------------------------------------------------------------------- report

ISTIO = {
    "vcpu_per_1000": 0.06,
    "mb_per_1000": 12,
    "added_p90_ms": 0.17,
    "added_p99_ms": 0.20,
}


def fmt_pct(p, keys=("p50", "p90", "p99", "p999", "max")):
    return "  ".join(f"{k} {p[k]:8.3f}" for k in keys if k in p) if p else "(no successful requests)"


def report(paths):
    phases = [json.load(open(p)) for p in paths]
    runs = collections.OrderedDict()
    for phase in phases:
        runs.setdefault(phase.get("run", 1), {})[phase["label"]] = phase
    summary_rows = []
    for run, by_label in runs.items():
        print(f"\n=== run {run} ===")
        for label in ("baseline", "mesh"):
            p = by_label.get(label)
            if not p:
                continue
            route = f"SOCKS5 {p['via_socks']} -> {p['target']}" if p["via_socks"] else f"direct -> {p['target']}"
            print(f"-- {label}: {route} from {p['source']}, {p['connections']} keep-alive connections, "
                  f"POST {p['body_bytes']} B / response {p['response_bytes']} B")
            print(f"   target {p['rate']:g} rps for {p['duration_s']:g} s (+{p['warmup_s']:g} s warm-up): "
                  f"achieved {p['achieved_rps']:.1f} rps (sent {p['sent_rps']:.1f}), "
                  f"ok {p['ok']}/{p['measured_requests']}, errors {p['errors']}, reconnects {p['reconnects']}")
            if p["error_kinds"]:
                print(f"   error kinds: {p['error_kinds']}")
            if p["achieved_rps"] < 0.98 * p["rate"]:
                print(f"   RATE NOT SUSTAINED: {p['achieved_rps']:.1f} of {p['rate']:g} rps")
            print(f"   latency ms (from scheduled time; queueing counts): {fmt_pct(p['latency_ms'])}")
            print(f"   service ms (from write to last byte):               {fmt_pct(p['service_ms'])}")
            print(f"   waited for a free connection ms:                    {fmt_pct(p['queued_ms'], ('p50', 'p99', 'max'))}")
            print(f"   generator dispatch lag ms ({p['timer']}): {fmt_pct(p['dispatch_lag_ms'], ('p50', 'p99', 'max'))}")
            print(f"   generator CPU {p['generator_vcpu']:.3f} vCPU; machine busy {p['machine_busy_pct']:.0f}% of "
                  f"{p['cpus']} CPUs; loadavg start {p['loadavg_start']} end {p['loadavg_end']}")
            for name, entry in p["procs"].items():
                bits = []
                if "vcpu" in entry:
                    bits.append(f"{entry['vcpu']:.3f} vCPU (per-thread schedstat {entry['vcpu_schedstat']:.3f})")
                if "rss_kb_before" in entry and "rss_kb_after" in entry:
                    bits.append(f"RSS {entry['rss_kb_before'] / 1024:.1f} -> {entry['rss_kb_after'] / 1024:.1f} MB")
                if "hwm_kb_after" in entry:
                    bits.append(f"peak RSS {entry['hwm_kb_after'] / 1024:.1f} MB")
                if "error" in entry:
                    bits.append(f"({entry['error']})")
                print(f"   {name}: " + ", ".join(bits))
            slow = sorted(p.get("latency_by_second", []), key=lambda row: -row[4])[:3]
            if slow:
                print("   slowest seconds of the window (second: p50/p99/max ms): " + ", ".join(
                    f"{s}: {p50:.2f}/{p99:.2f}/{mx:.2f}" for s, _, p50, p99, mx in sorted(slow)))
                over = [row for row in p["latency_by_second"] if row[3] > 3 * p["latency_ms"]["p50"]]
                print(f"   seconds whose p99 exceeds 3x the phase's p50: {len(over)} of {len(p['latency_by_second'])}")
            if p.get("first_response_body"):
                print(f"   first response: {p['first_response_body'][:150].strip().replace(chr(10), ' ')}…")
        base, mesh = by_label.get("baseline"), by_label.get("mesh")
        if not (base and mesh and base["latency_ms"] and mesh["latency_ms"]):
            continue
        added = {k: mesh["latency_ms"][k] - base["latency_ms"][k] for k in ("p50", "p90", "p99")}
        added_service = {k: mesh["service_ms"][k] - base["service_ms"][k] for k in ("p50", "p90", "p99")}
        zt = {n: e for n, e in mesh["procs"].items() if n.startswith("ztunnel")}
        zt_vcpu = sum(e.get("vcpu", 0.0) for e in zt.values())
        rps = mesh["achieved_rps"]
        print(f"-- ztunnel pair (mesh minus baseline), run {run}")
        print("   added latency ms:         " + "  ".join(f"{k} {v:+.3f}" for k, v in added.items()))
        print("   added service time ms:    " + "  ".join(f"{k} {v:+.3f}" for k, v in added_service.items()))
        for name, e in zt.items():
            per = e.get("vcpu", 0.0) / rps * 1000 if rps else float("nan")
            print(f"   {name}: {e.get('vcpu', float('nan')):.3f} vCPU = {per:.3f} vCPU per 1,000 rps; "
                  f"RSS {e.get('rss_kb_before', 0) / 1024:.1f} MB before, {e.get('rss_kb_after', 0) / 1024:.1f} MB after "
                  f"(peak {e.get('hwm_kb_after', 0) / 1024:.1f} MB)")
        per_pair = zt_vcpu / rps * 1000 if rps else float("nan")
        print(f"   both ztunnels: {zt_vcpu:.3f} vCPU = {per_pair:.3f} vCPU per 1,000 rps "
              f"(at {rps:.1f} rps; {per_pair / max(1, len(zt)):.3f} per ztunnel on average)")
        idle = {n: e.get("vcpu") for n, e in base["procs"].items() if n.startswith("ztunnel")}
        print(f"   (ztunnels during the baseline phase, no mesh traffic: "
              + ", ".join(f"{n} {v:.3f} vCPU" for n, v in idle.items() if v is not None) + ")")
        summary_rows.append((run, base, mesh, added, zt_vcpu, per_pair, zt))

    print("\n=== Istio's published figures for ztunnel (THEIRS: Istio 1.24, measured on other hardware) ===")
    print(f"   {ISTIO['vcpu_per_1000']} vCPU and {ISTIO['mb_per_1000']} MB per ztunnel at 1,000 rps of 1 KB HTTP requests;")
    print(f"   the ztunnel pair adds about {ISTIO['added_p90_ms']} ms at p90 and {ISTIO['added_p99_ms']} ms at p99.")
    if summary_rows:
        print("\n=== ours, this machine, every run (same figures as above) ===")
        print(f"   {'run':>3} {'base rps':>9} {'mesh rps':>9} {'err b/m':>8} {'added p50':>10} {'added p90':>10} "
              f"{'added p99':>10} {'zt vCPU':>8} {'vCPU/1k':>8} {'zt-a RSS MB':>12} {'zt-b RSS MB':>12} {'gen vCPU b/m':>13}")
        for run, base, mesh, added, zt_vcpu, per_pair, zt in summary_rows:
            rss = [f"{e.get('rss_kb_after', 0) / 1024:.1f}" for _, e in sorted(zt.items())] + ["-", "-"]
            print(f"   {run:>3} {base['achieved_rps']:9.1f} {mesh['achieved_rps']:9.1f} "
                  f"{str(base['errors']) + '/' + str(mesh['errors']):>8} {added['p50']:+10.3f} {added['p90']:+10.3f} "
                  f"{added['p99']:+10.3f} {zt_vcpu:8.3f} {per_pair:8.3f} {rss[0]:>12} {rss[1]:>12} "
                  f"{base['generator_vcpu']:6.3f}/{mesh['generator_vcpu']:.3f}")
        if len(summary_rows) > 1:
            med = lambda xs: statistics.median(xs)
            print(f"   median over {len(summary_rows)} runs: added p50 {med([r[3]['p50'] for r in summary_rows]):+.3f} ms, "
                  f"p90 {med([r[3]['p90'] for r in summary_rows]):+.3f} ms, p99 {med([r[3]['p99'] for r in summary_rows]):+.3f} ms; "
                  f"pair {med([r[4] for r in summary_rows]):.3f} vCPU = {med([r[5] for r in summary_rows]):.3f} vCPU per 1,000 rps")
    return 0


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="one phase of open-loop load")
    run.add_argument("--target", required=True, help="ip:port the requests are for")
    run.add_argument("--source", default="127.0.1.10", help="address to bind (the client pod)")
    run.add_argument("--socks", help="ip:port of a SOCKS5 proxy to connect through")
    run.add_argument("--rate", type=float, default=1000.0)
    run.add_argument("--duration", type=float, default=30.0)
    run.add_argument("--warmup", type=float, default=5.0)
    run.add_argument("--connections", type=int, default=32)
    run.add_argument("--body-bytes", type=int, default=1024)
    run.add_argument("--response-bytes", type=int, default=1024)
    run.add_argument("--grace", type=float, default=10.0, help="seconds to wait for responses after the schedule ends")
    run.add_argument("--max-reconnects", type=int, default=200)
    run.add_argument("--watch", action="append", default=[], help="NAME=PID to sample (repeatable)")
    run.add_argument("--label", default="phase")
    run.add_argument("--run", type=int, default=1, help="repeat number, for the report")
    run.add_argument("--out", required=True, help="JSON file to write")
    rep = sub.add_parser("report", help="print phases side by side")
    rep.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "report":
        return report(args.files)
    if args.rate <= 0 or args.duration <= 0 or args.connections <= 0:
        parser.error("--rate, --duration and --connections must be positive")

    async def phase():
        return await Load(args).run()

    gc.disable()  # a collection pause would land in some request's latency; a phase allocates little
    result = asyncio.run(phase())
    gc.enable()
    result["run"] = args.run
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
