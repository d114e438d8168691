"""Phone-call latency, ours against a stock Pipecat bot, over the real Twilio protocol on loopback.

    .venv/bin/python bench/call_latency.py              # the default run (~12 min on 2 cores)
    .venv/bin/python bench/call_latency.py --quick      # do both bots answer? (~5 min)
    .venv/bin/python bench/call_latency.py --peer none  # the project alone

Each bot runs as its own process: the gateway (`voice serve`: whisper-base int8, FAQ route,
espeak-ng) and Pipecat 1.14.0 in the shape of its `twilio-chatbot` example (same whisper-base int8
weights, Silero VAD with the default Smart Turn v3 end of turn, espeak-ng, one fixed answer; see
bench/peers/pipecat_bot.py), installed once into its own venv under the cache dir. The same
simulated callers call both, alternating which bot goes first: espeak questions of 2-5 s, every
other one with a 400-600 ms pause inside the sentence ("What is the balance <pause> of my
account?"). Scenarios: one call; N calls staggered (seeded random start offsets and pauses between
turns); N calls all asking at once; idle calls (connected, silent).

Measured by the caller (voice/telephony/simulator.py):
- voice-to-voice: from its last frame of speech to the first reply frame that carries speech
  (energy of the decoded mu-law frame), clocked when the handset plays it, so a bot that sends
  audio ahead of real time is neither helped nor hurt;
- premature: bot speech that starts while the question is still being spoken (in its pause). Such
  a turn has no meaningful latency: it is counted here and left out of the percentiles;
- split: the bot stored more turns than were asked (it answered a fragment, after the question
  ended; that turn's latency is the fragment reply's);
- WER of what the bot transcribed (its stored turns, per call, against the questions' text);
- gap: the longest silence inside a reply because audio arrived late (handset underrun);
- CPU per call and RSS of each bot's process tree (psutil), and CPU per idle call over a silent
  window after the greetings, minus the same bot's CPU with no call.
The gateway's own per-turn timings (stored with each turn) give the stage table; a key not
stored yet prints "-".

Targets (the project; ratios against Pipecat's one-call median in the same run): 1 call P50 <=
0.6x and P90 <= 1.0x; 0 premature replies over >= 30 paused turns; N staggered P90 <= 1.0x; N at
once P90 <= 2.0x; no reply gap > 60 ms with N calls; an idle call <= 1 % of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("COLUMNS", "160")  # Rich tables keep their columns readable in a log

from bench.common import RESULTS, ProcessTree, fmt, percentile, print_table, save_json, wait_healthy  # noqa: E402
from tests.conftest import espeak  # noqa: E402
from voice.audio import Audio  # noqa: E402
from voice.telephony.simulator import (  # noqa: E402
    CallReport,
    Pause,
    SimulatedCaller,
    Speak,
    Step,
    Sync,
    SyncGroup,
)
from voice.telephony.twilio_standin import BackgroundServer, TwilioStandIn, free_port  # noqa: E402

PLAIN = [
    "What is the balance of my account?",
    "How much does the weekly data bundle cost?",
    "My SIM card was stolen yesterday, please block it.",
    "What time do your shops open on Saturday?",
    "How much does it cost to send money to my brother?",
    "There is no network in my village since Monday.",
]
PAUSED = [  # a pause where the sentence is plainly unfinished
    ("What is the balance", "of my account?"),
    ("I would like to buy", "the weekly data bundle."),
    ("How much does it cost to send money", "to my brother in Dakar?"),
    ("My SIM card was stolen", "and I need a new one."),
    ("Can you tell me when", "your shops open on Saturday?"),
    ("There is no network", "in my village since Monday."),
]
PIPECAT_ANSWER = "Your balance is one thousand two hundred and fifty CFA francs."
STAGES = ["endpoint_s", "asr_wait_s", "asr_s", "agent_first_s", "tts_first_s", "voice_to_voice_s"]
REPLY_TIMEOUT_S = 60.0  # ten Pipecat calls at once can take this long on 2 cores
FULL = dict(calls=10, turns=3, single_turns=8, idle_calls=5, idle_seconds=10.0, stagger_s=8.0)
QUICK = dict(calls=2, turns=1, single_turns=2, idle_calls=2, idle_seconds=4.0, stagger_s=3.0)


# -- what the callers say -----------------------------------------------------------------------------
@dataclass
class Question:
    text: str  # the reference for WER
    pause_s: float | None  # the silence inside it, if any

    def step(self, bank: dict[str, Audio]) -> Speak:
        if self.pause_s is None:
            return Speak(bank[self.text])
        first, second = next(p for p in PAUSED if " ".join(p) == self.text)
        return Speak.parts(bank[first], self.pause_s, bank[second])


def speech_bank() -> dict[str, Audio]:
    texts = PLAIN + [piece for pair in PAUSED for piece in pair]
    return {t: espeak(t) for t in texts}


def ask(k: int, rng: random.Random) -> Question:
    """The k-th question of a call: plain and paused in turn, each drawn at random."""
    if k % 2:
        first, second = rng.choice(PAUSED)
        return Question(f"{first} {second}", rng.uniform(0.4, 0.6))
    return Question(rng.choice(PLAIN), None)


@dataclass
class CallPlan:
    """One caller's script, fixed before the run so both bots hear exactly the same calls."""

    start_after_s: float
    items: list[Question | float | str]  # a question, a pause in seconds, or "sync"

    @property
    def questions(self) -> list[Question]:
        return [q for q in self.items if isinstance(q, Question)]


