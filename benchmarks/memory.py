"""The memory plan of the GPU stack for a card size, as a table: per stage, the weights (bf16 and FP8)
counted from each model built at full size on the meta device from its real config
(configs/models/*.json), the estimated peak at the preset's sizes, the mode the model host will use
(resident, model CPU offload, FP8), the vLLM knobs, and which stages may stay loaded together.

    python -m benchmarks.memory --gpu-gb 80 141 192      # or: reel bench memory --gpu-gb 80
"""

from __future__ import annotations

import argparse

from runtime import memory_plan


def component_lines(plan: memory_plan.Plan) -> list[str]:
    lines = [f"{'stage':<9} {'component':<18} {'class (built on meta; [formula])':<30} {'params':>8} {'bf16 GiB':>9} {'fp8 GiB':>8}"]
    for name, stage in plan.stages.items():
        spec = memory_plan.load_config(name)["components"]
        for c in stage.components:
            how = memory_plan.source(spec[c.name])
            cls = spec[c.name]["class"] + (" (fp32)" if c.fp32 else "") + ("" if how == "meta" else f" [{how}]")
            lines.append(f"{name:<9} {c.name:<18} {cls:<30} {c.params / 1e9:>7.2f}B {c.gib(False):>9.1f} "
                         f"{c.gib(True):>8.1f}")
    return lines


def plan_lines(plan: memory_plan.Plan) -> list[str]:
    lines = [f"card {plan.gpu_gib:g} GiB, {plan.usable_gib:.1f} usable (GiB: weights in the mode chosen, "
             "peak reserved while running = weights + activations + allocator reserve, idle while loaded)",
             f"{'stage':<9} {'weights':>8} {'act':>6} {'reserve':>8} {'peak':>6} {'idle':>6}  mode"]
    for name, s in plan.stages.items():
        mode = s.mode if s.mode == "does not fit" else f"{s.mode}, {'fp8' if s.fp8 else 'bf16'}"
        if s.mode == "offload":
            mode += " (enable_model_cpu_offload)"
        knobs = ""
        if s.vllm:
            knobs = (f"; vLLM gpu_memory_utilization={s.vllm['gpu_memory_utilization']:.2f} "
                     f"max_model_len={s.vllm['max_model_len']} max_num_seqs={s.vllm['max_num_seqs']} "
                     f"limit_mm_per_prompt={s.vllm['limit_mm_per_prompt']}")
        lines.append(f"{name:<9} {s.weights_gib(s.fp8):>8.1f} {s.activations_gib:>6.1f} {s.reserve_gib:>8.1f} "
                     f"{s.peak_gib:>6.1f} {s.resident_gib:>6.1f}  {mode}{knobs}")
        lines.append(f"{'':<49}peak estimate: {s.activations_note}")
        if s.why:
            lines.append(f"{'':<49}not {s.why}")
    together = ", ".join("+".join(p) for p in plan.together) or "none: every heavy model swaps"
    lines.append(f"stay loaded together: {together}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from reel.presets import get_preset

    p = argparse.ArgumentParser(prog="reel bench memory", description=__doc__.splitlines()[0])
    p.add_argument("--gpu-gb", type=float, nargs="+", default=[80.0, 141.0, 192.0],
                   help="card sizes in GiB (default 80 141 192)")
    p.add_argument("--preset", default="default", help="sizes from this preset (default: default)")
    args = p.parse_args(argv)
    preset = get_preset(args.preset)
    memory_plan.use_cache = False  # build every model on the meta device, now
    sizes = dict(size=preset.render_size, frames=preset.frames, fps=preset.fps, master=preset.master_size)
    print(f"memory plan for preset {preset.name}: render {preset.render_size[0]}x{preset.render_size[1]}x"
          f"{preset.frames}, keyframes {preset.master_size[0]}x{preset.master_size[1]}; peaks are estimates "
          "(formulas in runtime/memory_plan.py), weights are counted", flush=True)
    for i, gib in enumerate(args.gpu_gb):
        plan = memory_plan.plan_for(gib, **sizes)
        if i == 0:
            print("\n".join(component_lines(plan)))
        print()
        print("\n".join(plan_lines(plan)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
