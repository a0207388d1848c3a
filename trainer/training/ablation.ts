// `train --without A,B`: the recipe minus some of airbench's ingredients, to measure what each is worth
// here (docs/training.md, "What each ingredient is worth"). Each ingredient is one edit of the run's
// config or network, and the run records what it left out as a choice, in its printout and model file.

import type { ArchSpec } from "../../shared/spec.ts";
import { UsageError } from "../cli/args.ts";
import type { TrainConfig } from "./run.ts";

interface Ingredient {
  /** What the run does instead, for the printout. */
  instead: string;
  /** Removes the ingredient; false if the run did not have it (nothing to remove). */
  apply(config: TrainConfig, spec: ArchSpec): boolean;
}

export const INGREDIENTS: Record<string, Ingredient> = {
  whitening: {
    instead: "the first conv is a plain trained conv (PyTorch's default init) instead of fixed patch-whitening filters",
    apply: (_c, spec) => reinit(spec, "whiten"),
  },
  dirac: {
    instead: "convs start from PyTorch's default init, without identity filters",
    apply: (_c, spec) => reinit(spec, "dirac"),
  },
  "bn-lr": {
    instead: "batchnorm biases train at the same learning rate as the rest, not 64x",
    apply: (c) => {
      if (!c.groupLr || c.groupLr.norm === undefined || c.groupLr.norm === 1) return false;
      const { norm: _norm, ...rest } = c.groupLr;
      c.groupLr = rest;
      return true;
    },
  },
  lookahead: {
    instead: "no Lookahead: the final weights are the last step's",
    apply: (c) => { const had = !!c.lookahead; c.lookahead = false; return had; },
  },
  "alt-flip": {
    instead: "each image is flipped at random each epoch, not every other epoch",
    apply: (c) => {
      if (!c.augment.flip || c.augment.flipMode !== "alternate") return false;
      c.augment = { ...c.augment, flipMode: "random" };
      return true;
    },
  },
  translate: {
    instead: "no translate augmentation",
    apply: (c) => { const had = c.augment.pad > 0; c.augment = { ...c.augment, pad: 0 }; return had; },
  },
  "label-smoothing": {
    instead: "no label smoothing",
    apply: (c) => { const had = c.labelSmoothing > 0; c.labelSmoothing = 0; return had; },
  },
};

/** Every conv initialised as `from` becomes a PyTorch-default conv; false if there was none. */
function reinit(spec: ArchSpec, from: "whiten" | "dirac"): boolean {
  let found = false;
  for (const l of spec.layers) if (l.type === "conv" && l.init === from) { l.init = "uniform"; found = true; }
  return found;
}

/** Parses "a,b" into ingredient names; a UsageError names an unknown one and the choices. */
export function parseWithout(list: string): string[] {
  const choices = Object.keys(INGREDIENTS).join(", ");
  const names = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new UsageError(`edge-cnn train: --without needs one or more of: ${choices}`);
  for (const n of names) {
    if (!Object.hasOwn(INGREDIENTS, n)) throw new UsageError(`edge-cnn train: --without: unknown ingredient "${n}"; choose from ${choices}`);
  }
  return names;
}

/**
 * Removes the named ingredients from a run's config and network (in place) and returns one line per
 * ingredient saying what the run does instead. A UsageError if the run never had one of them (say
 * `--without whitening` on seed-cnn): a run that silently measured nothing would mislead.
 */
export function removeIngredients(names: string[], config: TrainConfig, spec: ArchSpec): string[] {
  return names.map((n) => {
    if (!INGREDIENTS[n].apply(config, spec)) throw new UsageError(`edge-cnn train: --without ${n}: this run has no ${n} to leave out (${spec.name}, its recipe and flags)`);
    return `${n}: ${INGREDIENTS[n].instead}`;
  });
}
