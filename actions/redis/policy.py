"""The runbook's `CONFIG SET maxmemory-policy allkeys-lru`, and one key to take it back.

The journal is the memory: every successful change records the old and new value (and
the server's run_id), so the revert reads the last change on this server from the
journal and refuses unless the server still has the value that change set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from actions.base import Action, Param, Plan, Progress, Refused, Result, Risk
from actions.redis.context import RedisActionContext, talking
from cockpit.model import RedisSnapshot
from cockpit.sources.redis.deep import text

PARAMETER = "maxmemory-policy"
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
MEANING = {
    "noeviction": "nothing is evicted: writes fail with OOM once maxmemory is reached",
    "allkeys-lru": "least-recently-used keys of any kind are evicted",
    "allkeys-lfu": "least-frequently-used keys of any kind are evicted",
    "allkeys-random": "random keys of any kind are evicted",
    "volatile-lru": "least-recently-used keys with a TTL are evicted (never keys without one)",
    "volatile-lfu": "least-frequently-used keys with a TTL are evicted (never keys without one)",
    "volatile-random": "random keys with a TTL are evicted (never keys without one)",
    "volatile-ttl": "keys with a TTL nearest to expiry are evicted (never keys without one)",
}
LOCK = "redis/maxmemory-policy"
CONFIG_HINT = "the Redis user needs +config|get and +config|set (or CONFIG is renamed)"
RUNTIME_ONLY = (
    "CONFIG SET changes the running server only: a restart goes back to redis.conf "
    "(update the config map too if this should last)"
)


def transition(old: str, new: str) -> str:
    """What changing the policy from `old` to `new` means, in plain words."""
    if old == new:
        return f"already {new}: nothing changes"
    meaning = MEANING.get(new, "an unknown policy")
    if old == "noeviction":
        return f"writes stop failing with OOM; {meaning}"
    if new == "noeviction":
        return "eviction stops: writes fail with OOM once maxmemory is reached"
    return f"eviction changes: {meaning}"


def policy_menu(current: str, chosen: str, recommended: str) -> tuple[str, ...]:
    """Every valid policy, the current one and the choice marked, with its meaning."""
    lines = []
    for name in POLICIES:
        marks = []
        if name == current:
            marks.append("current")
        if name == recommended:
            marks.append("runbook")
        arrow = "▸" if name == chosen else " "
        label = f"{name} ({', '.join(marks)})" if marks else name
        lines.append(f"{arrow} {label:<30} {MEANING[name]}")
    return tuple(lines)


@dataclass(frozen=True)
class PolicyState:
    policy: str
    maxmemory: int
    run_id: str
    keys_with_ttl: int


async def read_state(ctx: RedisActionContext) -> PolicyState:
    """CONFIG GET of the policy and maxmemory, the run_id and keys with a TTL."""
    client = ctx.client()
    policy = await read_policy(ctx)
    async with talking(ctx, "CONFIG GET", CONFIG_HINT):
        maxmemory = await client.config_get("maxmemory")
    async with talking(ctx, "INFO"):
        server = await client.info("server")
        space = await client.info("keyspace")
    ttl = sum(int(v.get("expires", 0)) for v in space.values() if isinstance(v, dict))
    return PolicyState(
        policy, int(maxmemory.get("maxmemory") or 0), str(server.get("run_id", "")), ttl
    )


async def read_policy(ctx: RedisActionContext) -> str:
    async with talking(ctx, "CONFIG GET", CONFIG_HINT):
        reply = await ctx.client().config_get(PARAMETER)
    if PARAMETER not in reply:
        raise Refused(f"this server has no {PARAMETER} setting")
    return text(reply[PARAMETER])


async def apply_policy(
    ctx: RedisActionContext, expected: str, new: str, dry_run: bool, **data: Any
) -> Result:
    """CONFIG SET, refused unless the server still has `expected` (what was shown)."""
    now = await read_policy(ctx)
    if expected and now != expected:
        raise Refused(f"{PARAMETER} changed since it was shown ({expected} → {now}); nothing done")
    if now == new:
        raise Refused(f"{PARAMETER} is already {new}: nothing to change")
    record = {"server": ctx.server, "parameter": PARAMETER, "old": now, "new": new, **data}
    if dry_run:
        return Result(True, f"dry run: {PARAMETER} would go {now} → {new} (not sent)", record)
    async with talking(ctx, "CONFIG SET", CONFIG_HINT + "; nothing changed"):
        await ctx.client().config_set(PARAMETER, new)
    return Result(True, f"{PARAMETER} {now} → {new}", record)


async def read_back(ctx: RedisActionContext, result: Result, progress: Progress) -> Result:
    progress(None, f"reading {PARAMETER} back")
    value = await read_policy(ctx)
    data = {**result.data, "read_back": value}
    if value != result.data["new"]:
        return Result(False, f"{PARAMETER} reads back as {value}, not {result.data['new']}", data)
    progress(1.0, f"{PARAMETER} is {value}")
    return Result(True, f"{result.message} (read back: {value})", data)


def _server(snapshot: RedisSnapshot | None) -> str:
    return snapshot.server.rsplit("/", 1)[0] if snapshot else "?"


def _warnings(state: PolicyState | None, old: str, new: str) -> tuple[str, ...]:
    found = []
    if old == new:
        found.append(f"{PARAMETER} is already {new}: nothing would change")
    if state is not None and state.maxmemory == 0:
        found.append("maxmemory is 0 (no limit): the policy has no effect until it is set")
    if state is not None and new.startswith("volatile-") and state.keys_with_ttl == 0:
        found.append(f"no key has a TTL: {new} can evict nothing, writes still fail with OOM")
    found.append(RUNTIME_ONLY)
    return tuple(found)


BLAST = (
    "the whole server, every database: when memory is full, keys are evicted by this rule "
    "(Redis here is the cache and Sidekiq's queue: allkeys-* may evict queued jobs too)"
)


@dataclass(frozen=True)
class SetPolicy(Action):
    """Choose a maxmemory-policy; the runbook's allkeys-lru is offered first."""

    id = "redis.policy"
    label = "Set maxmemory-policy"
    mutating = True
    context_kind = "redis"
    snapshot: RedisSnapshot | None = None
    policy: str = ""  # the choice; "" until prepared: the runbook's recommendation
    recommended: str = ""
    state: PolicyState | None = None
    server: str = ""

    async def prepare(self, ctx: RedisActionContext) -> SetPolicy:
        state = await read_state(ctx)
        recommended = ctx.settings.redis.recommended_policy
        return replace(
            self,
            state=state,
            recommended=recommended,
            policy=self.policy or recommended,
            server=ctx.server,
        )

    @property
    def current(self) -> str:
        if self.state is not None:
            return self.state.policy
        return self.snapshot.policy if self.snapshot else "?"

    def params(self) -> tuple[Param, ...]:
        return (
            # Short: the modal gives a label 24 cells; the plan's list marks the runbook's.
            Param("policy", "policy", self.policy, choices=POLICIES, help=f"now {self.current}"),
        )

    def with_params(self, values: dict[str, str]) -> SetPolicy:
        typed = values.get("policy", self.policy).strip().lower()
        # A unique prefix is enough ("allkeys-lr"): the plan then shows the full name.
        matches = [p for p in POLICIES if p == typed] or [
            p for p in POLICIES if p.startswith(typed)
        ]
        if len(matches) != 1 or not typed:
            raise ValueError(f"{PARAMETER} must be one of: {', '.join(POLICIES)}")
        return replace(self, policy=matches[0])

    def plan(self) -> Plan:
        server = self.server or _server(self.snapshot)
        old, new = self.current, self.policy or self.recommended or "?"
        return Plan(
            action=self.id,
            title=f"Set {PARAMETER} of Redis {server}: {old} → {new}",
            changes=(f"{old} → {new}: {transition(old, new)}",),
            command=f"redis-cli CONFIG SET {PARAMETER} {new}",
            targets=(f"redis/{server}",),
            blast_radius=BLAST,
            risk=Risk.MEDIUM,
            details=(
                "Policies (▸ chosen):",
                *policy_menu(old, new, self.recommended),
            ),
            lock_key=LOCK,
            warnings=_warnings(self.state, old, new),
        )

    async def execute(self, ctx: RedisActionContext, dry_run: bool) -> Result:
        run_id = self.state.run_id if self.state else ""
        return await apply_policy(ctx, self.current, self.policy, dry_run, run_id=run_id)

    async def verify(self, ctx: RedisActionContext, result: Result, progress: Progress) -> Result:
        return await read_back(ctx, result, progress)


