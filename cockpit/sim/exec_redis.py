"""`redis-cli` inside the simulated `redis-0`: the runbook's memory questions.

State (maxmemory, policy, keys, memory) lives in the pod's `SimFS.state`, so a
`CONFIG SET` lasts as long as the pod.  Output follows redis-cli: raw replies when stdout
is not a terminal (kubectl exec without -t), `(integer) 5` / `1) "..."` with a tty.
"""

from __future__ import annotations

import hashlib

from cockpit.sim.exec_shell import Ctx, Result
from cockpit.sim.fs_trees import redis_settings

STARTUP = 865_960
POLICIES = (
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)


def _state(ctx: Ctx) -> dict:
    st = ctx.fs.state.get("redis")
    if st is None:
        uid = str(ctx.pod.get("metadata", {}).get("uid", ""))
        wobble = int.from_bytes(hashlib.blake2b(uid.encode(), digest_size=4).digest(), "big")
        maxmemory, policy = redis_settings(ctx.pod)
        share = 0.95 if ctx.scenario == "incident" else 0.45
        used = int(maxmemory * share) + wobble % (4 * 1024**2)
        st = {
            "maxmemory": maxmemory,
            "policy": policy,
            "used": used,
            "peak": int(used * 1.02) if ctx.scenario == "incident" else int(used * 1.3),
            "keys": used // 1500,
            "expires": used // 4000,
        }
        ctx.fs.state["redis"] = st
    return st


def _h(n: float) -> str:
    """Redis' bytes-to-human: 1.90G, 845.31M, 31.00K, 512B."""
    for unit, size in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{int(n)}B"


