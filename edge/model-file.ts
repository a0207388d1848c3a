// The model this Worker serves, bundled as a Data module (wrangler.toml's [[rules]] for *.bin).
// To serve another model, point this one line at its file.
//
// (It is not a wrangler.toml [alias]: wrangler resolves an alias before applying its module rules,
// so an aliased .bin fails to bundle ("No loader is configured for .bin files"), and the vitest
// pool ignores [alias] altogether.)
export { default } from "../models/cifar10.bin";
