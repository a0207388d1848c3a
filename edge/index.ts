// The deployed Worker: the app around the bundled model file (chosen in model-file.ts).
import { createApp } from "./app.ts";
import modelFile from "./model-file.ts";

export default createApp({ modelBytes: modelFile });
