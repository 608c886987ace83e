"""The Batch API's throughput and priority measurements (issue 11), driven by scripts/batch-throughput.

Phases, all on loopback against one mock fleet started here (and stopped here, by pid):

  direct    the N requests sent straight to the engines at the fleet's concurrency (max-running per engine);
  proxied   the same N requests through the gateway as interactive calls, at the same concurrency: the
            gateway's CPU per item without the queue, to subtract from a batch run's (optional);
  sqlite    the same N requests as one batch through prefix-gateway on a SQLite queue;
  postgres  the same on PostgreSQL ($PREFIXGATEWAY_POSTGRES_URL);
  ttfb      interactive streams through the gateway (load-generator), without a batch, then while an N-item
            batch drains (SQLite queue); time to first byte and 429s.
  control   the same interactive streams while the N requests (with the batch's priority) are proxied
            through the gateway as ordinary calls at the batch's concurrency instead: the same load on the
            same cores without the queue, to tell the queue's effect on TTFB from the load's (optional; its row
            is printed in the ttfb table, so run it with ttfb; alone it is in the .json only).

Every phase records the load average and the machine's CPU use, and the CPU seconds of each process.
Prints a Markdown report; exits non-zero when an item is lost, answered twice or answered with an error.
Standard library only.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Bounds: one direct or proxied request, and one batch (create → ended).
REQUEST_SECONDS = 120
BATCH_SECONDS = 1_800
MODEL = "bt-model"


def cpu_seconds(pid, reaped_children=False):
    """utime + stime of a process, in seconds (0 when it is gone); with `reaped_children`, plus those of its
    children that ended (cutime + cstime)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        own = int(fields[11]) + int(fields[12])
        if reaped_children:
            own += int(fields[13]) + int(fields[14])
        return own / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def children(pid):
    """The pids whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return found


def machine_cpu():
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def tree_seconds(pid):
    """CPU seconds of a process, its live children and its ended ones (a PostgreSQL server's backends)."""
    return cpu_seconds(pid, reaped_children=True) + sum(cpu_seconds(child) for child in children(pid))


class Meter:
    """Load average, machine CPU use and the CPU seconds of chosen processes over one phase. A value of
    `pids` is a list of pids, or a function giving the total CPU seconds of a group (read at start and end)."""

    def __init__(self, pids):
        self.pids = dict(pids)
        self.load_start = os.getloadavg()
        self.cpu_start = machine_cpu()
        self.proc_start = {name: self.seconds(ps) for name, ps in self.pids.items()}
        self.self_start = resource.getrusage(resource.RUSAGE_SELF)
        self.wall_start = time.monotonic()

    def stop(self):
        busy0, total0 = self.cpu_start
        busy1, total1 = machine_cpu()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic() - self.wall_start
        processes = {name: self.seconds(ps) - self.proc_start[name] for name, ps in self.pids.items()}
        processes["driver (this script)"] = (
            usage.ru_utime + usage.ru_stime - self.self_start.ru_utime - self.self_start.ru_stime
        )
        return {
            "load_start": self.load_start[0],
            "load_end": os.getloadavg()[0],
            "machine_busy": (busy1 - busy0) / max(1, total1 - total0),
            "wall": wall,
            "cpu": processes,
        }

    @staticmethod
    def seconds(group):
        return group() if callable(group) else sum(cpu_seconds(p) for p in group)


class Processes:
    """Every process started here, stopped by pid (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self):
        self.started = []

    def start(self, argv, log):
        handle = open(log, "w")
        process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    def stop(self, process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.started:
            self.started.remove(process)

    def stop_all(self):
        for process in list(reversed(self.started)):
            self.stop(process)


def wait_for_line(log, pattern, process, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(log) as handle:
            for line in handle:
                match = re.search(pattern, line)
                if match:
                    return match
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with open(log) as handle:
        sys.stderr.write(handle.read())
    raise RuntimeError(f"{log}: no line matching {pattern}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=120):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, int(-(-p / 100 * len(ordered) // 1)) - 1))
    return ordered[rank]


# --- the requests ----------------------------------------------------------------------------------------------


def make_lines(count, max_tokens):
    """The batch's JSONL lines: a shared instruction (the nightly job's prompt) and a short item each."""
    instruction = "Summarise the following support ticket in one sentence, neutrally, without names. "
    lines = []
    for index in range(count):
        body = {
            "model": MODEL,
            "max_tokens": max_tokens,
            "messages": [
                {"role": "system", "content": instruction},
                {"role": "user", "content": f"Ticket {index}: the export of report {index % 97} failed twice."},
            ],
        }
        lines.append({"custom_id": f"item-{index}", "method": "POST", "url": "/v1/chat/completions", "body": body})
    return lines


# --- direct: the engines without the gateway -------------------------------------------------------------------


async def post_once(port, payload):
    """One non-streamed request on a fresh connection (the mock engine closes every connection); the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n"
    ).encode()
    writer.write(head + payload)
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # to the end: the engine closes the connection after the answer
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return int(status_line.split()[1])