@dataclass
class Scenario:
    key: str  # single | staggered | burst
    label: str
    calls: int
    turns: int  # per call
    rounds: int = 1  # run in this many slices, alternating which bot goes first


def plan(sc: Scenario, rng: random.Random, stagger_s: float, first: int = 0) -> list[CallPlan]:
    """Each call's script; `first` continues the plain/paused alternation across rounds."""
    plans = []
    for c in range(sc.calls):
        items: list[Question | float | str] = []
        for t in range(sc.turns):
            if sc.key == "burst":
                items.append("sync")
            elif sc.key == "staggered" and t:
                items.append(rng.uniform(1.0, 4.0))  # a caller thinking before the next question
            elif t:
                items.append(rng.uniform(0.3, 1.0))
            items.append(ask(first + t + c, rng))
        start = rng.uniform(0, stagger_s) if sc.key == "staggered" else 0.0
        plans.append(CallPlan(start, items))
    return plans


def steps_for(plans: list[CallPlan], bank: dict[str, Audio]) -> list[list[Step]]:
    """Fresh steps (and meeting points) for one run of the plans."""
    groups: dict[int, SyncGroup] = {}
    out = []
    for p in plans:
        steps: list[Step] = []
        n_sync = 0
        for item in p.items:
            if item == "sync":
                group = groups.setdefault(n_sync, SyncGroup(len(plans), timeout_s=REPLY_TIMEOUT_S * 2))
                steps.append(Sync(group))
                n_sync += 1
            elif isinstance(item, float):
                steps.append(Pause(item))
            else:
                steps.append(item.step(bank))
        out.append(steps)
    return out


# -- the bots -----------------------------------------------------------------------------------------
@dataclass
class Bot:
    name: str
    url: str
    tree: ProcessTree
    sid: str = "AC" + "0" * 32
    token: str = "unused"