def _info_memory(st: dict) -> str:
    used, maxm = st["used"], st["maxmemory"]
    rss = int(used * 1.05) + 12 * 1024**2
    dataset = max(0, used - STARTUP - st["keys"] * 56)
    fields = [
        ("used_memory", used),
        ("used_memory_human", _h(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", _h(rss)),
        ("used_memory_peak", max(st["peak"], used)),
        ("used_memory_peak_human", _h(max(st["peak"], used))),
        ("used_memory_peak_perc", f"{100 * used / max(st['peak'], used):.2f}%"),
        ("used_memory_overhead", used - dataset),
        ("used_memory_startup", STARTUP),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{100 * dataset / max(1, used - STARTUP):.2f}%"),
        ("allocator_allocated", used + 204_800),
        ("allocator_active", rss - 4 * 1024**2),
        ("allocator_resident", rss),
        ("total_system_memory", 16_624_766_976),
        ("total_system_memory_human", _h(16_624_766_976)),
        ("used_memory_lua", 31_744),
        ("used_memory_vm_eval", 31_744),
        ("used_memory_lua_human", "31.00K"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("maxmemory", maxm),
        ("maxmemory_human", _h(maxm)),
        ("maxmemory_policy", st["policy"]),
        ("allocator_frag_ratio", "1.01"),
        ("allocator_frag_bytes", 2_187_264),
        ("allocator_rss_ratio", "1.02"),
        ("rss_overhead_ratio", "1.01"),
        ("mem_fragmentation_ratio", f"{rss / max(1, used):.2f}"),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 412_312),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "jemalloc-5.3.0"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]
    return "# Memory\r\n" + "".join(f"{k}:{v}\r\n" for k, v in fields)


def _info(st: dict, ctx: Ctx, section: str) -> str:
    server = (
        "# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\nos:Linux "
        "5.10.228-219.884.amzn2.x86_64 x86_64\r\nprocess_id:1\r\ntcp_port:6379\r\n"
        "uptime_in_seconds:259200\r\nuptime_in_days:3\r\n"
    )
    clients = "# Clients\r\nconnected_clients:42\r\nblocked_clients:0\r\nmaxclients:10000\r\n"
    keyspace = (
        f"# Keyspace\r\ndb0:keys={st['keys']},expires={st['expires']},avg_ttl=3600000\r\n"
        if st["keys"]
        else "# Keyspace\r\n"
    )
    parts = {"server": server, "clients": clients, "memory": _info_memory(st), "keyspace": keyspace}
    if section in ("", "all", "default", "everything"):
        return "\r\n".join(parts.values())
    return parts.get(section, "")


def _reply(ctx: Ctx, kind: str, value: object) -> str:
    """Format a reply like redis-cli: raw without a tty, typed with one."""
    if kind == "int":
        return f"(integer) {value}\n" if ctx.tty else f"{value}\n"
    if kind == "status":
        return f"{value}\n"
    if kind == "error":
        return f"(error) {value}\n" if ctx.tty else f"{value}\n"
    if kind == "array":
        items = list(value)  # type: ignore[call-overload]
        if not ctx.tty:
            return "".join(f"{v}\n" for v in items)
        if not items:
            return "(empty array)\n"
        return "".join(f'{i}) "{v}"\n' for i, v in enumerate(items, 1))
    return f"{value}\n"  # bulk


def redis_cli(args: list[str], ctx: Ctx, stdin: str) -> Result:
    # Connection options are accepted and ignored: there is one server, and it is this one.
    words: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-h", "-p", "-a", "-n", "-u", "--user", "--pass") and i + 1 < len(args):
            i += 2
            continue
        if a in ("--no-auth-warning", "--raw", "--no-raw", "-c", "--tls"):
            i += 1
            continue
        words.append(a)
        i += 1
    if not words:
        return Result(
            err="redis-cli: interactive mode is not simulated; pass a command, "
            "e.g. redis-cli info memory\n",
            code=1,
        )
    st = _state(ctx)
    cmd = words[0].upper()
    rest = words[1:]
    if cmd == "PING":
        return Result(out=_reply(ctx, "status", "PONG"))
    if cmd == "INFO":
        return Result(out=_info(st, ctx, rest[0].lower() if rest else "") + "\n")
    if cmd == "DBSIZE":
        return Result(out=_reply(ctx, "int", st["keys"]))
    if cmd in ("FLUSHDB", "FLUSHALL"):
        st.update(keys=0, expires=0, used=STARTUP + 1_200_000)
        return Result(out=_reply(ctx, "status", "OK"))
    if cmd == "CONFIG" and rest:
        sub = rest[0].upper()
        if sub == "GET" and len(rest) == 2:
            known = {"maxmemory-policy": st["policy"], "maxmemory": st["maxmemory"]}
            param = rest[1].lower()
            pairs = [(k, v) for k, v in known.items() if k == param or param == "*"]
            return Result(out=_reply(ctx, "array", [x for kv in pairs for x in kv]))
        if sub == "SET" and len(rest) == 3:
            param, value = rest[1].lower(), rest[2]
            if param == "maxmemory-policy" and value.lower() in POLICIES:
                st["policy"] = value.lower()
                return Result(out=_reply(ctx, "status", "OK"))
            if param == "maxmemory" and value.isdigit():
                st["maxmemory"] = int(value)
                return Result(out=_reply(ctx, "status", "OK"))
            msg = (
                f"ERR CONFIG SET failed (possibly related to argument '{param}') - "
                "argument(s) must be one of the following: " + ", ".join(POLICIES)
                if param == "maxmemory-policy"
                else f"ERR Unknown option or number of arguments for CONFIG SET - '{param}'"
            )
            return Result(out=_reply(ctx, "error", msg), code=1)
        return Result(
            out=_reply(
                ctx, "error", f"ERR unknown subcommand or wrong number of arguments for '{rest[0]}'"
            ),
            code=1,
        )
    return Result(
        out=_reply(
            ctx,
            "error",
            f"ERR unknown command '{words[0]}', with args "
            "beginning with: (the simulated redis knows PING, "
            "INFO, DBSIZE, CONFIG GET/SET, FLUSHDB)",
        ),
        code=1,
    )
