#!/usr/bin/python3
"""bench/out/results.json (+ bench/out/native.json) -> bench/chart.png and the generated part of
BENCHMARKS.md (between the BEGIN/END GENERATED markers; the rest of the file is kept).

    /usr/bin/python3 bench/tools/report.py [RESULTS_JSON] [NATIVE_JSON]
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
BEGIN = "<!-- BEGIN GENERATED (bench/tools/report.py) -->"
END = "<!-- END GENERATED -->"


def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v, nd=1, unit=""):
    if v is None:
        return "–"
    return f"{v:.{nd}f}{unit}"


def mb(b):
    return "–" if b is None else f"{b / 1e6:.2f} MB"


def mib(b):
    return "–" if b is None else f"{b / 2**20:.0f} MiB"


def get(d, *ks):
    for k in ks:
        if d is None:
            return None
        d = d.get(k) if isinstance(d, dict) else None
    return d


def merge_interleaved(res):
    """Latency and batch throughput come from the interleaved run (all engines in one page,
    alternating runs) when there is one; the one-browser-per-scenario numbers are kept as
    e['separate'] and shown in their own table."""
    il = res.get("interleaved") or {}
    for c in il.get("configs") or []:
        e = next((x for x in res["engines"] if x["id"] == c["engine"]), None)
        if e is None or e.get("error"):
            continue
        t = str(c["threads"])
        sep = e.setdefault("separate", {"latency": {}, "batch": {}})
        if t in e.get("latency", {}):
            sep["latency"][t] = e["latency"][t]["median"]
        if t in e.get("batch", {}):
            sep["batch"][t] = e["batch"][t]["cellsPerS"]
        lt = e.setdefault("latency", {}).setdefault(t, {})
        lt.update(
            {
                "median": c["median"],
                "p10": c["p10"],
                "p90": c["p90"],
                "runs": c["runs"],
                "interleaved": True,
            }
        )
        bt = e.setdefault("batch", {}).setdefault(t, {})
        bt.update(
            {"cellsPerS": c["cellsPerS"], "medianMs": c["batchMedianMs"], "interleaved": True}
        )
        chk = e.setdefault("checks", [])
        for what, k in (
            ("interleaved batch-1", c["check"]["batch1"]),
            ("interleaved batch", c["check"]["batch"]),
        ):
            chk.append(dict(k, what=f"{what}, {t} thread(s)", ok=c["check"]["ok"]))
        if not c["check"]["ok"]:
            e["checksOk"] = False
    for f in il.get("failed") or []:
        eid = f["id"].split("@")[0]
        e = next((x for x in res["engines"] if x["id"] == eid), None)
        if e is not None and not e.get("error"):
            e["error"] = f["error"]


def chart(res, native, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eng = [e for e in res["engines"] if not e.get("error")]
    names = [e["label"] for e in eng]
    fig, axes = plt.subplots(1, 4 if native else 3, figsize=(19 if native else 15, 4.6))
    # 1: batch-1 latency, 1 and 2 threads
    ax = axes[0]
    w = 0.38
    for j, t in enumerate(["1", "2"]):
        vals = [get(e, "latency", t, "median") or 0 for e in eng]
        bars = ax.bar(
            [i + (j - 0.5) * w for i in range(len(eng))],
            vals,
            w,
            label=f"{t} thread{'s' if t == '2' else ''}",
        )
        for b, v in zip(bars, vals):
            if v:
                ax.text(
                    b.get_x() + b.get_width() / 2,
                    v,
                    f"{v:.1f}",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(eng)))
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("ms (median)")
    ax.set_title("batch-1 latency (lower is better)")
    ax.legend(fontsize=8)
    # 2: throughput
    ax = axes[1]
    series = [
        ("1 thread, batch", lambda e: get(e, "batch", "1", "cellsPerS")),
        ("2 threads, batch", lambda e: get(e, "batch", "2", "cellsPerS")),
        ("2 Workers x 1 thread", lambda e: get(e, "pool", "cellsPerS")),
    ]
    w = 0.27
    for j, (lab, f) in enumerate(series):
        vals = [f(e) or 0 for e in eng]
        bars = ax.bar([i + (j - 1) * w for i in range(len(eng))], vals, w, label=lab)
        for b, v in zip(bars, vals):
            if v:
                ax.text(
                    b.get_x() + b.get_width() / 2,
                    v,
                    f"{v:.0f}",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(eng)))
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(f"cells/s (batch of {res['reference']['batch']})")
    ax.set_title("throughput (higher is better)")
    ax.legend(fontsize=8)
    # 3: cold start + bytes
    ax = axes[2]
    w = 0.38
    first = [get(e, "cold", "firstVisitMs") or 0 for e in eng]
    rep = [get(e, "cold", "repeatMedianMs") or 0 for e in eng]
    b1 = ax.bar([i - w / 2 for i in range(len(eng))], first, w, label="first visit (empty cache)")
    b2 = ax.bar([i + w / 2 for i in range(len(eng))], rep, w, label="repeat visit (cached)")
    for bars, vals in ((b1, first), (b2, rep)):
        for b, v in zip(bars, vals):
            if v:
                ax.text(
                    b.get_x() + b.get_width() / 2,
                    v,
                    f"{v:.0f}",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(eng)))
    ax.set_xticklabels(
        [
            f"{n}\n{(get(e, 'cold', 'bytes', 'gzip') or 0) / 1e6:.1f} MB gz"
            for n, e in zip(names, eng)
        ],
        rotation=20,
        ha="right",
        fontsize=8,
    )
    ax.set_ylabel("ms from navigation to first result")
    ax.set_title("cold start (lower is better)")
    ax.legend(fontsize=8)
    if native:
        ax = axes[3]
        L = native["layers"]
        x = range(len(L))
        ax.plot(
            x,
            [l["xnnpack_f32_gflops"] for l in L],
            "o-",
            label="XNNPACK f32 (native, its best ISA)",
        )
        ax.plot(x, [l["ours_f32_gflops"] for l in L], "s-", label="ours f32 (native, 128-bit)")
        if any(l.get("ours_qs8_gops") for l in L):
            ax.plot(x, [l["xnnpack_qc8_gops"] for l in L], "^--", label="XNNPACK qc8 (GOP/s)")
            ax.plot(x, [l["ours_qs8_gops"] for l in L], "v--", label="ours qs8 (GOP/s)")
        if all("wasm_tfjs_gflops" in l for l in L):
            ax.plot(
                x,
                [l["wasm_tfjs_gflops"] for l in L],
                "o:",
                color="tab:purple",
                label="XNNPACK f32, wasm SIMD128 (tfjs, Node)",
            )
            ax.plot(
                x,
                [l["wasm_ours_f32_gflops"] for l in L],
                "s:",
                color="tab:brown",
                label="ours f32, wasm SIMD128 (Node)",
            )
        ax.set_xticks(list(x))
        ax.set_xticklabels(
            [l["name"].replace("layer", "L").replace(".downsample.0", ".ds") for l in L],
            rotation=70,
            fontsize=6,
        )
        ax.set_ylabel("GFLOP/s, 1 thread")
        ax.set_title(f"conv layers at S={native['S']}, 1 thread")
        ax.legend(fontsize=7)
    m = res["machine"]
    fig.suptitle(
        f"ResNet18 S={res['reference']['S']} · {m['cpu']} ({m['cores']} cores) · "
        f"Chromium {res['versions'].get('chromium')} · {res['date'][:16]} UTC · "
        f"load {m['loadBefore'][0]:.1f}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def lat(l):
    if not l or l.get("median") is None:
        return "–"
    if l.get("p10") is None:
        return f"{l['median']:.2f} ms"
    return f"{l['median']:.2f} ms ({l['p10']:.1f}–{l['p90']:.1f})"


def ratio(a, b):
    return None if not a or not b else a / b


def table(res, native):
    S = res["reference"]["S"]
    B = res["reference"]["batch"]
    gflop = res["reference"]["flops"] / 1e9
    peak = res.get("peak") or {}
    eng = res["engines"]
    lines = []
    m = res["machine"]
    v = res["versions"]
    lines.append(
        f"Measured {res['date'][:16].replace('T', ' ')} UTC on **{m['cpu']}**, {m['cores']} cores, "
        f"{m['memGiB']} GiB; load average before/after the run "
        f"{m['loadBefore'][0]:.2f} / {get(m, 'loadAfter') and m['loadAfter'][0] or 0:.2f} "
        f"(other jobs were running on the machine{': numbers are noisy' if m['loadBefore'][0] > 1.5 else ''})."
    )
    lines.append("")
    lines.append(
        f"Versions: Chromium {v.get('chromium')} (headless, Debian), onnxruntime-web {v.get('onnxruntime-web')}, "
        f"@tensorflow/tfjs-core + tfjs-backend-wasm {v.get('@tensorflow/tfjs-backend-wasm')}, "
        f"{(v.get('emscripten') or '').replace('emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) ', 'emscripten ')}, "
        f"Node {v.get('node')}, our engine: {v.get('ours', 'not built')}, playwright-core {v.get('playwright-core')}, PyTorch {res['reference'].get('torch')} (reference logits)."
    )
    lines.append("")
    wsrc = res["reference"].get("weights") or "?"
    kind = (
        "the shipped trained model"
        if wsrc.rstrip("/").endswith("model/malaria_resnet18.safetensors") and "/out/" not in wsrc
        else "a random dev model (same architecture, same timing)"
    )
    lines.append(
        f"Weights: `{os.path.relpath(wsrc, ROOT) if wsrc.startswith(ROOT) else wsrc}`, {kind}."
    )
    lines.append("")
    lines.append(
        f"ResNet18, input {S}x{S}, {gflop:.3f} GFLOP per image (2 flops per multiply-add). "
        f"Settings: {res['settings']['runs']} timed batch-1 runs after {res['settings']['warmup']} warm-up runs (interleaved run; "
        f"{res['settings'].get('separateRuns', res['settings']['runs'])} in the one-browser-per-scenario runs), "
        f"batch of {B} cells ({res['settings']['reps']} timed repetitions after 1 warm-up; "
        f"the 2-Worker pool {res['settings'].get('poolReps', res['settings']['reps'])} after "
        f"{res['settings'].get('poolWarmup', 1)}), "
        f"{res['settings']['coldRepeats']} repeat visits."
        + (" **QUICK run (fewer repetitions).**" if res["settings"].get("quick") else "")
    )
    lines.append("")
    il = res.get("interleaved") or {}
    if il.get("configs"):
        lines.append(
            "Batch-1 latency and batch throughput below come from the **interleaved run**: every engine "
            "configuration in its own Worker of one page, loaded once, then rounds in which each runs once "
            "in turn (so load drifting on the shared machine hits all alike). Latency cells: median "
            "(p10–p90) in ms. Pool, cold start, bytes and memory: one fresh browser per scenario."
        )
        lines.append("")
    lines.append(
        "| engine | weights | batch-1 median, 1 thread | batch-1 median, 2 threads | GFLOP/s (1 thread) | "
        "throughput 1 thread | 2 threads | 2 Workers | cold start, first visit | repeat visit (cached): no automation / Playwright attached | "
        "bytes before first result (raw / gzip) | wasm memory | renderer peak RSS | measureUserAgentSpecificMemory* | logits vs PyTorch |"
    )
    lines.append("|" + "---|" * 15)
    for e in eng:
        if e.get("error"):
            lines.append(
                f"| {e['label']} | {e['dtype']} | failed: {e['error'][:160].replace('|', '/')} |"
                + " |" * 12
            )
            continue
        l1, l2 = get(e, "latency", "1"), get(e, "latency", "2")
        g = gflop / (l1["median"] / 1e3) if l1 else None
        chk = e.get("checks") or []
        worst = max((c["maxRelDiff"] for c in chk), default=None)
        agree = min((c["labelAgreement"] for c in chk), default=None)
        lines.append(
            f"| {e['label']} | {e['dtype']} | {lat(l1)} | "
            f"{lat(l2) if l2 else 'n/a (single-threaded)'} | {fmt(g, 1)} | "
            f"{fmt(get(e, 'batch', '1', 'cellsPerS'), 1)} cells/s | "
            f"{fmt(get(e, 'batch', '2', 'cellsPerS'), 1, ' cells/s') if get(e, 'batch', '2') else 'n/a'} | "
            f"{fmt(get(e, 'pool', 'cellsPerS'), 1)} cells/s | "
            f"{fmt(get(e, 'cold', 'firstVisitMs'), 0, ' ms')} | "
            f"{fmt(get(e, 'cold', 'unattended', 'repeatMedianMs'), 0, ' ms')} / {fmt(get(e, 'cold', 'repeatMedianMs'), 0, ' ms')} | "
            f"{mb(get(e, 'cold', 'bytes', 'raw'))} / {mb(get(e, 'cold', 'bytes', 'gzip'))} | "
            f"{mib(get(l1, 'wasmBytes'))} | {fmt((get(l1, 'rendererPeakKiB') or 0) / 1024, 0, ' MiB')} | "
            f"{mib(get(l1, 'uaMemoryBytes'))} | "
            f"max rel. diff {worst:.1e}, labels {agree * 100:.0f}% {'OK' if e.get('checksOk') else '**FAIL**'} |"
        )
    lines.append("")
    lines.append(
        "Memory columns are from the 1-thread batch-1 scenario. *`performance.measureUserAgentSpecificMemory()` "
        "(the page is cross-origin isolated) counts the shared wasm memory that ORT's and tfjs' threaded "
        "builds create in JS, but for our module (whose memory the module itself defines) it reports only a "
        "few MB although `memory.buffer.byteLength` is tens of MB: it evidently does not count that memory, "
        "so compare engines on wasm memory and renderer peak RSS."
    )
    lines.append("")
    seps = [e for e in eng if e.get("separate")]
    if seps:
        lines.append(
            "The same, measured one scenario per fresh browser (sequentially, so more exposed to load drift): "
            + "; ".join(
                f"{e['label']}: batch-1 "
                + ", ".join(
                    f"{v:.1f} ms @{t}t" for t, v in sorted(e["separate"]["latency"].items())
                )
                + (
                    ""
                    if not e["separate"]["batch"]
                    else ", batch "
                    + ", ".join(
                        f"{v:.1f} cells/s @{t}t" for t, v in sorted(e["separate"]["batch"].items())
                    )
                )
                for e in seps
            )
            + "."
        )
        lines.append("")
    # peak
    if peak and not peak.get("error"):
        lines.append(
            f"SIMD128 peak (bench/simd/peak.c in the same Chromium): f32x4 mul+add "
            f"{peak['f32']['1']:.1f} GFLOP/s in one Worker, {peak['f32']['2']:.1f} in two; "
            f"i32x4.dot_i16x8_s {peak['dot']['1']:.1f} GOP/s in one Worker, {peak['dot']['2']:.1f} in two."
        )
        lines.append("")
    # targets
    peers = [e for e in eng if e["id"] in ("ort", "tfjs") and not e.get("error")]
    ours = {e["id"]: e for e in eng if e["id"].startswith("ours") and not e.get("error")}
    if peers:
        best_lat = min(get(e, "latency", "1", "median") or 1e9 for e in peers)
        best_lat_any = min(
            min(get(e, "latency", t, "median") or 1e9 for t in ("1", "2")) for e in peers
        )
        best_tp2 = max(
            max(get(e, "batch", "2", "cellsPerS") or 0, get(e, "pool", "cellsPerS") or 0)
            for e in peers
        )
        best_tp2_thr = max(get(e, "batch", "2", "cellsPerS") or 0 for e in peers)
        best_cold = min(get(e, "cold", "repeatMedianMs") or 1e9 for e in peers)
        best_cold_un = min(get(e, "cold", "unattended", "repeatMedianMs") or 1e9 for e in peers)
        best_cold_un = None if best_cold_un >= 1e9 else best_cold_un

        def same_page_tp2(e):  # the peers' 2-thread batch timed in the pool's own rounds
            p2 = get(e, "pool", "peers2t") or {}
            best = max((v.get("cellsPerS") or 0 for v in p2.values()), default=0)
            return ratio(get(e, "pool", "cellsPerS"), best) if best else None

        best_cold_first = min(get(e, "cold", "firstVisitMs") or 1e9 for e in peers)
        best_bytes = min(get(e, "cold", "bytes", "gzip") or 1e18 for e in peers)
        lines.append(
            "Targets (ratio to the faster peer in the same run; ours at 1 thread / 2 Workers):"
        )
        lines.append("")
        lines.append("| target | goal | " + " | ".join(sorted(ours)) + " |")
        lines.append("|---|---|" + "---|" * len(ours))
        rows = []
        rows.append(
            (
                "batch-1 latency vs best peer 1-thread (int8 / f32)",
                "<= 0.5 (int8), <= 0.8 (f32)",
                lambda e: ratio(get(e, "latency", "1", "median"), best_lat),
            )
        )
        rows.append(
            (
                "batch-1 latency vs best peer at any thread count",
                "(info)",
                lambda e: ratio(get(e, "latency", "1", "median"), best_lat_any),
            )
        )
        rows.append(
            (
                "2-Worker throughput vs peers' best 2-thread throughput, same page, alternating rounds",
                ">= 2",
                same_page_tp2,
            )
        )
        rows.append(
            (
                "2-Worker throughput vs peers' best 2-thread throughput (their interleaved run)",
                "(info)",
                lambda e: ratio(get(e, "pool", "cellsPerS"), best_tp2_thr),
            )
        )
        rows.append(
            (
                "2-Worker throughput vs peers' best of 2 threads / 2 Workers",
                "(info)",
                lambda e: ratio(get(e, "pool", "cellsPerS"), best_tp2),
            )
        )
        rows.append(
            (
                "cold start, repeat visit (cached), no automation attached",
                "<= 0.25",
                lambda e: ratio(get(e, "cold", "unattended", "repeatMedianMs"), best_cold_un),
            )
        )
        rows.append(
            (
                "cold start, repeat visit (cached), Playwright attached",
                "(info)",
                lambda e: ratio(get(e, "cold", "repeatMedianMs"), best_cold),
            )
        )
        rows.append(
            (
                "cold start, first visit (empty cache, localhost)",
                "(info)",
                lambda e: ratio(get(e, "cold", "firstVisitMs"), best_cold_first),
            )
        )

        def est(e, mbit=50):
            g, f = get(e, "cold", "bytes", "gzip"), get(e, "cold", "firstVisitMs")
            return None if g is None or f is None else f + g * 8 / (mbit * 1e6) * 1e3

        best_est = min(est(e) or 1e18 for e in peers)
        rows.append(
            (
                "first visit over 50 Mbit/s, estimated (localhost time + gzip bytes / 6.25 MB/s)",
                "(info)",
                lambda e: ratio(est(e), best_est),
            )
        )
        rows.append(
            (
                "bytes before first result (gzip)",
                "<= 0.3",
                lambda e: ratio(get(e, "cold", "bytes", "gzip"), best_bytes),
            )
        )
        goals = {
            "batch-1 latency vs best peer 1-thread (int8 / f32)": lambda v, e: v
            <= (0.5 if e["dtype"] == "int8" else 0.8),
            "2-Worker throughput vs peers' best 2-thread throughput, same page, alternating rounds": lambda v, e: v
            >= 2,
            "cold start, repeat visit (cached), no automation attached": lambda v, e: v <= 0.25,
            "bytes before first result (gzip)": lambda v, e: v <= 0.3,
        }

        def cell(name, f, e, nd=2, unit=""):
            v = f(e)
            if v is None:
                return "–"
            g = goals.get(name)
            mark = "" if g is None else (" ✓" if g(v, e) else " ✗")
            return fmt(v, nd, unit) + mark

        for name, goal, f in rows:
            lines.append(
                f"| {name} | {goal} | "
                + " | ".join(cell(name, f, ours[k]) for k in sorted(ours))
                + " |"
            )
        if peak and not peak.get("error"):
            # The peak is measured by one Worker alone in its own browser; the like-for-like
            # batch-1 latency is the one-browser-per-scenario run (one Worker alone, as many runs).
            # The interleaved median (seven engines' Workers alive in one page, the peers' thread
            # pools among them) is shown too.
            def eff_of(med, e):
                if not med:
                    return None
                p = peak["dot"]["1"] if e["dtype"] == "int8" else peak["f32"]["1"]
                return gflop / (med / 1e3) / p * 100

            eff_sep = lambda e: eff_of(
                get(e, "separate", "latency", "1") or get(e, "latency", "1", "median"), e
            )
            eff_il = lambda e: eff_of(get(e, "latency", "1", "median"), e)
            goals["peak"] = lambda v, e: v >= 60
            lines.append(
                "| share of the 1-Worker SIMD128 peak over the network (int8: dot peak), batch-1 "
                "measured as the peak is: one Worker alone in a fresh browser | >= 60 % | "
                + " | ".join(cell("peak", eff_sep, ours[k], 0, " %") for k in sorted(ours))
                + " |"
            )
            lines.append(
                "|   the same from the interleaved batch-1 median (all engines' Workers in one page) | (info) | "
                + " | ".join(cell("peak-il", eff_il, ours[k], 0, " %") for k in sorted(ours))
                + " |"
            )
            for e in peers:
                med = get(e, "latency", "1", "median")
                lines.append(
                    f"|   (peer) {e['label']} share of the f32 peak | | "
                    + fmt(gflop / (med / 1e3) / peak["f32"]["1"] * 100, 0, " %")
                    + " |" * max(0, len(ours) - 1)
                    + " |"
                )
        lines.append("")
    # per-asset bytes
    lines.append(
        "<details><summary>Assets downloaded before the first result (first visit, empty cache)</summary>"
    )
    lines.append("")
    lines.append("| engine | asset | raw | gzip -9 |")
    lines.append("|---|---|---|---|")
    for e in eng:
        for f in get(e, "cold", "bytes", "files") or []:
            lines.append(f"| {e['label']} | `{f['path']}` | {f['raw']:,} | {f['gzip']:,} |")
    lines.append("")
    lines.append("</details>")
    lines.append("")
    # cross checks
    xs = [e for e in eng if e.get("vsOurs")]
    if xs:
        lines.append(
            "Peers vs ours (f32) on the batch-1 input: "
            + "; ".join(f"{e['label']}: max abs diff {e['vsOurs']['maxAbsDiff']:.1e}" for e in xs)
            + "."
        )
        lines.append("")
    if native:
        t = native["total"]
        lines.append(
            f"Native conv layers (bench/native/xnnpack_layers.cpp, S={native['S']}, batch 1, 1 thread, "
            f"best of repeated runs). XNNPACK: Debian libxnnpack-dev, {native['xnnpack_isa']}; ours: "
            f"{native['ours_isa']}."
        )
        lines.append("")
        wt = native.get("wasm_total")
        if wt:
            lines.append(
                f"Wasm SIMD128, same shapes, 1 thread, under Node {res['versions'].get('node')} (V8, as in Chromium): "
                f"XNNPACK's wasm kernels through tfjs-backend-wasm {wt.get('tfjs')} (`bench/tools/tfjs_layers.mjs`: "
                f"`tf.fused.conv2d` + `dataSync`, so a few tens of microseconds of tfjs overhead per layer are included) "
                f"vs our ops compiled with emcc -msimd128 (the same `xnnpack_layers.cpp`): **the like-for-like kernel "
                f"comparison**."
            )
            lines.append("")
        lines.append(
            "| layer | input (HxWxC) | out C | k/stride | MFLOP | native XNNPACK f32 GFLOP/s | native ours f32 | "
            "native XNNPACK qc8 GOP/s | native ours qs8 | wasm XNNPACK (tfjs) f32 | wasm ours f32 | wasm ours/XNNPACK | wasm ours qs8 GOP/s |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for l in native["layers"]:
            wx, wo = l.get("wasm_tfjs_gflops"), l.get("wasm_ours_f32_gflops")
            lines.append(
                f"| {l['name']} | {'x'.join(map(str, l['in']))} | {l['out_c']} | {l['k']}/{l['stride']} | "
                f"{l['mflop']:.1f} | {l['xnnpack_f32_gflops']:.1f} | {l['ours_f32_gflops']:.1f} | "
                f"{l['xnnpack_qc8_gops']:.1f} | {l['ours_qs8_gops']:.1f} | {fmt(wx)} | {fmt(wo)} | "
                f"{fmt(ratio(wo, wx), 2)} | {fmt(l.get('wasm_ours_qs8_gops'))} |"
            )
        lines.append(
            f"| **all convs** | | | | {t['mflop']:.1f} | {t['xnnpack_f32_gflops']:.1f} ({t['xnnpack_f32_ms']:.2f} ms) | "
            f"{t['ours_f32_gflops']:.1f} ({t['ours_f32_ms']:.2f} ms) | {t['xnnpack_qc8_gops']:.1f} "
            f"({t['xnnpack_qc8_ms']:.2f} ms) | {t['ours_qs8_gops']:.1f} ({t['ours_qs8_ms']:.2f} ms) | "
            + (
                f"{wt['tfjs_gflops']:.1f} ({wt['tfjs_ms']:.2f} ms) | {wt['ours_f32_gflops']:.1f} ({wt['ours_f32_ms']:.2f} ms) | "
                f"{wt['ours_f32_gflops'] / wt['tfjs_gflops']:.2f} | {wt['ours_qs8_gops']:.1f} ({wt['ours_qs8_ms']:.2f} ms) |"
                if wt
                else "– | – | – | – |"
            )
        )
        lines.append("")
    return "\n".join(lines)


def main():
    res = load(sys.argv[1] if len(sys.argv) > 1 else os.path.join(BENCH, "out", "results.json"))
    native = load(sys.argv[2] if len(sys.argv) > 2 else os.path.join(BENCH, "out", "native.json"))
    if not res:
        raise SystemExit("no results.json: run bench/run.sh first")
    ow = load(os.path.join(BENCH, "out", "ours_layers_wasm.json"))
    tw = load(os.path.join(BENCH, "out", "tfjs_layers.json"))
    if native and ow and tw:
        byname = {l["name"]: l for l in ow["layers"]}
        tbyname = {l["name"]: l for l in tw["layers"]}
        for l in native["layers"]:
            if l["name"] in byname and l["name"] in tbyname:
                l["wasm_ours_f32_gflops"] = byname[l["name"]]["ours_f32_gflops"]
                l["wasm_ours_qs8_gops"] = byname[l["name"]]["ours_qs8_gops"]
                l["wasm_tfjs_gflops"] = tbyname[l["name"]]["tfjs_xnnpack_gflops"]
        native["wasm_total"] = {
            "ours_f32_ms": ow["total"]["ours_f32_ms"],
            "ours_f32_gflops": ow["total"]["ours_f32_gflops"],
            "ours_qs8_ms": ow["total"]["ours_qs8_ms"],
            "ours_qs8_gops": ow["total"]["ours_qs8_gops"],
            "tfjs_ms": tw["total"]["tfjs_xnnpack_ms"],
            "tfjs_gflops": tw["total"]["tfjs_xnnpack_gflops"],
            "tfjs": tw.get("tfjs"),
        }
    merge_interleaved(res)
    chart(res, native, os.path.join(BENCH, "chart.png"))
    body = table(res, native)
    md = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(md).read() if os.path.exists(md) else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    a = text.index(BEGIN) + len(BEGIN)
    b = text.index(END)
    text = text[:a] + "\n" + body + "\n" + text[b:]
    with open(md, "w") as f:
        f.write(text)
    print(f"wrote {md} and bench/chart.png")


if __name__ == "__main__":
    main()
