#!/usr/bin/python3
"""How much of a program's IPC can ipcfault fail?  (issue 12's measurement)

Runs a command under `strace -f -k -yy`, attributes each IPC system call to the
libc function the program called, and prints the share of those calls that
ipcfault's call table can fail, with the missing libc functions ranked.

    selftest/coverage/coverage.py measure -- curl -s http://127.0.0.1:8080/
    selftest/coverage/coverage.py suite            # the programs of docs/coverage.md
    selftest/coverage/coverage.py suite --markdown # the table as docs/coverage.md has it

Not part of `bazel test`: it needs strace and the measured programs installed
(`apt-get install -y strace curl socat netcat-openbsd nginx-light redis-server
redis-tools busybox`), and it runs them for real, on loopback only.

How a syscall is attributed (docs/coverage.md says why):
  * strace -k prints the user stack of each syscall, innermost frame first.
    The innermost run of frames inside libc.so.6 is libc working on the
    program's behalf; its outermost frame is the libc function the program
    (or a library it links: libssl, libpython...) called. That frame is an
    exported function, so its symbol is right even where strace names libc's
    static functions after the nearest exported one.
  * Aliases at one address (`__send`, `send`) are merged through libc's
    dynamic symbol table; fortified entry points (`__read_chk`) count as the
    call they check.
  * read/write/readv/writev/close/dup*/sendfile/splice count only on an IPC
    descriptor: a socket, a pipe or FIFO, or an eventfd/epoll/signalfd/pidfd.
    clone/clone3 with CLONE_THREAD is a thread, not a process: not counted.
  * Set aside (printed, not in the share): syscalls libc makes inside a
    name-service lookup (getpwnam, initgroups, getservbyname...: "NSS") that is
    not itself in ipcfault's table, and inside pthread_create (its clone and
    its signal-mask dance).
  * "Can fail" means the entry point is a call `ipcfault calls` lists, or is
    defined by the preload library (`nm -D`) and routes to a listed call
    (fortified twins, stdio on socket streams).
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The system calls that make up IPC: sockets, descriptors that carry data
# between processes, waiting for them, signals, and processes.
NET_SYSCALLS = """socket socketpair bind listen accept accept4 connect getsockname
getpeername setsockopt getsockopt shutdown sendto recvfrom sendmsg recvmsg sendmmsg
recvmmsg""".split()
FD_SYSCALLS = """read write readv writev close sendfile splice dup dup2 dup3""".split()
POLL_SYSCALLS = """poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl
epoll_wait epoll_pwait epoll_pwait2""".split()
NEWFD_SYSCALLS = "pipe pipe2 eventfd eventfd2 signalfd signalfd4".split()
SIGNAL_SYSCALLS = """kill tkill tgkill rt_sigaction rt_sigprocmask rt_sigsuspend
rt_sigtimedwait rt_sigqueueinfo rt_tgsigqueueinfo pause alarm pidfd_send_signal
pidfd_open""".split()
PROCESS_SYSCALLS = "clone clone3 fork vfork wait4 waitid execve execveat".split()
IPC_SYSCALLS = (NET_SYSCALLS + FD_SYSCALLS + POLL_SYSCALLS + NEWFD_SYSCALLS +
                SIGNAL_SYSCALLS + PROCESS_SYSCALLS)
# strace's -yy annotation of an IPC descriptor.
IPC_FD = re.compile(r"^(TCP|TCPv6|UDP|UDPv6|UNIX|UNIX-STREAM|UNIX-DGRAM|NETLINK|"
                    r"socket|pipe|anon_inode:\[(eventfd|eventpoll|signalfd|pidfd)\]|"
                    r"RAW|RAWv6|PACKET)")

# libc functions that make IPC syscalls as an implementation detail of
# something that is not IPC: name-service lookups and thread creation.
NSS_PREFIXES = ("getpw", "getgr", "getsp", "initgroups", "getgrouplist",
                "getservby", "getprotoby", "getnetby", "getrpcby", "gethostby",
                "getnameinfo", "getaddrinfo", "getlogin", "getusershell",
                "setpw", "setgr", "endpw", "endgr", "getifaddrs", "if_nametoindex",
                "if_nameindex", "if_indextoname", "res_", "__res_", "__nss",
                "innetgr", "getnetgrent", "ether_")
THREAD_FUNCS = ("pthread_create",)

# libc's stdio functions, by the IPC call their internal transfer is.
STDIO_READ = """fgets fgets_unlocked fread fread_unlocked getc getc_unlocked fgetc
fgetc_unlocked getline getdelim __getdelim fscanf __isoc99_fscanf vfscanf
__isoc99_vfscanf ungetc _IO_getc __uflow __underflow uflow default_uflow underflow""".split()
STDIO_WRITE = """fwrite fwrite_unlocked fputs fputs_unlocked fflush fflush_unlocked
fprintf vfprintf printf vprintf puts putc putc_unlocked fputc fputc_unlocked
putchar dprintf vdprintf __overflow _IO_putc overflow""".split()
STDIO_BOTH = "fclose".split()
STDIO = {n: "read" for n in STDIO_READ}
STDIO.update({n: "write" for n in STDIO_WRITE})
STDIO.update({n: "close" for n in STDIO_BOTH})


def die(msg):
    sys.stderr.write("coverage.py: %s\n" % msg)
    sys.exit(2)


def libc_symbols():
    """address -> [names] for libc's dynamic symbols."""
    out = subprocess.run(["nm", "-D", "--defined-only", LIBC], check=True,
                         capture_output=True, text=True).stdout
    by_addr = collections.defaultdict(list)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "TWiI":
            continue
        by_addr[int(parts[0], 16)].append(parts[2].split("@")[0])
    return by_addr