# -- the revert --------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChange:
    """One succeeded policy change, as the journal recorded it."""

    time: str  # the journal's UTC timestamp
    old: str
    new: str
    run_id: str

    @property
    def when(self) -> str:
        return self.time[:19].replace("T", " ") + " UTC" if self.time else "?"


def _succeeded_on(entry: dict[str, Any], server: str) -> dict[str, Any] | None:
    result = entry.get("result")
    if (
        entry.get("action") in (SetPolicy.id, RevertPolicy.id)
        and entry.get("outcome") == "succeeded"
        and isinstance(result, dict)
        and result.get("server") == server
        and result.get("old")
        and result.get("new")
    ):
        return result
    return None


def unreverted_changes(entries: list[dict[str, Any]], server: str) -> list[PolicyChange]:
    """Succeeded policy changes on `server` not reverted since, oldest first (an undo stack).

    A revert takes its change off the stack, so pressing the key again undoes the change
    before it instead of flip-flopping between two policies.
    """
    stack: list[PolicyChange] = []
    for entry in entries:
        result = _succeeded_on(entry, server)
        if result is None:
            continue
        if entry.get("action") == RevertPolicy.id:
            stack = [c for c in stack if c.time != result.get("reverts")]
        else:
            stack.append(
                PolicyChange(
                    str(entry.get("time", "")),
                    str(result["old"]),
                    str(result["new"]),
                    str(result.get("run_id", "")),
                )
            )
    return stack


