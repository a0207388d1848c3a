// The shipped Worker (`npm start`, `npm run deploy`): the app around the bundled default model
// (edge/model-file.ts), plus whatever is published to the MODELS R2 bucket when it is bound.
import { createApp } from "./app.ts";
import modelFile, { MODEL_NAME } from "./model-file.ts";

export default createApp({ models: [{ name: MODEL_NAME, bytes: modelFile }] });
