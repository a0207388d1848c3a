// Image folders: class sub-folders or Kaggle-style prefixes, every format decoded, bad files skipped and
// reported (never fatal), and the decode cache: a second run decodes nothing, any change invalidates it.

import { mkdir, readdir, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPreprocess, resizeToModel } from "../../../shared/preprocess.ts";
import { example } from "../../../trainer/dataset/dataset.ts";
import { decodeImageFile } from "../../../trainer/dataset/decode.ts";
import { DatasetError } from "../../../trainer/dataset/errors.ts";
import { formatSkipped, loadImageFolder } from "../../../trainer/dataset/image-folder.ts";
import { removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

/** A 40x30 image with a colour gradient (so different files give different examples). */
function gradient(seed: number, channels: 3 | 4 = 3): sharp.Sharp {
  const w = 40, h = 30, b = Buffer.alloc(w * h * channels);
  for (let i = 0; i < w * h; i++) {
    b[i * channels] = (i * seed) % 256;
    b[i * channels + 1] = (i + seed * 40) % 256;
    b[i * channels + 2] = (seed * 50) % 256;
    if (channels === 4) b[i * channels + 3] = i % 2 ? 255 : 0;
  }
  return sharp(b, { raw: { width: w, height: h, channels } });
}

async function put(file: string, data: Buffer | string | Promise<Buffer>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await data);
}

