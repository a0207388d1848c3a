// The model `npm start` and `npm run deploy` serve, bundled as a Data module (wrangler.toml's
// [[rules]] for *.bin). To serve your own models, do not edit this: run
// `npx edge-cnn serve --model models/NAME.bin` or `npx edge-cnn deploy --model models/NAME.bin`, which
// build the Worker around them from a generated entry module (trainer/worker/), or publish them to R2.
//
// (It is not a wrangler.toml [alias]: wrangler resolves an alias before applying its module rules,
// so an aliased .bin fails to bundle ("No loader is configured for .bin files"), and the vitest
// pool ignores [alias] altogether.)
export { default } from "../models/cifar10.bin";

/** Its name in /v1/models. */
export const MODEL_NAME = "cifar10";
