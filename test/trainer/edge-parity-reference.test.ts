// Keeps the trainer-vs-Worker parity honest from the Node side:
// - the recorded trainer answers (edge-parity-reference.json, which the workerd test compares the
//   Worker with) must equal what the trainer computes now from the fixture bytes, so they cannot go stale;
// - the shared EXIF orientation code and image header reader (what the Worker uses) agree with sharp.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { applyOrientation } from "../../shared/exif-orientation.ts";
import { readImageHeader } from "../../shared/image-header.ts";
import { predictFiles } from "../../trainer/commands/predict.ts";
import { decodeImage } from "../../trainer/dataset/decode.ts";
import { EDGE_FIXTURES, parityModelBytes } from "../fixtures/edge-parity.ts";
import { computeEdgeParityReference, EDGE_FIXTURE_DIR } from "../fixtures/edge-parity-node.ts";
import reference from "../fixtures/edge-parity-reference.json";
import { withExifOrientation } from "../fixtures/exif.ts";

describe("edge parity reference", () => {
  it("is what the trainer's decode + shared forward give now (else run make-edge-parity-reference.ts)", async () => {
    expect(await computeEdgeParityReference()).toEqual(reference);
  });

  it("has exactly the probabilities `edge-cnn predict` gives for the same files", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-parity-"));
    try {
      const modelPath = path.join(dir, "parity.bin");
      writeFileSync(modelPath, parityModelBytes());
      const files = EDGE_FIXTURES.map((f) => path.join(EDGE_FIXTURE_DIR, f.file));
      const predicted = await predictFiles(modelPath, files, 10);
      predicted.forEach((p, i) => {
        expect(p.error, p.file).toBeUndefined();
        const probabilities = new Array<number>(10);
        for (const q of p.predictions!) probabilities[q.index] = q.score;
        expect(probabilities, p.file).toEqual(reference.results[i].probabilities);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("image headers and EXIF orientation, against sharp", () => {
  it("readImageHeader gives sharp's format, size and orientation for every fixture", async () => {
    for (const { file } of EDGE_FIXTURES) {
      const bytes = readFileSync(path.join(EDGE_FIXTURE_DIR, file));
      const meta = await sharp(bytes).metadata();
      const header = readImageHeader(bytes)!;
      expect({ format: header.format.toLowerCase(), width: header.width, height: header.height, orientation: header.orientation }, file)
        .toEqual({ format: meta.format, width: meta.width, height: meta.height, orientation: meta.orientation ?? 1 });
    }
  });

  // A non-square photo stored with each orientation tag (both TIFF byte orders): decoding without
  // orientation and then applyOrientation must give exactly the trainer's autoOriented pixels.
  for (const littleEndian of [false, true]) {
    for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8] as const) {
      it(`orientation ${orientation} (${littleEndian ? "II" : "MM"} EXIF) matches sharp's autoOrient`, async () => {
        const raw = await sharp(path.join(EDGE_FIXTURE_DIR, "cat-200x300-444.jpg")).resize(30, 20).jpeg({ quality: 95 }).toBuffer();
        const tagged = withExifOrientation(raw, orientation, littleEndian);
        expect(readImageHeader(tagged)!.orientation).toBe(orientation);
        const stored = await sharp(tagged, { autoOrient: false }).raw().toBuffer({ resolveWithObject: true });
        const upright = applyOrientation({ width: stored.info.width, height: stored.info.height, channels: 3, data: stored.data }, orientation);
        const trainer = await decodeImage(tagged, "tagged.jpg");
        expect({ width: upright.width, height: upright.height }).toEqual({ width: trainer.width, height: trainer.height });
        expect(Buffer.from(upright.data).equals(Buffer.from(trainer.data))).toBe(true);
      });
    }
  }

  it("PNG eXIf and WebP EXIF orientation are read as sharp reads them (and the trainer rotates them)", async () => {
    const img = sharp(path.join(EDGE_FIXTURE_DIR, "dog-41x33.jpg"));
    for (const format of ["png", "webp"] as const) {
      const bytes = await img.clone().toFormat(format).withMetadata({ orientation: 6 }).toBuffer();
      expect((await sharp(bytes).metadata()).orientation, format).toBe(6);
      expect(readImageHeader(bytes)!.orientation, format).toBe(6);
      const trainer = await decodeImage(bytes, `tagged.${format}`);
      expect([trainer.width, trainer.height], format).toEqual([33, 41]);
    }
  });
});