/** bird/ (2), cat/ (4, one in a sub-folder), dog/ (4 good + 4 bad), plus files that must be ignored. */
async function makeFolder(dir: string): Promise<void> {
  await put(path.join(dir, "bird", "grey.png"), gradient(1).toColourspace("b-w").png().toBuffer());
  await put(path.join(dir, "bird", "b1.jpg"), gradient(2).jpeg().toBuffer());
  await put(path.join(dir, "cat", "alpha.png"), gradient(3, 4).png().toBuffer());
  await put(path.join(dir, "cat", "c.webp"), gradient(4).webp().toBuffer());
  await put(path.join(dir, "cat", "more", "anim.gif"), gradient(5).gif().toBuffer());
  await put(path.join(dir, "cat", "c2.JPG"), gradient(6).jpeg().toBuffer());
  await put(path.join(dir, "dog", "d.tiff"), gradient(7).tiff().toBuffer());
  await put(path.join(dir, "dog", "d.avif"), gradient(8).avif().toBuffer());
  await put(path.join(dir, "dog", "cmyk.jpg"), gradient(9).toColourspace("cmyk").jpeg().toBuffer());
  await put(path.join(dir, "dog", "rotated.jpg"), gradient(10).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  // Bad files: skipped with a reason.
  await put(path.join(dir, "dog", "empty.jpg"), "");
  await put(path.join(dir, "dog", "notes.jpg"), "not a photo\n");
  const png = await gradient(11).png().toBuffer();
  await put(path.join(dir, "dog", "cut.png"), png.subarray(0, png.length >> 1));
  await put(path.join(dir, "dog", "readme.txt"), "about dogs");
  await put(path.join(dir, "stray.jpg"), gradient(12).jpeg().toBuffer());
  // Ignored silently: hidden files and folders, and a README beside the class folders.
  await put(path.join(dir, "README.md"), "my photos");
  await put(path.join(dir, "cat", ".DS_Store"), "junk");
  await put(path.join(dir, ".hidden", "x.jpg"), gradient(13).jpeg().toBuffer());
  await put(path.join(dir, ".edge-cnn-cache", "old.bin"), "junk");
}

let root: string;
beforeAll(async () => {
  root = await tempDir("folder");
});

describe("loadImageFolder: one sub-folder per class", () => {
  let dir: string, cacheDir: string;
  beforeAll(async () => {
    dir = path.join(root, "photos");
    cacheDir = path.join(root, "cache-a");
    await makeFolder(dir);
  });

  it("labels by folder name (sorted), decodes every format, skips and reports bad files", async () => {
    const progress: Array<[number, number]> = [];
    const { dataset: ds, skipped, decoded } = await loadImageFolder(dir, { size: [32, 32], preprocess: defaultPreprocess([32, 32]), cacheDir, onProgress: (d, t) => progress.push([d, t]) });
    expect(ds.classes).toEqual(["bird", "cat", "dog"]);
    expect(ds.count).toBe(10);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(ds.sources).toEqual([
      "bird/b1.jpg", "bird/grey.png", "cat/alpha.png", "cat/c.webp", "cat/c2.JPG", "cat/more/anim.gif",
      "dog/cmyk.jpg", "dog/d.avif", "dog/d.tiff", "dog/rotated.jpg",
    ].map((r) => path.join(dir, r)));
    expect(ds.images.length).toBe(10 * 32 * 32 * 3);
    expect(decoded).toBe(13);
    expect(progress.length).toBe(13);
    expect(progress.at(-1)).toEqual([13, 13]);
    const p = (r: string) => path.join(dir, r);
    expect(skipped).toEqual([
      { path: p("stray.jpg"), reason: "not inside a class folder" },
      { path: p("dog/cut.png"), reason: expect.stringMatching(/^truncated or corrupt image data \(/) },
      { path: p("dog/empty.jpg"), reason: "empty file (0 bytes)" },
      { path: p("dog/notes.jpg"), reason: "not an image (unrecognised file content)" },
      { path: p("dog/readme.txt"), reason: "not an image file (extension .txt)" },
    ]);
    const lines = formatSkipped(skipped);
    expect(lines[2]).toBe(`skipped ${p("dog/empty.jpg")}: empty file (0 bytes)`);
    expect(lines.at(-1)).toBe("5 files skipped");
  });

  it("stores exactly what shared resizeToModel makes of the decoded pixels (rotated photo included)", async () => {
    const { dataset: ds } = await loadImageFolder(dir, { cacheDir });
    for (const name of ["dog/rotated.jpg", "cat/alpha.png", "bird/grey.png"]) {
      const i = ds.sources!.indexOf(path.join(dir, name));
      const want = resizeToModel(await decodeImageFile(path.join(dir, name)), defaultPreprocess([32, 32]));
      expect(Buffer.from(example(ds, i)).equals(Buffer.from(want)), name).toBe(true);
    }
  });

  it("makes other sizes", async () => {
    const { dataset: ds } = await loadImageFolder(dir, { size: [8, 16], cacheDir: false });
    expect(ds.size).toEqual([8, 16]);
    expect(ds.images.length).toBe(10 * 8 * 16 * 3);
  });
});

describe("loadImageFolder: the decode cache", () => {
  let dir: string, cacheDir: string;
  beforeAll(async () => {
    dir = path.join(root, "cached");
    cacheDir = path.join(root, "cache-b");
    await makeFolder(dir);
  });
  const cacheFiles = async () => (await readdir(cacheDir)).filter((f) => f.endsWith(".bin"));

  it("a second load reads the cache and decodes nothing, with the same result", async () => {
    const first = await loadImageFolder(dir, { cacheDir });
    expect(first.cache.hit).toBe(false);
    expect(first.decoded).toBe(13);
    expect(await cacheFiles()).toEqual([path.basename(first.cache.file!)]);
    expect(path.basename(first.cache.file!)).toMatch(/^cached-[0-9a-f]{8}-[0-9a-f]{32}\.bin$/);

    let calls = 0;
    const second = await loadImageFolder(dir, { cacheDir, onProgress: () => calls++ });
    expect(second.cache).toEqual({ hit: true, file: first.cache.file });
    expect(second.decoded).toBe(0);
    expect(calls).toBe(0);
    expect(second.dataset).toEqual(first.dataset);
    expect(second.skipped).toEqual(first.skipped); // the skipped list is cached too
  });

  it("normalisation (scale/mean/std) does not change the key; size and background do", async () => {
    const spec = { ...defaultPreprocess(), mean: [0.5, 0.5, 0.5] as [number, number, number] };
    expect((await loadImageFolder(dir, { cacheDir, preprocess: spec })).cache.hit).toBe(true);
    const black = { ...defaultPreprocess(), background: [0, 0, 0] as [number, number, number] };
    const r = await loadImageFolder(dir, { cacheDir, preprocess: black });
    expect(r.cache.hit).toBe(false);
    expect(r.decoded).toBe(13);
  });

  it("is invalidated when a file is modified, added or removed, keeping one cache file per folder", async () => {
    await loadImageFolder(dir, { cacheDir });
    expect((await loadImageFolder(dir, { cacheDir })).cache.hit).toBe(true);

    const cat = path.join(dir, "cat", "c.webp");
    await writeFile(cat, await gradient(99).webp().toBuffer());
    await utimes(cat, new Date(), new Date(Date.now() + 5000)); // a new mtime even on coarse clocks
    const modified = await loadImageFolder(dir, { cacheDir });
    expect(modified.cache.hit).toBe(false);
    expect((await loadImageFolder(dir, { cacheDir })).cache.hit).toBe(true);

    await put(path.join(dir, "bird", "new.png"), gradient(42).png().toBuffer());
    const added = await loadImageFolder(dir, { cacheDir });
    expect(added.cache.hit).toBe(false);
    expect(added.dataset.count).toBe(11);

    await rm(path.join(dir, "dog", "empty.jpg"));
    const removed = await loadImageFolder(dir, { cacheDir });
    expect(removed.cache.hit).toBe(false);
    expect(removed.skipped.length).toBe(4);
    expect(await cacheFiles()).toEqual([path.basename(removed.cache.file!)]);
  });

  it("a damaged cache file is a miss, not an error, and is rewritten", async () => {
    const { cache } = await loadImageFolder(dir, { cacheDir });
    await writeFile(cache.file!, "garbage");
    const r = await loadImageFolder(dir, { cacheDir });
    expect(r.cache.hit).toBe(false);
    expect((await loadImageFolder(dir, { cacheDir })).cache.hit).toBe(true);
  });

  it("a cache that cannot be written is a warning; the load succeeds", async () => {
    const blocked = path.join(root, "not-a-folder");
    await writeFile(blocked, "a file where the cache folder should be");
    const r = await loadImageFolder(dir, { cacheDir: blocked });
    expect(r.dataset.count).toBe(11); // bird/new.png was added above
    expect(r.cache.warning).toMatch(new RegExp(`^could not write the decode cache ${blocked.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/cached-.*\\.bin: `));
  });
});

describe("loadImageFolder: flat Kaggle names (labelsFrom prefix)", () => {
  it("takes the label from the prefix before the first dot", async () => {
    const dir = path.join(root, "kaggle");
    await put(path.join(dir, "dog.10.jpg"), gradient(1).jpeg().toBuffer());
    await put(path.join(dir, "cat.2.png"), gradient(2).png().toBuffer());
    await put(path.join(dir, "cat.1.jpg"), gradient(3).jpeg().toBuffer());
    await put(path.join(dir, "dog.1.jpeg"), gradient(4).jpeg().toBuffer());
    await put(path.join(dir, "cat.3.extra.jpg"), gradient(5).jpeg().toBuffer());
    await put(path.join(dir, "noprefix.jpg"), gradient(6).jpeg().toBuffer());
    await put(path.join(dir, "sub", "cat.9.jpg"), gradient(7).jpeg().toBuffer()); // sub-folders are not read
    const { dataset: ds, skipped } = await loadImageFolder(dir, { labelsFrom: "prefix", cacheDir: false });
    expect(ds.classes).toEqual(["cat", "dog"]);
    expect(ds.sources).toEqual(["cat.1.jpg", "cat.2.png", "cat.3.extra.jpg", "dog.1.jpeg", "dog.10.jpg"].map((f) => path.join(dir, f)));
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 1, 1]);
    expect(skipped).toEqual([{ path: path.join(dir, "noprefix.jpg"), reason: "no label prefix (expected LABEL.NAME.ext, e.g. cat.123.jpg)" }]);
  });
});