async def drive_direct(ports, per_engine, payloads):
    """Sends every payload, `per_engine` at a time to each engine (the fleet's concurrency); returns statuses."""
    queue = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    statuses = {}

    async def worker(port):
        while True:
            try:
                payload = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                status = await asyncio.wait_for(post_once(port, payload), REQUEST_SECONDS)
            except asyncio.TimeoutError:
                status = "timeout"
            except OSError as error:
                status = f"error {error.__class__.__name__}"
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker(port) for port in ports for _ in range(per_engine)))
    return statuses


# --- the gateway -----------------------------------------------------------------------------------------------


class Gateway:
    def __init__(self, args, processes, work, engine_ports, store, label):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if store == "postgres":
            schema = f"bt_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            queue = {"store": "postgres", "postgresURL": f"{args.postgres_url}?schema={schema}"}
        else:
            queue = {"store": "sqlite", "sqlitePath": f"{work}/{label}.sqlite"}
        cap = args.max_running
        configuration = {
            "listen": {"host": "127.0.0.1", "port": self.port},
            "replicas": [{"url": f"http://127.0.0.1:{p}", "models": [MODEL]} for p in engine_ports],
            "routing": {"strategy": args.strategy},
            "admission": {"maxInFlight": cap * len(engine_ports) * 4, "perReplicaCap": cap},
            "health": {"activeChecks": False},
            "batch": dict(
                queue,
                reservedShare=args.reserved_share,
                pauseAboveInteractiveShare=args.pause_above,
                pollSeconds=0.05,
                maxRequestsPerBatch=max(50_000, args.items),
                maxConcurrentItems=max(256, cap * len(engine_ports)),
            ),
        }
        path = f"{work}/{label}.json"
        with open(path, "w") as handle:
            json.dump(configuration, handle)
        self.log = f"{work}/{label}.log"
        self.process = processes.start(
            [f"{args.bin}/prefix-gateway", "--config", path, "--log-level", "warning"], self.log
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if http("GET", self.base + "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        with open(self.log) as handle:
            sys.stderr.write(handle.read())
        raise RuntimeError("the gateway did not start")

    def upload(self, data):
        boundary = "bt" + uuid.uuid4().hex
        body = (
            f'--{boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{boundary}\r\ncontent-disposition: form-data; name="file"; filename="input.jsonl"\r\n'
            f"content-type: application/jsonl\r\n\r\n"
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        _, answer = http(
            "POST", self.base + "/v1/files", body, {"content-type": f"multipart/form-data; boundary={boundary}"}
        )
        return json.loads(answer)["id"]

    def create_batch(self, file_id):
        body = json.dumps(
            {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        ).encode()
        _, answer = http("POST", self.base + "/v1/batches", body, {"content-type": "application/json"})
        return json.loads(answer)

    def batch(self, batch_id):
        return json.loads(http("GET", f"{self.base}/v1/batches/{batch_id}")[1])

    def content(self, file_id):
        if not file_id:
            return b""
        return http("GET", f"{self.base}/v1/files/{file_id}/content", timeout=300)[1]

    def metrics(self):
        return http("GET", self.base + "/metrics")[1].decode()


def metric_values(text, name):
    """{labels text: value} of one metric family's samples."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name):
            match = re.match(rf"{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)", line)
            if match:
                found[match.group(1) or ""] = float(match.group(2))
    return found


def run_batch(gateway, data, total, poll=0.2):
    """Uploads and runs one batch; times the drain (created → every item answered) and the finalize."""
    file_id = gateway.upload(data)
    started = time.monotonic()
    batch = gateway.create_batch(file_id)
    drained = None
    peak_running = 0
    while True:
        time.sleep(poll)
        batch = gateway.batch(batch["id"])
        counts = batch["request_counts"]
        if drained is None and counts["completed"] + counts["failed"] >= total:
            drained = time.monotonic()
        if batch["status"] in ("completed", "failed", "expired", "cancelled"):
            break
        if time.monotonic() - started > BATCH_SECONDS:
            raise RuntimeError(f"the batch did not end within {BATCH_SECONDS} s")
    ended = time.monotonic()
    drained = drained or ended
    return batch, drained - started, ended - started


def check_lines(gateway, batch, total):
    """Every custom_id answered exactly once, all with 200."""
    output = [json.loads(line) for line in gateway.content(batch.get("output_file_id")).splitlines() if line]
    errors = [json.loads(line) for line in gateway.content(batch.get("error_file_id")).splitlines() if line]
    ids = [record["custom_id"] for record in output + errors]
    return {
        "lines": len(ids),
        "distinct": len(set(ids)),
        "errors": len(errors),
        "ok": len(ids) == total and len(set(ids)) == total and not errors,
    }


def load_generator(args, target, streams, rate, label):
    """Interactive streams through the gateway; the RESULT json of load-generator."""
    argv = [
        f"{args.bin}/load-generator", "--target", target, "--streams", str(streams), "--rate", str(rate),
        "--hold", "0", "--model", MODEL, "--max-tokens", str(args.interactive_tokens),
        "--prompt-bytes", str(args.interactive_prompt_bytes), "--label", label, "--sources", "4",
        "--threads", "1", "--deadline", "300",
    ]
    output = subprocess.run(argv, capture_output=True, text=True, timeout=400).stdout
    for line in output.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError("load-generator printed no RESULT:\n" + output)


# --- phases ----------------------------------------------------------------------------------------------------


def fleet(args, processes, work):
    ports, pids = [], []
    for index in range(args.engines):
        log = f"{work}/engine-{index}.log"
        process = processes.start(
            [
                f"{args.bin}/mock-engine", "--host", "127.0.0.1", "--port", "0", "--model", MODEL,
                "--max-running", str(args.max_running), "--decode-tokens-per-second", str(args.decode),
                "--prefill-overhead-ms", str(args.prefill_ms), "--request-history", "0", "--log-level", "warning",
            ],
            log,
        )
        match = wait_for_line(log, r"listening on http://127\.0\.0\.1:(\d+)", process)
        ports.append(int(match.group(1)))
        pids.append(process.pid)
    return ports, pids


def postgres_seconds(url):
    """A function giving the PostgreSQL server's CPU seconds (postmaster, backends live and ended), found from
    scripts/postgres's data folder; 0 when it cannot be found."""
    port = re.search(r":(\d+)/", url or "")
    folder = os.environ.get("PREFIXGATEWAY_PG_DIR", f"/tmp/prefixgateway-pg-{port.group(1) if port else 55432}")
    try:
        with open(f"{folder}/postmaster.pid") as handle:
            master = int(handle.readline())
    except (OSError, ValueError):
        return lambda: 0.0
    return lambda: tree_seconds(master)


def phase_direct(args, lines, ports, engine_pids):
    payloads = [json.dumps(line["body"]).encode() for line in lines]
    meter = Meter({"engines": engine_pids})
    started = time.monotonic()
    statuses = asyncio.run(drive_direct(ports, args.max_running, payloads))
    elapsed = time.monotonic() - started
    measured = meter.stop()
    return {
        "kind": "direct", "items": len(payloads), "seconds": elapsed, "rate": len(payloads) / elapsed,
        "statuses": statuses, "ok": statuses == {200: len(payloads)}, "measured": measured,
    }


def phase_proxied(args, processes, work, lines, ports, engine_pids):
    gateway = Gateway(args, processes, work, ports, "sqlite", "gateway-proxied")
    payloads = [json.dumps(line["body"]).encode() for line in lines]
    meter = Meter({"gateway": [gateway.process.pid], "engines": engine_pids})
    started = time.monotonic()
    concurrency = args.max_running * len(ports)
    statuses = asyncio.run(drive_direct([gateway.port], concurrency, payloads))
    elapsed = time.monotonic() - started
    measured = meter.stop()
    processes.stop(gateway.process)
    return {
        "kind": "proxied", "items": len(payloads), "seconds": elapsed, "rate": len(payloads) / elapsed,
        "statuses": statuses, "ok": statuses == {200: len(payloads)}, "measured": measured,
    }


def phase_batch(args, processes, work, lines, ports, engine_pids, store):
    gateway = Gateway(args, processes, work, ports, store, f"gateway-{store}")
    data = ("\n".join(json.dumps(line) for line in lines) + "\n").encode()
    pids = {"gateway": [gateway.process.pid], "engines": engine_pids}
    if store == "postgres":
        pids["postgresql"] = postgres_seconds(args.postgres_url)
    meter = Meter(pids)
    batch, drain, total = run_batch(gateway, data, len(lines))
    measured = meter.stop()
    metrics = gateway.metrics()
    check = check_lines(gateway, batch, len(lines))
    processes.stop(gateway.process)
    sums = metric_values(metrics, "gateway_batch_queue_operation_seconds_sum")
    counts = metric_values(metrics, "gateway_batch_queue_operation_seconds_count")
    operations = {}
    for labels, value in sums.items():
        name = re.search(r'operation="([^"]+)"', labels).group(1)
        operations[name] = {"seconds": value, "calls": int(counts.get(labels, 0))}
    return {
        "kind": store, "items": len(lines), "seconds": drain, "finalized_seconds": total,
        "rate": len(lines) / drain, "status": batch["status"], "check": check, "ok": check["ok"],
        "operations": operations, "measured": measured,
    }


class EngineSampler:
    """Polls the engines' `vllm:num_requests_waiting` / `_running` every 0.25 s in a thread: the most
    requests any engine kept waiting for a running slot, and the fleet's most running."""

    def __init__(self, ports):
        self.ports = ports
        self.max_waiting = 0
        self.max_running = 0
        self.samples = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.done.wait(0.25):
            running = 0
            for port in self.ports:
                try:
                    text = http("GET", f"http://127.0.0.1:{port}/metrics", timeout=2)[1].decode()
                except OSError:
                    continue
                waiting = sum(metric_values(text, "vllm:num_requests_waiting").values())
                running += sum(metric_values(text, "vllm:num_requests_running").values())
                self.max_waiting = max(self.max_waiting, int(waiting))
            self.max_running = max(self.max_running, int(running))
            self.samples += 1

    def stop(self):
        self.done.set()
        self.thread.join()
        return {"max_waiting": self.max_waiting, "max_running": self.max_running, "samples": self.samples}


def phase_ttfb(args, processes, work, lines, ports, engine_pids):
    gateway = Gateway(args, processes, work, ports, "sqlite", "gateway-ttfb")
    target = f"127.0.0.1:{gateway.port}"
    data = ("\n".join(json.dumps(line) for line in lines) + "\n").encode()
    pids = {"gateway": [gateway.process.pid], "engines": engine_pids}
    runs = []

    def interactive(name):
        meter = Meter(pids)
        sampler = EngineSampler(ports)
        result = load_generator(args, target, args.interactive_streams, args.interactive_rate, name)
        runs.append({"name": name, "result": result, "measured": meter.stop(), "engines": sampler.stop()})

    interactive("without batch")
    file_id = gateway.upload(data)
    batch = gateway.create_batch(file_id)
    time.sleep(args.warmup)  # the dispatcher at full rate
    before = gateway.batch(batch["id"])["request_counts"]
    interactive("batch draining")
    after = gateway.batch(batch["id"])["request_counts"]
    drained_during = (after["completed"] + after["failed"]) - (before["completed"] + before["failed"])
    still_open = len(lines) - (after["completed"] + after["failed"])
    deadline = time.monotonic() + BATCH_SECONDS
    while gateway.batch(batch["id"])["status"] not in ("completed", "failed", "expired", "cancelled"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the batch did not end within {BATCH_SECONDS} s")
        time.sleep(0.5)
    interactive("without batch, again")
    final = gateway.batch(batch["id"])
    check = check_lines(gateway, final, len(lines))
    rejections = metric_values(gateway.metrics(), "gateway_admission_rejections_total")
    processes.stop(gateway.process)
    return {
        "kind": "ttfb", "runs": runs, "batch_items_during": drained_during, "batch_open_after": still_open,
        "check": check, "rejections": rejections, "ok": check["ok"],
    }


def phase_control(args, processes, work, lines, ports, engine_pids):
    gateway = Gateway(args, processes, work, ports, "sqlite", "gateway-control")
    target = f"127.0.0.1:{gateway.port}"
    payloads = [json.dumps(dict(line["body"], priority=10)).encode() for line in lines]
    per_replica = int(args.max_running * (1 - args.reserved_share))
    background = {}

    def drive():
        background["statuses"] = asyncio.run(drive_direct([gateway.port], per_replica * len(ports), payloads))

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    time.sleep(args.warmup)
    meter = Meter({"gateway": [gateway.process.pid], "engines": engine_pids})
    sampler = EngineSampler(ports)
    result = load_generator(args, target, args.interactive_streams, args.interactive_rate, "control")
    run = {"name": "requests proxied (control)", "result": result, "measured": meter.stop(), "engines": sampler.stop()}
    thread.join()
    processes.stop(gateway.process)
    ok = background.get("statuses") == {200: len(payloads)}
    return {"kind": "control", "runs": [run], "background": background.get("statuses"), "ok": ok}


# --- report ----------------------------------------------------------------------------------------------------


def report(args, results, started_at):
    out = []
    say = out.append
    say(f"# Batch throughput and priority, {started_at}")
    say("")
    say(
        f"Fleet: {args.engines} mock engines × max-running {args.max_running} (vLLM's --max-num-seqs), "
        f"{args.decode:g} tokens/s per sequence, prefill overhead {args.prefill_ms:g} ms; "
        f"{args.items:,} requests of max_tokens {args.max_tokens}. Gateway: release build, strategy "
        f"{args.strategy}, perReplicaCap {args.max_running}, batch.reservedShare {args.reserved_share:g}, "
        f"pauseAboveInteractiveShare {args.pause_above:g}, pollSeconds 0.05. {os.cpu_count()} cores."
    )
    say("")
    throughput = [r for r in results if r["kind"] in ("direct", "proxied", "sqlite", "postgres")]
    direct = next((r for r in throughput if r["kind"] == "direct"), None)
    if throughput:
        say("| Run | Items | Drain s | Items/s | × direct | Finalized s | Check | Load start→end | Machine CPU |")
        say("|---|---:|---:|---:|---:|---:|---|---|---:|")
        for r in throughput:
            m = r["measured"]
            ratio = f"{r['rate'] / direct['rate']:.3f}" if direct else "–"
            final = f"{r.get('finalized_seconds', r['seconds']):.1f}"
            check = "ok" if r["ok"] else f"FAIL {r.get('check', r.get('statuses'))}"
            say(
                f"| {r['kind']} | {r['items']:,} | {r['seconds']:.1f} | {r['rate']:.1f} | {ratio} | {final} | "
                f"{check} | {m['load_start']:.2f}→{m['load_end']:.2f} | {m['machine_busy'] * 100:.0f} % |"
            )
        say("")
        say("CPU seconds per process over each run, and per item:")
        say("")
        say("| Run | Process | CPU s | CPU ms/item |")
        say("|---|---|---:|---:|")
        for r in throughput:
            for name, seconds in r["measured"]["cpu"].items():
                say(f"| {r['kind']} | {name} | {seconds:.1f} | {seconds / r['items'] * 1e3:.2f} |")
        say("")
        proxied = next((r for r in throughput if r["kind"] == "proxied"), None)
        if proxied:
            base = proxied["measured"]["cpu"]["gateway"] / proxied["items"] * 1e3
            for r in throughput:
                if r["kind"] in ("sqlite", "postgres"):
                    extra = r["measured"]["cpu"]["gateway"] / r["items"] * 1e3 - base
                    say(
                        f"Gateway CPU per item, {r['kind']} batch minus the same requests proxied: "
                        f"{extra:.2f} ms (the queue's CPU in the gateway: claim, result write, finalize, polls)."
                    )
            say("")
        queued = [r for r in throughput if r.get("operations")]
        if queued:
            say("Queue operations as the gateway waited for them (`gateway_batch_queue_operation_seconds`):")
            say("")
            say("| Run | Operation | Calls | Total s | ms/call | ms/item |")
            say("|---|---|---:|---:|---:|---:|")
            for r in queued:
                per_item = 0.0
                for name, op in sorted(r["operations"].items()):
                    calls = max(1, op["calls"])
                    say(
                        f"| {r['kind']} | {name} | {op['calls']:,} | {op['seconds']:.2f} | "
                        f"{op['seconds'] / calls * 1e3:.3f} | {op['seconds'] / r['items'] * 1e3:.3f} |"
                    )
                    if name in ("claim", "finish", "finalize"):
                        per_item += op["seconds"] / r["items"] * 1e3
                say(f"| {r['kind']} | **claim + finish + finalize** | | | | **{per_item:.3f}** |")
            say("")
    control = next((r for r in results if r["kind"] == "control"), None)
    for r in results:
        if r["kind"] != "ttfb":
            continue
        if control:
            r = dict(r, runs=r["runs"] + control["runs"])
        say(
            f"Interactive streams through the gateway: {args.interactive_streams} at {args.interactive_rate:g}/s, "
            f"max_tokens {args.interactive_tokens}, ~{args.interactive_prompt_bytes} prompt bytes (load-generator; "
            f"priority 0; batch items carry priority 10). The batch ({args.items:,} items, SQLite) drained "
            f"{r['batch_items_during']:,} items during the 'batch draining' run; {r['batch_open_after']:,} were "
            f"still open at its end. Batch check: {'ok' if r['check']['ok'] else r['check']}."
        )
        say("")
        say(
            "| Interactive run | Streams ok | 429s | Other errors | TTFB p50 ms | p90 ms | p99 ms | max ms | "
            "Engines: most waiting / most running | Load start→end | Machine CPU |"
        )
        say("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
        for run in r["runs"]:
            result, m = run["result"], run["measured"]
            if run["name"].endswith("(control)") and control["background"] != {200: args.items}:
                run["name"] += f" background {control['background']}"
            errors = dict(result.get("errors", {}))
            too_many = errors.pop("status_429", 0)
            ttfb = result["ttfbMilliseconds"]
            say(
                f"| {run['name']} | {result['ok']}/{result['streams']} | {too_many} | {sum(errors.values())} | "
                f"{ttfb['p50']:.1f} | {ttfb['p90']:.1f} | {ttfb['p99']:.1f} | {ttfb['max']:.1f} | "
                f"{run['engines']['max_waiting']} / {run['engines']['max_running']} | "
                f"{m['load_start']:.2f}→{m['load_end']:.2f} | {m['machine_busy'] * 100:.0f} % |"
            )
        base = r["runs"][0]["result"]["ttfbMilliseconds"]
        loaded = r["runs"][1]["result"]["ttfbMilliseconds"]
        say("")
        say(
            f"With/without batch: p50 {loaded['p50'] / max(1e-9, base['p50']):.2f}×, "
            f"p99 {loaded['p99'] / max(1e-9, base['p99']):.2f}× (target ≤ 1.1×). "
            f"Gateway admission rejections: {r['rejections'] or 'none'}."
        )
        say("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--phases", default="direct sqlite postgres ttfb")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--engines", type=int, default=4)
    parser.add_argument("--max-running", type=int, default=40)
    parser.add_argument("--decode", type=float, default=20.0)
    parser.add_argument("--prefill-ms", type=float, default=1.0)
    parser.add_argument("--max-tokens", type=int, default=30)
    parser.add_argument("--strategy", default="prefix-affinity")
    parser.add_argument("--reserved-share", type=float, default=0.05)
    parser.add_argument("--pause-above", type=float, default=0.5)
    parser.add_argument("--interactive-streams", type=int, default=120)
    parser.add_argument("--interactive-rate", type=float, default=2.0)
    parser.add_argument("--interactive-tokens", type=int, default=30)
    parser.add_argument("--interactive-prompt-bytes", type=int, default=1024)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--postgres-url", default=os.environ.get("PREFIXGATEWAY_POSTGRES_URL"))
    parser.add_argument("--report", required=True)
    args = parser.parse_args()
    phases = args.phases.split()
    if "postgres" in phases and not args.postgres_url:
        sys.exit("the postgres phase needs PREFIXGATEWAY_POSTGRES_URL (eval \"$(scripts/postgres start)\")")
    processes = Processes()

    def on_signal(number, _frame):
        processes.stop_all()
        sys.exit(128 + number)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = []
    with tempfile.TemporaryDirectory(prefix="batch-throughput-") as work:
        try:
            ports, engine_pids = fleet(args, processes, work)
            lines = make_lines(args.items, args.max_tokens)
            for phase in phases:
                print(f"== {phase}", file=sys.stderr, flush=True)
                if phase == "direct":
                    results.append(phase_direct(args, lines, ports, engine_pids))
                elif phase == "proxied":
                    results.append(phase_proxied(args, processes, work, lines, ports, engine_pids))
                elif phase == "control":
                    results.append(phase_control(args, processes, work, lines, ports, engine_pids))
                elif phase in ("sqlite", "postgres"):
                    results.append(phase_batch(args, processes, work, lines, ports, engine_pids, phase))
                elif phase == "ttfb":
                    results.append(phase_ttfb(args, processes, work, lines, ports, engine_pids))
                else:
                    sys.exit(f"unknown phase {phase}")
                print(json.dumps(results[-1], default=str), file=sys.stderr, flush=True)
        finally:
            processes.stop_all()
    text = report(args, results, started_at)
    with open(args.report, "w") as handle:
        handle.write(text + "\n")
    with open(args.report + ".json", "w") as handle:
        json.dump(results, handle, default=str, indent=1)
    print(text)
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()
