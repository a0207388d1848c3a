// Learning-rate schedules, as a pure function of the step, so a resumed run gets exactly the rate
// an uninterrupted one would. `warmup` steps first ramp linearly up to the base rate.
//   none      constant
//   step      x0.1 at 50 % and again at 75 % of the run
//   cosine    half cosine from the base rate down to 0
//   onecycle  (Smith) up from base/25 to base over the first 30 % (or the warm-up), then cosine to ~0
//   triangle  (airbench) linear from 0.2 x base up to base over the first 23 % (or the warm-up), then
//             linear down to 0.07 x base at the end

export type ScheduleKind = "none" | "step" | "cosine" | "onecycle" | "triangle";
export const SCHEDULES: readonly ScheduleKind[] = ["none", "step", "cosine", "onecycle", "triangle"];

export function learningRate(kind: ScheduleKind, base: number, step: number, totalSteps: number, warmup = 0): number {
  if (kind === "triangle") {
    const up = warmup > 0 ? warmup : Math.floor(0.23 * totalSteps);
    if (step < up) { const f = step / up; return base * (0.2 * (1 - f) + f); }
    const f = Math.min(1, (step - up) / Math.max(1, totalSteps - up));
    return base * ((1 - f) + 0.07 * f);
  }
  if (kind === "onecycle") {
    const up = warmup > 0 ? warmup : Math.max(1, Math.round(0.3 * totalSteps));
    if (step < up) return base / 25 + ((base - base / 25) * step) / up;
    const t = Math.min(1, (step - up) / Math.max(1, totalSteps - up));
    return base * 0.5 * (1 + Math.cos(Math.PI * t)) + base / 1e4;
  }
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  const t = Math.min(1, totalSteps > warmup ? (step - warmup) / (totalSteps - warmup) : 1);
  switch (kind) {
    case "none": return base;
    case "step": return base * (t < 0.5 ? 1 : t < 0.75 ? 0.1 : 0.01);
    case "cosine": return base * 0.5 * (1 + Math.cos(Math.PI * t));
  }
}