describe("loadImageFolder: errors", () => {
  it("a missing folder", async () => {
    const p = path.join(root, "nowhere");
    await expect(loadImageFolder(p)).rejects.toThrow(new DatasetError(`image folder not found: ${p}`));
  });

  it("a flat folder in folder mode suggests the prefix layout", async () => {
    const dir = path.join(root, "flat");
    await put(path.join(dir, "cat.1.jpg"), gradient(1).jpeg().toBuffer());
    await expect(loadImageFolder(dir, { cacheDir: false })).rejects.toThrow(
      `no class folders in ${dir}: expected one sub-folder per class (${path.join(dir, "cat", "1.jpg")}, ${path.join(dir, "dog", "1.jpg")}, ...); ` +
      "these file names look like label.N.jpg: use labels from the file-name prefix (--labels-from prefix)");
  });

  it("prefix mode on a class-folder layout suggests folder labels", async () => {
    const dir = path.join(root, "nested");
    await put(path.join(dir, "cat", "1.jpg"), gradient(1).jpeg().toBuffer());
    await expect(loadImageFolder(dir, { labelsFrom: "prefix", cacheDir: false })).rejects.toThrow(
      `no images named LABEL.NAME.ext (e.g. cat.123.jpg) in ${dir}; it has sub-folders: use labels from folder names (--labels-from folder)`);
  });

  it("a class whose every file is unusable", async () => {
    const dir = path.join(root, "badclass");
    await put(path.join(dir, "cat", "1.jpg"), gradient(1).jpeg().toBuffer());
    await put(path.join(dir, "dog", "1.jpg"), "");
    await expect(loadImageFolder(dir, { cacheDir: false })).rejects.toThrow(
      `class "dog" in ${dir} has no usable images (1 file skipped, e.g. ${path.join("dog", "1.jpg")}: empty file (0 bytes))`);
  });

  it("an empty class folder", async () => {
    const dir = path.join(root, "emptyclass");
    await put(path.join(dir, "cat", "1.jpg"), gradient(1).jpeg().toBuffer());
    await mkdir(path.join(dir, "dog"));
    await expect(loadImageFolder(dir, { cacheDir: false })).rejects.toThrow(`class "dog" in ${dir} has no usable images`);
  });

  it("size disagreeing with preprocess.size", async () => {
    await expect(loadImageFolder(root, { size: [16, 16], preprocess: defaultPreprocess([32, 32]) })).rejects.toThrow(
      "size 16x16 disagrees with preprocess.size 32x32");
  });
});