def last_change(entries: list[dict[str, Any]], server: str) -> PolicyChange | None:
    """The newest change on `server` that has not been reverted yet."""
    stack = unreverted_changes(entries, server)
    return stack[-1] if stack else None


@dataclass(frozen=True)
class RevertPolicy(Action):
    """Put back the policy the last change replaced (from the journal)."""

    id = "redis.policy-revert"
    label = "Revert the last maxmemory-policy change"
    mutating = True
    context_kind = "redis"
    snapshot: RedisSnapshot | None = None
    change: PolicyChange | None = None
    current: str = ""
    server: str = ""
    run_id: str = ""

    async def prepare(self, ctx: RedisActionContext) -> RevertPolicy:
        change = last_change(ctx.journal_entries(), ctx.server)
        if change is None:
            raise Refused(
                f"no unreverted {PARAMETER} change on Redis {ctx.server} in the journal: "
                "nothing to revert"
            )
        state = await read_state(ctx)
        if change.run_id and state.run_id and change.run_id != state.run_id:
            raise Refused(
                f"the last {PARAMETER} change ({change.when}) was made on a Redis that has "
                f"restarted since (or another server at {ctx.server}): not reverting"
            )
        if state.policy != change.new:
            raise Refused(
                f"{PARAMETER} is now {state.policy}, not {change.new} as set at {change.when}: "
                "it was changed since; not reverting"
            )
        return replace(
            self, change=change, current=state.policy, server=ctx.server, run_id=state.run_id
        )

    def plan(self) -> Plan:
        server = self.server or _server(self.snapshot)
        change = self.change
        if change is None:
            old, new, title = "?", "?", f"Revert the last {PARAMETER} change on Redis {server}"
        else:
            old, new = change.new, change.old
            title = f"Revert {PARAMETER} of Redis {server}: {old} → {new} (revert of {change.when})"
        return Plan(
            action=self.id,
            title=title,
            changes=(f"{old} → {new}: {transition(old, new)}",),
            command=f"redis-cli CONFIG SET {PARAMETER} {new}",
            targets=(f"redis/{server}",),
            blast_radius=BLAST,
            risk=Risk.MEDIUM,
            lock_key=LOCK,
            warnings=(RUNTIME_ONLY,),
        )

    async def execute(self, ctx: RedisActionContext, dry_run: bool) -> Result:
        if self.change is None:
            raise Refused("nothing to revert")
        return await apply_policy(
            ctx,
            self.change.new,
            self.change.old,
            dry_run,
            run_id=self.run_id,
            reverts=self.change.time,
        )

    async def verify(self, ctx: RedisActionContext, result: Result, progress: Progress) -> Result:
        return await read_back(ctx, result, progress)