def start_gateway(port: int, sid: str, token: str, rest_url: str, data: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VOICE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": sid,
        "TWILIO_AUTH_TOKEN": token,
        "TWILIO_API_BASE_URL": rest_url,
        "VOICE_DATA_DIR": str(data),
        "VOICE_CALL_IDLE_TIMEOUT_S": "120",
        "VOICE_MESSAGING_WORKER": "false",
        "HF_HUB_OFFLINE": "1",
    }
    voice = Path(sys.executable).parent / "voice"
    out = log.open("ab")
    proc = subprocess.Popen([str(voice), "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    wait_healthy(proc, f"http://127.0.0.1:{port}", "the gateway", log)
    return proc


async def call_all(bot: Bot, plans: list[CallPlan], bank: dict[str, Audio]) -> list[CallReport]:
    callers = [
        SimulatedCaller(bot.url, bot.sid, bot.token, "eng", reply_timeout_s=REPLY_TIMEOUT_S) for _ in plans
    ]
    runs = [
        c.run(s, start_after_s=p.start_after_s)
        for c, s, p in zip(callers, steps_for(plans, bank), plans, strict=True)
    ]
    return list(await asyncio.gather(*runs))


async def idle_cpu(bot: Bot, calls: int, seconds: float) -> float:
    """Percent of a core one connected, silent call costs: CPU over a silent window after the
    greetings, minus the same bot's CPU with no call over as long."""
    c0 = bot.tree.cpu_seconds()
    await asyncio.sleep(seconds)
    base = (bot.tree.cpu_seconds() - c0) / seconds
    group = SyncGroup(calls, timeout_s=REPLY_TIMEOUT_S * 2)
    window: dict[str, float] = {}

    async def meter() -> None:
        await group.released.wait()
        await asyncio.sleep(0.5)  # the last greeting's marks and stragglers
        c1, t1 = bot.tree.cpu_seconds(), time.monotonic()
        await asyncio.sleep(seconds - 1.0)
        window["cores"] = (bot.tree.cpu_seconds() - c1) / (time.monotonic() - t1)

    callers = [
        SimulatedCaller(bot.url, bot.sid, bot.token, "eng", reply_timeout_s=REPLY_TIMEOUT_S)
        for _ in range(calls)
    ]
    await asyncio.gather(meter(), *(c.run([Sync(group), Pause(seconds)]) for c in callers))
    return 100 * max(0.0, window["cores"] - base) / calls


# -- what the runs gave -------------------------------------------------------------------------------
@dataclass
class Outcome:
    """One bot in one scenario, over all its rounds."""

    reports: list[CallReport] = field(default_factory=list)
    plans: list[CallPlan] = field(default_factory=list)
    cpu_s: float = 0.0
    wall_s: float = 0.0
    rss_mb: float = 0.0

    @property
    def turns(self) -> list:
        return [t for r in self.reports for t in r.turns]

    @property
    def latencies(self) -> list[float]:
        return [t.speech_latency_s for t in self.turns if t.speech_latency_s is not None and not t.premature]

    @property
    def unanswered(self) -> int:
        """Questions that got no spoken reply in time (premature ones aside)."""
        return sum(t.speech_latency_s is None and not t.premature for t in self.turns)

    @property
    def paused_turns(self) -> int:
        return sum(bool(t.pauses_s) for t in self.turns)

    @property
    def premature(self) -> int:
        return sum(t.premature for t in self.turns)

    @property
    def split(self) -> int:
        """Extra turns the bot stored: it answered part of a question as if it were the whole."""
        return sum(max(0, len(asked_turns(r)) - len(r.turns)) for r in self.reports)

    @property
    def max_gap_ms(self) -> float | None:
        gaps = [t.max_underrun_s for t in self.turns if t.first_speech is not None]
        return 1000 * max(gaps) if gaps else None

    @property
    def wer(self) -> float | None:
        refs, hyps = [], []
        for r, p in zip(self.reports, self.plans, strict=True):
            refs.append(normalise(" ".join(q.text for q in p.questions)))
            hyps.append(normalise(" ".join(t.get("caller_text") or "" for t in asked_turns(r))) or "<empty>")
        return float(jiwer.wer(refs, hyps)) if refs else None

    def cpu_per_call(self, calls: int) -> float | None:
        return 100 * self.cpu_s / self.wall_s / calls if self.wall_s else None

    def summary(self, calls: int) -> dict:
        return {
            "latencies": self.latencies,
            "unanswered": self.unanswered,
            "premature": self.premature,
            "paused_turns": self.paused_turns,
            "split": self.split,
            "wer": self.wer,
            "max_gap_ms": self.max_gap_ms,
            "cpu_pct_per_call": self.cpu_per_call(calls),
            "rss_mb": self.rss_mb,
            "calls": [r.to_json() for r in self.reports],
        }


def asked_turns(report: CallReport) -> list[dict]:
    """The bot's stored turns that answer the caller (not its greeting), in order."""
    turns = [
        t for t in report.server_turns if (t.get("index") or 0) > 0 and (t.get("caller_text") or "").strip()
    ]
    return sorted(turns, key=lambda t: t["index"])


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def stage_medians(reports: list[CallReport]) -> dict[str, float | None]:
    """The gateway's own per-turn timings, stored with each turn and read back by the caller."""
    timings = [t.get("timings") or {} for r in reports for t in asked_turns(r)]
    out: dict[str, float | None] = {}
    for key in STAGES:
        values = [float(t[key]) for t in timings if t.get(key) is not None]
        out[key] = float(np.median(values)) if values else None
    early = [float(t["early_asr"]) for t in timings if t.get("early_asr") is not None]
    out["early_asr share"] = float(np.mean(early)) if early else None
    return out


# -- the run ------------------------------------------------------------------------------------------
def scenarios(a: argparse.Namespace) -> list[Scenario]:
    every = {
        "single": Scenario("single", "1 call", 1, a.single_turns, rounds=2 if a.single_turns >= 2 else 1),
        "staggered": Scenario("staggered", f"{a.calls} staggered", a.calls, a.turns),
        "burst": Scenario("burst", f"{a.calls} at once", a.calls, a.turns),
    }
    return [every[k] for k in a.scenarios.split(",") if k in every]


def measure(bots: list[Bot], scs: list[Scenario], a: argparse.Namespace, bank: dict[str, Audio]) -> dict:
    rng = random.Random(a.seed)
    results: dict[str, dict[str, Outcome]] = {b.name: {} for b in bots}
    for i, sc in enumerate(scs):
        per_round = [sc.turns // sc.rounds + (r < sc.turns % sc.rounds) for r in range(sc.rounds)]
        for r, turns in enumerate(per_round):
            plans = plan(Scenario(sc.key, sc.label, sc.calls, turns), rng, a.stagger_s, sum(per_round[:r]))
            order = bots if (i + r) % 2 == 0 else bots[::-1]
            for bot in order:
                out = results[bot.name].setdefault(sc.label, Outcome())
                c0, t0 = bot.tree.cpu_seconds(), time.monotonic()
                reports = asyncio.run(call_all(bot, plans, bank))
                out.cpu_s += bot.tree.cpu_seconds() - c0
                out.wall_s += time.monotonic() - t0
                out.rss_mb = max(out.rss_mb, bot.tree.rss_mb())
                out.reports += reports
                out.plans += plans
                lat = [t.speech_latency_s for rep in reports for t in rep.turns]
                shown = ", ".join(fmt(x) for x in lat)
                print(f"  {sc.label} [{r + 1}/{sc.rounds}] {bot.name}: v2v {shown}", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", choices=["pipecat", "none"], default="pipecat")
    ap.add_argument("--quick", action="store_true", help="a few calls and turns: do both bots answer?")
    ap.add_argument("--calls", type=int, help="calls in the staggered and at-once scenarios (10)")
    ap.add_argument("--turns", type=int, help="questions per call in those scenarios (3)")
    ap.add_argument("--single-turns", type=int, help="questions in the one-call scenario (8)")
    ap.add_argument("--idle-calls", type=int, help="silent calls for the idle CPU (5)")
    ap.add_argument("--idle-seconds", type=float, help="length of the silent window (10)")
    ap.add_argument("--stagger-s", type=float, help="staggered calls start within this many s (8)")
    ap.add_argument("--scenarios", default="single,staggered,burst,idle")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--reference", type=float, help="Pipecat's one-call P50 (s), when run with --peer none")
    a = ap.parse_args()
    for k, v in (QUICK if a.quick else FULL).items():
        if getattr(a, k) is None:
            setattr(a, k, v)

    from voice.asr.models import resolve_model
    from voice.config import PathSettings

    bank = speech_bank()
    print("questions:", ", ".join(f"{bank[t].duration:.1f}s" for t in PLAIN), "+ paused ones")
    cache = PathSettings().cache_dir
    logs = cache / "bench" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scs = scenarios(a)
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        rest = stack.enter_context(BackgroundServer(TwilioStandIn(sid, token).app()))
        port = free_port()
        gw = start_gateway(port, sid, token, rest.url, tmp, logs / "gateway.log")
        stack.callback(stop, gw)
        bots = [Bot("project", f"http://127.0.0.1:{port}", ProcessTree(gw.pid), sid, token)]
        if a.peer == "pipecat":
            from bench.peers.pipecat_peer import PipecatBot, ensure_venv

            python, model = ensure_venv(cache), resolve_model("whisper-base").path
            peer = stack.enter_context(
                PipecatBot(python, model, free_port(), logs / "pipecat.log", PIPECAT_ANSWER)
            )
            bots.append(Bot("pipecat", peer.url, ProcessTree(peer.pid)))
        warm = [CallPlan(0.0, [ask(1, random.Random(0))])]
        for bot in bots:  # load models and caches once, outside the measurements
            asyncio.run(call_all(bot, warm, bank))
        results = measure(bots, scs, a, bank)
        idle: dict[str, float] = {}
        if "idle" in a.scenarios.split(","):
            for bot in bots:
                idle[bot.name] = asyncio.run(idle_cpu(bot, a.idle_calls, a.idle_seconds))
                print(f"  idle {bot.name}: {idle[bot.name]:.2f} % of a core per call", flush=True)
    report(bots, scs, results, idle, a)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def report(bots: list[Bot], scs: list[Scenario], results: dict, idle: dict[str, float], a) -> None:
    cols = [
        "bot",
        "scenario",
        "turns",
        "answered",
        "v2v P50 s",
        "v2v P90 s",
        "premature/paused",
        "split",
        "WER",
        "max gap ms",
        "CPU %/call",
        "RSS MB",
    ]  # answered: a spoken reply after the question ended (premature turns are not)
    rows = []
    for sc in scs:
        for bot in bots:
            o: Outcome = results[bot.name][sc.label]
            lat = o.latencies
            rows.append(
                [
                    bot.name,
                    sc.label,
                    len(o.turns),
                    len(lat),
                    fmt(percentile(lat, 50)),
                    fmt(percentile(lat, 90)),
                    f"{o.premature}/{o.paused_turns}",
                    o.split,
                    fmt(o.wer),
                    fmt(o.max_gap_ms, 0),
                    fmt(o.cpu_per_call(sc.calls), 1),
                    fmt(o.rss_mb, 0),
                ]
            )
    print_table(
        "phone calls over loopback: voice-to-voice = caller's last speech -> first reply speech", cols, rows
    )
    for bot in bots:
        if bot.name in idle:
            print(f"idle call CPU, {bot.name}: {idle[bot.name]:.2f} % of a core")

    single = next((s for s in scs if s.key == "single"), None)
    ref, source = a.reference, "given by --reference"
    if "pipecat" in results and single is not None:
        ref, source = percentile(results["pipecat"][single.label].latencies, 50), "measured in this run"
    targets = target_rows(scs, results, idle, ref)
    print_table(
        f"targets: the project, against Pipecat's one-call median ({fmt(ref)} s, {source})",
        ["target", "project", "x ref", "limit", "pipecat", "result"],
        targets,
    )
    if "pipecat" in results:
        ratio_rows = []
        for sc in scs:
            ours, peer = results["project"][sc.label].latencies, results["pipecat"][sc.label].latencies
            ratio_rows.append(
                [sc.label, *(ratio(percentile(ours, q), percentile(peer, q)) for q in (50, 90))]
            )
        print_table("project / pipecat, same scenario", ["scenario", "P50 ratio", "P90 ratio"], ratio_rows)
    stage_rows = []
    for sc in scs:
        med = stage_medians(results["project"][sc.label].reports)
        stage_rows.append([sc.label, *(fmt(med[k]) for k in [*STAGES, "early_asr share"])])
    print_table(
        "where the time went: the gateway's per-turn timings, medians in s",
        ["scenario", *STAGES, "early_asr share"],
        stage_rows,
    )

    summary = {
        bot.name: {sc.label: results[bot.name][sc.label].summary(sc.calls) for sc in scs} for bot in bots
    }
    save_json(
        "call_latency",
        {
            "config": vars(a),
            "columns": cols,
            "rows": rows,
            "reference_s": ref,
            "targets": targets,
            "idle_cpu_pct_per_call": idle,
            "stages": {sc.label: stage_medians(results["project"][sc.label].reports) for sc in scs},
            "results": summary,
        },
    )
    plot(bots, scs, results, ref)


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def target_rows(scs: list[Scenario], results: dict, idle: dict[str, float], ref: float | None) -> list[list]:
    by_key = {s.key: s for s in scs}
    rows: list[list] = []

    def latency(key: str, q: float, limit_x: float, what: str) -> None:
        if key not in by_key:
            return
        label = by_key[key].label
        name = f"{label} {what}"
        ours = percentile(results["project"][label].latencies, q)
        peer = percentile(results["pipecat"][label].latencies, q) if "pipecat" in results else None
        limit = None if ref is None else limit_x * ref
        ok = "-" if ours is None or limit is None else ("pass" if ours <= limit else "fail")
        if missing := results["project"][label].unanswered:  # a percentile without them flatters
            ok = f"fail ({missing} unanswered)"
        rows.append([name, fmt(ours), ratio(ours, ref), f"{limit_x}x = {fmt(limit)}", fmt(peer), ok])

    latency("single", 50, 0.6, "P50 <= 0.6x")
    latency("single", 90, 1.0, "P90 <= 1.0x")
    latency("staggered", 90, 1.0, "P90 <= 1.0x")
    latency("burst", 90, 2.0, "P90 <= 2.0x")

    def count(bot: str) -> tuple[int, int]:
        outs = results[bot].values()
        return sum(o.premature for o in outs), sum(o.paused_turns for o in outs)

    early, paused = count("project")
    peer_early = "{}/{}".format(*count("pipecat")) if "pipecat" in results else "-"
    verdict = "fail" if early else ("pass" if paused >= 30 else f"too few ({paused} < 30)")
    rows.append(
        ["0 premature replies, >= 30 paused turns", f"{early}/{paused}", "-", "0", peer_early, verdict]
    )

    multi = [s.label for s in scs if s.key in ("staggered", "burst")]
    if multi:

        def gap(bot: str) -> float | None:
            gaps = [results[bot][label].max_gap_ms for label in multi]
            gaps = [g for g in gaps if g is not None]
            return max(gaps) if gaps else None

        ours = gap("project")
        ok = "-" if ours is None else ("pass" if ours <= 60 else "fail")
        peer = fmt(gap("pipecat"), 0) if "pipecat" in results else "-"
        rows.append(["no reply gap > 60 ms with many calls", fmt(ours, 0), "-", "60 ms", peer, ok])
    if "project" in idle:
        ok = "pass" if idle["project"] <= 1.0 else "fail"
        rows.append(
            ["idle call <= 1 % of a core", fmt(idle["project"]), "-", "1 %", fmt(idle.get("pipecat")), ok]
        )
    return rows


def plot(bots: list[Bot], scs: list[Scenario], results: dict, ref: float | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colours = {"project": "#3b7dd8", "pipecat": "#e07b39"}
    fig, ax = plt.subplots(figsize=(max(7, 2.6 * len(scs)), 4.5))
    width = 0.8 / len(bots)
    for j, bot in enumerate(bots):
        data = [results[bot.name][sc.label].latencies or [np.nan] for sc in scs]
        pos = [i + (j - (len(bots) - 1) / 2) * width for i in range(len(scs))]
        box = ax.boxplot(
            data,
            positions=pos,
            widths=width * 0.9,
            whis=(10, 90),
            patch_artist=True,
            medianprops={"color": "black"},
        )
        for patch in box["boxes"]:
            patch.set_facecolor(colours.get(bot.name, "#999999"))
    ax.set_xticks(range(len(scs)), [sc.label for sc in scs])
    handles = [Patch(color=colours.get(b.name, "#999999"), label=b.name) for b in bots]
    if ref is not None:
        ax.axhline(ref, ls="--", c="grey")
        handles.append(Patch(color="grey", label=f"Pipecat 1-call median {ref:.2f} s"))
    ax.set_ylabel("voice-to-voice (s), whiskers P10-P90")
    ax.legend(handles=handles)
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / "call_latency.png", dpi=120)
    plt.close(fig)
    print(f"saved {RESULTS / 'call_latency.png'}")


if __name__ == "__main__":
    main()