def supported_calls(ipcfault):
    """The call names `ipcfault calls` lists (first column of its table)."""
    try:
        out = subprocess.run([ipcfault, "calls"], check=True, capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        die("cannot run '%s calls': %s (build it: ./bazelw build //:ipcfault)" %
            (ipcfault, e))
    names = set()
    for line in out.splitlines():
        if not line.strip():
            break  # the table ends at the first blank line; keys and sets follow
        first = line.split()[0] if line.split() else ""
        if re.fullmatch(r"[a-z_][a-z0-9_]*", first):
            names.add(first)
    if not names:
        die("'%s calls' listed no calls" % ipcfault)
    return names


def preload_symbols(preload):
    if not preload or not os.path.exists(preload):
        return set()
    out = subprocess.run(["nm", "-D", "--defined-only", preload], check=True,
                         capture_output=True, text=True).stdout
    return {l.split()[2].split("@")[0] for l in out.splitlines()
            if len(l.split()) == 3 and l.split()[1] in "TW"}


class Attributor:
    def __init__(self, calls, preload_defs):
        self.calls = calls
        self.preload = preload_defs
        self.by_addr = libc_symbols()

    def canonical(self, sym, off, addr):
        """The public name of the libc function at frame (sym+off) [addr]."""
        names = self.by_addr.get(addr - off, [sym]) if off is not None else [sym]
        if sym not in names:
            names = names + [sym]
        for n in names:
            if n in self.calls:
                return n
        for n in names:
            if n.endswith("_chk"):
                return n
        public = [n for n in names if not n.startswith("_")]
        if public:
            return min(public, key=lambda n: (len(n), n))
        stripped = [re.sub(r"^(__libc_|_IO_|__)", "", n) for n in names]
        return min(stripped, key=lambda n: (len(n), n))

    def base_call(self, entry):
        """The table call an entry point counts as, or None."""
        if entry in self.calls:
            return entry
        m = re.fullmatch(r"__(\w+)_chk", entry)
        if m and entry in self.preload and m.group(1) in self.calls:
            return m.group(1)
        if m and m.group(1) in STDIO and entry in self.preload:
            return STDIO[m.group(1)]
        if entry in STDIO and entry in self.preload and STDIO[entry] in self.calls:
            return STDIO[entry]
        return None


FRAME = re.compile(r"^\s*> (\S+?)\((?:([^+)]*)(?:\+0x([0-9a-f]+))?)?\) \[0x([0-9a-f]+)\]")
CALL = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")


def parse_trace(path):
    """Yields (pid, syscall, args_and_result, frames) per completed syscall."""
    records = []
    pending = {}  # pid -> record of an unfinished call
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            m = FRAME.match(line)
            if m:
                if cur is not None:
                    cur["frames"].append((m.group(1), m.group(2) or "",
                                          int(m.group(3), 16) if m.group(3) else None,
                                          int(m.group(4), 16)))
                continue
            m = CALL.match(line)
            if not m:
                cur = None
                continue
            pid = int(m.group(1))
            if m.group(2):  # resumed
                rec = pending.pop(pid, None)
                if rec is None:
                    rec = {"pid": pid, "name": m.group(2), "text": "", "frames": []}
                    records.append(rec)
                rec["text"] += m.group(4)
                cur = rec
                continue
            rec = {"pid": pid, "name": m.group(3), "text": m.group(4), "frames": []}
            records.append(rec)
            if line.rstrip().endswith("<unfinished ...>"):
                pending[pid] = rec
            cur = rec
    return records


def fd_annotation(text):
    m = re.match(r"-?\d+<([^>]*)>", text)
    return m.group(1) if m else ""


def is_ipc(rec):
    name, text = rec["name"], rec["text"]
    if name in ("clone", "clone3"):
        return "CLONE_THREAD" not in text
    if name in ("sendfile", "splice"):
        annos = re.findall(r"\d+<([^>]*)>", text)
        return any(IPC_FD.match(a) for a in annos)
    if name in FD_SYSCALLS:
        return bool(IPC_FD.match(fd_annotation(text)))
    return name in IPC_SYSCALLS


def entry_point(att, frames):
    """(entry function, how) for a syscall's stack."""
    run = []
    for (obj, sym, off, addr) in frames:
        if os.path.basename(obj).startswith("libc.so"):
            run.append((sym, off, addr))
        elif run:
            break
        elif "ld-linux" in obj:
            return ("(dynamic loader: the exec itself)", "aside")
        else:
            return ("(outside libc: raw syscall)", "count")
    if not run:
        return ("(no stack)", "count")
    if len(run) == len(frames):
        # Nothing outside libc on the stack: a thread's start or exit, which
        # libc runs on its own (start_thread's signal mask, clone3).
        return ("(libc thread start/exit)", "aside")
    sym, off, addr = run[-1]
    name = att.canonical(sym, off, addr)
    if name in ("__libc_start_main", "__libc_start_call_main"):
        # main returned: libc's exit work (stdio flush, atexit handlers)
        names = [att.canonical(s, o, a) for (s, o, a) in run]
        name = "exit" if "exit" in names else name
    return (name, "count")


def classify(att, records):
    """Counter of (entry, verdict) where verdict is can/cannot/aside."""
    out = collections.Counter()
    syscalls = collections.defaultdict(collections.Counter)
    for rec in records:
        if not is_ipc(rec):
            continue
        entry, how = entry_point(att, rec["frames"])
        if how == "aside" or entry.startswith(THREAD_FUNCS):
            verdict = "aside"
        elif att.base_call(entry):
            verdict = "can"
        elif entry.startswith(NSS_PREFIXES):
            verdict = "aside"
        else:
            verdict = "cannot"
        out[(entry, verdict)] += 1
        syscalls[entry][rec["name"]] += 1
    return out, syscalls


def strace_cmd(trace, argv):
    return ["strace", "-f", "-k", "-yy", "-qq", "-s", "0", "-e", "signal=none",
            "-e", "trace=" + ",".join(IPC_SYSCALLS), "-o", trace, "--"] + argv


class Result:
    def __init__(self, name, counts, syscalls):
        self.name = name
        self.counts = counts
        self.syscalls = syscalls

    def total(self, verdict):
        return sum(n for (e, v), n in self.counts.items() if v == verdict)

    def share(self):
        can, cannot = self.total("can"), self.total("cannot")
        return 100.0 * can / (can + cannot) if can + cannot else 100.0

    def missing(self):
        return sorted(((n, e) for (e, v), n in self.counts.items() if v == "cannot"),
                      reverse=True)

    def report(self, out, verbose=False):
        can, cannot, aside = self.total("can"), self.total("cannot"), self.total("aside")
        out.write("%s: %d IPC calls, ipcfault can fail %d (%.1f%%); %d set aside (NSS, "
                  "threads, loader)\n" % (self.name, can + cannot, can, self.share(), aside))
        for n, e in self.missing():
            sc = ",".join("%s:%d" % kv for kv in self.syscalls[e].most_common())
            out.write("  missing %-24s %6d   (%s)\n" % (e, n, sc))
        for (e, v), n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            if v == "aside" or (verbose and v == "can"):
                out.write("  %-7s %-24s %6d\n" % (v, e, n))

    def as_json(self):
        return {"name": self.name, "share": self.share(),
                "can": self.total("can"), "cannot": self.total("cannot"),
                "aside": self.total("aside"),
                "entries": [{"entry": e, "verdict": v, "count": n,
                             "syscalls": dict(self.syscalls[e])}
                            for (e, v), n in self.counts.items()]}


def measure_trace(att, name, trace):
    counts, syscalls = classify(att, parse_trace(trace))
    return Result(name, counts, syscalls)


# --- the suite: real programs talking over loopback --------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Traced:
    """A program started under strace; stopped by its pid."""

    def __init__(self, workdir, name, argv, env=None, stdin=None, stdout=None):
        self.name = name
        self.trace = os.path.join(workdir, name.replace(" ", "_").replace("/", "_") + ".trace")
        self.proc = subprocess.Popen(strace_cmd(self.trace, argv), env=env,
                                     stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                     stdout=stdout if stdout is not None else subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def wait_listening(self, timeout=180.0):
        """Returns once the traced program's listen() has returned 0."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                die("%s exited before it listened (status %s)" % (self.name, self.proc.returncode))
            try:
                with open(self.trace, errors="replace") as f:
                    if re.search(r"^\d+ +listen\(.*\) = 0$", f.read(), re.M):
                        return
            except FileNotFoundError:
                pass
            time.sleep(0.02)  # the trace file is the handshake; this only paces reads
        die("%s did not listen within %.0fs" % (self.name, timeout))

    def tracee_pid(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        if self.proc.poll() is None:
            pid = self.tracee_pid()
            if pid:
                os.kill(pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pid = self.tracee_pid()
                if pid:
                    os.kill(pid, signal.SIGKILL)
                self.proc.wait(timeout)
        return self.proc.returncode

    def wait(self, timeout=300.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
            die("%s did not finish within %.0fs" % (self.name, timeout))


def run_client(workdir, name, argv, stdin_bytes=None, env=None):
    # stdin is a file, not a pipe: the harness's own plumbing is not the
    # program's IPC.
    stdin = None
    if stdin_bytes is not None:
        path = os.path.join(workdir, name.replace(" ", "_") + ".stdin")
        with open(path, "wb") as f:
            f.write(stdin_bytes)
        stdin = open(path, "rb")
    t = Traced(workdir, name, argv, env=env, stdin=stdin)
    if stdin is not None:
        stdin.close()
    rc = t.wait()
    if rc != 0:
        sys.stderr.write("coverage.py: warning: %s exited with status %d\n" % (name, rc))
    return t


PY = "/usr/bin/python3"


def suite(workdir, only):
    """Runs each program; returns [(name, trace)] in table order."""
    traces = []
    www = os.path.join(workdir, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<html>hello from ipcfault's coverage run</html>\n" * 50)

    def want(n):
        return not only or any(o in n for o in only)

    servers = []
    try:
        # nginx, with curl as its client.
        if want("nginx") or want("curl"):
            port = free_port()
            conf = os.path.join(workdir, "nginx.conf")
            with open(conf, "w") as f:
                f.write("""daemon off; worker_processes 1; pid %(d)s/nginx.pid;
error_log %(d)s/nginx.err; events { worker_connections 64; }
http { access_log off; client_body_temp_path %(d)s/nb; proxy_temp_path %(d)s/np;
fastcgi_temp_path %(d)s/nf; uwsgi_temp_path %(d)s/nu; scgi_temp_path %(d)s/ns;
server { listen 127.0.0.1:%(p)d; root %(w)s; } }
""" % {"d": workdir, "p": port, "w": www})
            nginx = Traced(workdir, "nginx", ["/usr/sbin/nginx", "-c", conf, "-e",
                                              os.path.join(workdir, "nginx.err")])
            servers.append(nginx)
            nginx.wait_listening()
            url = "http://127.0.0.1:%d/index.html" % port
            traces.append(("curl", run_client(workdir, "curl", [
                "/usr/bin/curl", "-s", "-o", "/dev/null", url, "-o", "/dev/null", url]).trace))
            run_client(workdir, "curl-extra", ["/usr/bin/curl", "-s", "-o", "/dev/null",
                                               "-d", "x=1", url])
            nginx.stop(signal.SIGQUIT)  # graceful shutdown
            servers.remove(nginx)
            traces.append(("nginx", nginx.trace))

        # python3: http.server and a urllib client.
        if want("python3"):
            port = free_port()
            srv = Traced(workdir, "python3 http.server", [
                PY, "-m", "http.server", "--bind", "127.0.0.1", "--directory", www, str(port)])
            servers.append(srv)
            srv.wait_listening()
            client = run_client(workdir, "python3 urllib", [PY, "-c", (
                "import urllib.request as u\n"
                "for i in range(3):\n"
                "  assert u.urlopen('http://127.0.0.1:%d/index.html').read()\n") % port])
            traces.append(("python3 urllib", client.trace))
            srv.stop(signal.SIGINT)
            servers.remove(srv)
            traces.append(("python3 http.server", srv.trace))

        # socat: an echo server and a client.
        if want("socat"):
            port = free_port()
            srv = Traced(workdir, "socat server", [
                "/usr/bin/socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % port, "PIPE"])
            servers.append(srv)
            srv.wait_listening()
            client = run_client(workdir, "socat client", [
                "/usr/bin/socat", "-", "TCP:127.0.0.1:%d,shut-down" % port],
                stdin_bytes=b"War and Peace\nPride and Prejudice\n" * 20)
            traces.append(("socat client", client.trace))
            srv.stop()
            servers.remove(srv)
            traces.append(("socat server", srv.trace))

        # nc (OpenBSD): a listener and a client.
        if want("nc"):
            port = free_port()
            out = open(os.path.join(workdir, "nc.out"), "wb")
            srv = Traced(workdir, "nc -l", ["/bin/nc.openbsd", "-l", "127.0.0.1", str(port)],
                         stdout=out)
            servers.append(srv)
            srv.wait_listening()
            client = run_client(workdir, "nc client", [
                "/bin/nc.openbsd", "-N", "127.0.0.1", str(port)],
                stdin_bytes=b"The Sound and the Fury\n" * 20)
            traces.append(("nc client", client.trace))
            srv.wait()
            out.close()
            servers.remove(srv)
            traces.append(("nc -l", srv.trace))

        # redis-server with redis-cli.
        if want("redis"):
            port = free_port()
            srv = Traced(workdir, "redis-server", [
                "/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", workdir, "--daemonize", "no"])
            servers.append(srv)
            srv.wait_listening()
            cli = ["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", str(port)]
            client = run_client(workdir, "redis-cli", cli,
                                stdin_bytes=b"SET a 1\nGET a\nINCR a\nDEL a\nPING\n")
            traces.append(("redis-cli", client.trace))
            run_client(workdir, "redis-cli shutdown", cli + ["SHUTDOWN", "NOSAVE"])
            srv.wait()
            servers.remove(srv)
            traces.append(("redis-server", srv.trace))

        # busybox httpd with busybox wget.
        if want("busybox"):
            port = free_port()
            srv = Traced(workdir, "busybox httpd", [
                "/bin/busybox", "httpd", "-f", "-p", "127.0.0.1:%d" % port, "-h", www])
            servers.append(srv)
            srv.wait_listening()
            client = run_client(workdir, "busybox wget", [
                "/bin/busybox", "wget", "-q", "-O", "/dev/null",
                "http://127.0.0.1:%d/index.html" % port])
            traces.append(("busybox wget", client.trace))
            srv.stop()
            servers.remove(srv)
            traces.append(("busybox httpd", srv.trace))
    finally:
        for s in servers:
            s.stop(signal.SIGKILL)
    return traces


def markdown(results, before=None):
    lines = ["| program | IPC calls | can fail | share | top missing |", "|---|---:|---:|---:|---|"]
    if before:
        lines = ["| program | IPC calls | share before | share after | still missing |",
                 "|---|---:|---:|---:|---|"]
    for r in results:
        miss = ", ".join("%s %d" % (e, n) for n, e in r.missing()[:4]) or "—"
        if before:
            b = before.get(r.name)
            lines.append("| %s | %d | %s | %.1f%% | %s |" % (
                r.name, r.total("can") + r.total("cannot"),
                "%.1f%%" % b["share"] if b else "?", r.share(), miss))
        else:
            lines.append("| %s | %d | %d | %.1f%% | %s |" % (
                r.name, r.total("can") + r.total("cannot"), r.total("can"), r.share(), miss))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ipcfault", default=os.path.join(REPO, "bazel-bin", "ipcfault"),
                    help="the ipcfault binary whose `calls` list is the table (default: %(default)s)")
    ap.add_argument("--preload", default=os.path.join(REPO, "bazel-bin", "inject",
                                                      "libipcfault_preload.so"),
                    help="the preload library, for fortified and stdio entry points")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--keep", help="keep the strace logs in this directory")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also list the entry points ipcfault can fail")
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure", help="measure one command")
    m.add_argument("--name", help="the name to report (default: the command)")
    m.add_argument("argv", nargs=argparse.REMAINDER)
    t = sub.add_parser("trace", help="attribute an existing `strace -f -k -yy -o` log")
    t.add_argument("file")
    s = sub.add_parser("suite", help="measure the programs of docs/coverage.md")
    s.add_argument("--only", action="append", default=[], help="only programs matching this")
    s.add_argument("--markdown", action="store_true", help="print the markdown table")
    s.add_argument("--before", help="a JSON file of an earlier run: table before/after")
    args = ap.parse_args()

    if not shutil.which("strace") and args.cmd != "trace":
        die("strace is not installed (apt-get install -y strace)")
    att = Attributor(supported_calls(args.ipcfault), preload_symbols(args.preload))
    workdir = args.keep or tempfile.mkdtemp(prefix="ipcfault-coverage.")
    if args.keep:
        os.makedirs(workdir, exist_ok=True)
    results = []
    try:
        if args.cmd == "measure":
            argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            if not argv:
                die("measure: no command given")
            trace = os.path.join(workdir, "measure.trace")
            rc = subprocess.run(strace_cmd(trace, argv)).returncode
            if rc != 0:
                sys.stderr.write("coverage.py: warning: the command exited with status %d\n" % rc)
            results.append(measure_trace(att, args.name or " ".join(argv), trace))
        elif args.cmd == "trace":
            results.append(measure_trace(att, args.file, args.file))
        else:
            for name, trace in suite(workdir, args.only):
                results.append(measure_trace(att, name, trace))
        for r in results:
            r.report(sys.stdout, args.verbose)
        if args.cmd == "suite" and args.markdown:
            before = None
            if args.before:
                with open(args.before) as f:
                    before = {r["name"]: r for r in json.load(f)}
            sys.stdout.write("\n" + markdown(results, before))
        if args.json:
            with open(args.json, "w") as f:
                json.dump([r.as_json() for r in results], f, indent=1)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
